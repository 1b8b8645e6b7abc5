"""Submissions that try to break or fool the grader, built in temporary folders.

Each entry of CORPUS is a recipe applied to a copy of the tiny lesson (see
conftest.py); TEAPOT_ATTACKS apply to a Part 1 app whose task routes all answer
418, which honestly earns only the points of the tests that never reach a task
route. Every attack tries all the routes it knows and swallows its own errors,
so that one refused route does not stop it trying the next.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "workbook-hostile-marker"  # in the command line of every process an attack starts

# Tries every way this test suite knows into pytest's objects, then makes every test pass.
FORCE_PASSES = '''
import gc, os, sys, threading, signal

def _configs():
    found = []
    def take(value):
        if type(value).__name__ == "Config" and value not in found:
            found.append(value)
    for attempt in (
        lambda: [take(o) for o in gc.get_objects()],
        lambda: [take(getattr(f, "config", None)) for f in sys.meta_path],
        lambda: [take(getattr(getattr(m, "__loader__", None), "config", None)) for m in list(sys.modules.values())],
        lambda: take(sys.modules["_pytest.assertion.util"]._config),
        lambda: take(sys.modules["_pytest.debugging"].pytestPDB._config),
        lambda: [take(getattr(a, "config", None)) for t in threading.enumerate() for a in getattr(t, "_args", ())],
        lambda: _from_frames(sys._getframe(), take),
        lambda: _from_frames(_raise_and_catch(), take),
        lambda: _from_signal(take),
        lambda: [take(c.cell_contents) for c in (sys.modules["_pytest.assertion.util"]._reprcompare.__closure__ or ())
                 if hasattr(c.cell_contents, "config") or type(c.cell_contents).__name__ == "Config"],
    ):
        try:
            attempt()
        except BaseException:
            pass
    return found

def _raise_and_catch():
    try:
        raise ValueError
    except ValueError as error:
        return error.__traceback__.tb_frame

def _from_frames(frame, take):
    while frame is not None:
        for value in list(frame.f_locals.values()):
            take(value)
            take(getattr(value, "config", None))
        frame = frame.f_back

def _from_signal(take):
    seen = []
    previous = signal.signal(signal.SIGUSR1, lambda number, frame: seen.append(frame))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, previous)
    for frame in seen:
        _from_frames(frame, take)

class ForcePass:
    def pytest_runtest_makereport(self, item, call):
        call.excinfo = None

    def pytest_runtest_logreport(self, report):
        report.outcome = "passed"
        report.longrepr = None

def force():
    import pytest
    wrapper = pytest.hookimpl(wrapper=True, tryfirst=True)
    def makereport(item, call):
        report = yield
        report.outcome, report.longrepr = "passed", None
        return report
    for config in _configs():
        try:
            config.pluginmanager.register(ForcePass(), f"force-{id(config)}")
        except BaseException:
            pass
        try:
            for plugin in config.pluginmanager.get_plugins():
                for name in ("pytest_runtest_logreport", "pytest_pyfunc_call"):
                    if hasattr(plugin, name) and type(plugin).__name__ == "ResultCollector":
                        setattr(plugin, name, lambda *a, **k: True)
        except BaseException:
            pass
    # And the machinery itself, whatever the config.
    try:
        import _pytest.runner as runner
        original = runner.call_and_report
        def call_and_report(item, when, log=True, **kwargs):
            report = original(item, when, log=False, **kwargs)
            report.outcome, report.longrepr = "passed", None
            if log:
                item.ihook.pytest_runtest_logreport(report=report)
            return report
        runner.call_and_report = call_and_report
    except BaseException:
        pass
    try:
        import workbook.plugin as plugin
        plugin.genuine = lambda *a, **k: None
        plugin.failure_reason = lambda report: ""
    except BaseException:
        pass
'''

# Lines that look like the plugin's records, written wherever the results might go.
FORGE_LINES = '''
import json, os, sys

def forge():
    lines = []
    for test in ("tests/test_basic.py::test_health", "tests/test_basic.py::test_missing_route_is_404",
                 "challenges/echo/test_echo.py::test_echo"):
        for seq in range(1, 50):
            for kind in ("outcome", "confirmed"):
                body = json.dumps({"kind": kind, "nodeid": test, "status": "passed", "reason": "",
                                   "credit": 1000, "seq": seq}, sort_keys=True)
                lines.append(body + " " + "0" * 64)
                lines.append(body)
    data = ("\\n".join(lines) + "\\n").encode()
    for fd in range(1, 64):
        try:
            os.write(fd, data)
        except OSError:
            pass
    for path in [a for a in sys.argv if a.endswith(".jsonl")] + ["/proc/self/fd/3", "/dev/fd/4"]:
        try:
            with open(path, "a") as file:
                file.write(data.decode())
        except OSError:
            pass
'''

TEST_REWRITE = '''
import os
def rewrite_tests():
    for folder in ("tests", "challenges/echo", "challenges"):
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            for action in (
                lambda: open(path, "w").write("def test_everything():\\n    pass\\n"),
                lambda: os.unlink(path),
                lambda: os.rename(folder, folder + "-gone"),
            ):
                try:
                    action()
                except OSError:
                    pass
    try:
        with open("conftest.py", "w") as conftest:
            conftest.write("")
    except OSError:
        pass
'''


def once(base: Path, name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()` (JSON) once for the whole test session, even across xdist's workers.

    `base` is the session's temporary folder; xdist gives each worker its own
    folder inside a shared one, where the first worker leaves the result."""
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    result = shared / f"{name}.json"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            result.write_text(json.dumps(compute()), encoding="utf-8")
    shared_result: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return shared_result


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def add_to_main(folder: Path, code: str) -> None:
    main = folder / "app" / "main.py"
    main.write_text(main.read_text() + "\n" + textwrap.dedent(code) + "\n")


def in_health(folder: Path, body: str) -> None:
    """Run `body` inside the health route, before it answers."""
    main = folder / "app" / "main.py"
    source = main.read_text()
    assert '    return {"status": "ok"}' in source
    main.write_text(source.replace('    return {"status": "ok"}', textwrap.indent(textwrap.dedent(body), "    ") + '\n    return {"status": "ok"}'))


def at_import(folder: Path, module: str, call: str) -> None:
    write(folder / "app" / "_attack.py", module)
    (folder / "app" / "__init__.py").write_text(f"from app._attack import *\n{call}\n")


@dataclass
class Entry:
    name: str
    build: Callable[[Path], object]  # a lambda may do two steps as a tuple
    honest: float  # the most this submission earns on the tiny part, honestly
    problem: bool = False  # whether its code must be reported as not loading


def spawn_survivors(folder: Path) -> None:
    """At import: processes in new sessions, double-forked, meant to outlive the run."""
    write(folder / "app" / "_attack.py", f'''
    import os, subprocess, sys
    def survive():
        code = "import time; time.sleep(300)"
        for _ in range(3):
            try:
                subprocess.Popen([sys.executable, "-c", code, "{MARKER}"], start_new_session=True,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                pass
        try:
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", code, "{MARKER}"])
                os._exit(0)
        except OSError:
            pass
    ''')
    (folder / "app" / "__init__.py").write_text("from app._attack import survive\nsurvive()\n")


def write_outside(targets: dict[str, Path]) -> Callable[[Path], None]:
    """At import: try to write a marker file into each of `targets` (and /tmp, HOME, the venv)."""

    def build(folder: Path) -> None:
        paths = [str(path) for path in targets.values()]
        write(folder / "app" / "_attack.py", f'''
        import os, site, sys, glob
        def escape():
            places = {paths!r} + ["/tmp", os.path.expanduser("~"), *site.getsitepackages()]
            # The workbook's pristine tests, found from the interpreter, and the original folder via /proc.
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
            places += glob.glob(os.path.join(root, "lessons", "*", "tests"))
            for link in glob.glob("/proc/*/cwd"):
                try:
                    places.append(os.readlink(link))
                except OSError:
                    pass
            for place in places:
                for name in ("{MARKER}.txt", "{MARKER}.pth"):
                    try:
                        with open(os.path.join(place, name), "w") as file:
                            file.write("import sys; sys.stderr.write('pth ran')\\n")
                    except OSError:
                        pass
            for place in (".", "/tmp", os.path.expanduser("~")):
                try:
                    os.mkfifo(os.path.join(place, "results.jsonl"))
                    os.mkdir(os.path.join(place, "results.json"))
                except OSError:
                    pass
        ''')
        (folder / "app" / "__init__.py").write_text("from app._attack import escape\nescape()\n")

    return build


def corpus(targets: dict[str, Path]) -> list[Entry]:
    """The hostile submissions for the tiny part. `targets`: folders no run may write to."""
    return [
        Entry("syntax-error", lambda f: add_to_main(f, "def broken(:\n    pass"), 0, problem=True),
        Entry("import-error", lambda f: add_to_main(f, "import a_module_nobody_has"), 0, problem=True),
        Entry("missing-app", lambda f: shutil.rmtree(f / "app"), 0, problem=True),
        Entry("no-app-object", lambda f: (f / "app" / "main.py").write_text("application = None\n"), 0, problem=True),
        Entry("sys-exit-at-import", lambda f: add_to_main(f, "import sys\nsys.exit('bye')"), 0, problem=True),
        Entry("os-exit-at-import", lambda f: add_to_main(f, "import os\nos._exit(0)"), 0, problem=True),
        Entry("sys-exit-in-route", lambda f: in_health(f, "import sys\nsys.exit(3)"), 3),
        Entry("os-exit-in-route", lambda f: in_health(f, "import os\nos._exit(0)"), 3),
        Entry("loop-at-import", lambda f: add_to_main(f, "while True:\n    pass"), 0, problem=True),
        Entry("loop-in-route", lambda f: in_health(f, "while True:\n    pass"), 3),
        Entry("conftest-top-level", lambda f: write(f / "conftest.py", CONFTEST_FORCING), 5),
        Entry("conftest-nested", lambda f: (write(f / "app" / "conftest.py", CONFTEST_FORCING),
                                            write(f / "tests" / "deeper" / "conftest.py", CONFTEST_FORCING)), 5),  # fmt: skip
        Entry("plugin-from-app-init", lambda f: at_import(f, FORCE_PASSES, "force()"), 5),
        Entry("plugin-in-a-route", lambda f: (write(f / "app" / "_attack.py", FORCE_PASSES),
                                              in_health(f, "from app._attack import force\nforce()")), 5),  # fmt: skip
        Entry("pytest-and-client-monkeypatch", lambda f: at_import(f, MONKEYPATCH, "patch()"), 5),
        Entry("fake-result-lines", lambda f: (at_import(f, FORGE_LINES, "forge()"),
                                              in_health(f, "from app._attack import forge\nforge()")), 5),  # fmt: skip
        Entry("rewrite-tests", lambda f: at_import(f, TEST_REWRITE, "rewrite_tests()"), 5),
        Entry("steal-the-signer", lambda f: (write(f / "app" / "_attack.py", STEAL_THE_SIGNER),
                                             in_health(f, "from app._attack import steal\nsteal()")), 5),  # fmt: skip
        Entry("top-level-init", lambda f: write(f / "__init__.py", FORCE_PASSES + "\nforce()\n"), 5),
        Entry("impostor-module", lambda f: write(f / "httpx.py", "raise SystemExit('impostor')\n"), 5),
        Entry("megabytes-of-output", lambda f: (add_to_main(f, "print('x' * 20_000_000)"),
                                                in_health(f, "print('y' * 20_000_000)")), 5),  # fmt: skip
        Entry("huge-files", lambda f: in_health(f, HUGE_FILES), 5),
        Entry("memory-hog", lambda f: add_to_main(f, "hog = bytearray(4 * 1024**3)"), 0, problem=True),
        Entry("new-sessions", spawn_survivors, 5),
        Entry("writes-outside", write_outside(targets), 5),
        Entry("peek-and-kill", lambda f: in_health(f, PEEK_AND_KILL), 3),
        Entry("markup-in-reason", lambda f: in_health(f, 'return {"status": "[/x] [bold]"}'), 3),
        Entry("compile-memory-error", lambda f: add_to_main(f, "x = " + "-" * 100_000 + "1"), 0, problem=True),
        Entry("symlinks", symlinks, 5),
    ]


# Takes the plugin's signer from its functions' defaults, or calls its hooks, to sign passes for every test.
STEAL_THE_SIGNER = '''
import inspect, sys, types

TESTS = ["tests/test_basic.py::test_health", "tests/test_basic.py::test_missing_route_is_404",
         "challenges/echo/test_echo.py::test_echo"]

def steal():
    plugin = sys.modules.get("workbook.plugin")
    if plugin is None:
        return
    functions = [v for v in vars(plugin).values() if isinstance(v, types.FunctionType)]
    for cls in [v for v in vars(plugin).values() if isinstance(v, type)]:
        functions += [v for v in vars(cls).values() if isinstance(v, types.FunctionType)]
    readers = [
        lambda f: f.__defaults__,
        lambda f: tuple((f.__kwdefaults__ or {}).values()),
        lambda f: types.FunctionType.__dict__["__defaults__"].__get__(f),
        lambda f: tuple(p.default for p in inspect.signature(f).parameters.values()),
        lambda f: tuple(inspect.getfullargspec(f).defaults or ()),
        lambda f: tuple(p.default for p in __import__("fastapi.dependencies.utils", fromlist=["x"]).get_typed_signature(f).parameters.values()),
    ]
    for function in functions:
        for read in readers:
            try:
                values = read(function) or ()
            except BaseException:
                continue
            for value in values:
                if callable(value) and getattr(value, "__name__", "") in ("send", "report"):
                    for test in TESTS:
                        try:
                            value("outcome", {"nodeid": test, "status": "passed", "reason": "", "credit": 1.0})
                            value("confirmed", {"nodeid": test})
                        except BaseException:
                            pass
    class Report:
        when, outcome, passed, skipped, failed, longrepr, user_properties, duration = "teardown", "passed", True, False, False, None, [], 0.0
    collector = getattr(plugin, "_COLLECTOR", None)
    if collector is not None:
        fake = collector.__new__(collector)
        fake.items, fake.outcomes, fake.points = {}, {}, {}
        for test in TESTS:
            for hook in ("pytest_runtest_logreport", "pytest_pyfunc_call"):
                try:
                    report = Report(); report.nodeid = test
                    getattr(collector, hook)(fake, report)
                except BaseException:
                    pass
'''

CONFTEST_FORCING = '''
import pytest

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome, report.longrepr = "passed", None
    return report

def pytest_collection_modifyitems(items):
    items[:] = []
'''

MONKEYPATCH = '''
def patch():
    class Anything:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __bool__(self): return True
        def __getattr__(self, name): return Anything()
        def __call__(self, *a, **k): return Anything()
        def __getitem__(self, key): return Anything()
    for attempt in (
        lambda: setattr(__import__("starlette.testclient", fromlist=["x"]).TestClient, "request", lambda *a, **k: Anything()),
        lambda: setattr(__import__("httpx").Client, "send", lambda *a, **k: Anything()),
        lambda: setattr(__import__("httpx").Response, "json", lambda *a, **k: Anything()),
        lambda: setattr(__import__("builtins"), "AssertionError", type("Quiet", (Exception,), {})),
    ):
        try:
            attempt()
        except BaseException:
            pass
'''

HUGE_FILES = '''
import os
for index in range(16):
    for place in (".", "/tmp", os.path.expanduser("~")):
        try:
            with open(os.path.join(place, f"huge-{index}.bin"), "wb") as file:
                for _ in range(128):
                    file.write(b"x" * 1024 * 1024)
        except OSError:
            pass
'''

PEEK_AND_KILL = '''
import os, signal
secrets = []
for path in (f"/proc/{os.getppid()}/environ", "/proc/1/environ", "/proc/self/environ"):
    try:
        secrets.append(open(path, "rb").read().decode(errors="replace"))
    except OSError:
        pass
for target in (os.getppid(), -1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
return {"status": "|".join(secrets)}
'''


def symlinks(folder: Path) -> None:
    (folder / "app" / "passwords.txt").symlink_to("/etc/passwd")
    (folder / "outside").symlink_to("/", target_is_directory=True)
    (folder / "app" / "helpers.py").symlink_to("/etc/hostname")


def zipped(source: Path, archive: Path, top: str | None = "submission") -> None:
    """Zip a submission folder, inside one top folder (as people do) or at the top."""
    with zipfile.ZipFile(archive, "w") as zipped_file:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                name = path.relative_to(source).as_posix()
                zipped_file.write(path, f"{top}/{name}" if top else name)


def unsafe_zip(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as zipped_file:
        zipped_file.writestr("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n")
        zipped_file.writestr("../../escaped.py", "print('out')\n")


# -- Part 1: an app whose task routes all answer 418 ------------------------------

TEAPOT_ROUTER = '''
"""Every task route answers 418: the honest score is only what needs no task route."""

from fastapi import APIRouter, HTTPException

from app.models import TaskCreate, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])


def teapot() -> HTTPException:
    return HTTPException(status_code=418, detail="I'm a teapot")


@router.post("/", status_code=201)
async def create_task(task_in: TaskCreate) -> None:
    raise teapot()


@router.get("/")
async def list_tasks() -> None:
    raise teapot()


@router.get("/{task_id}")
async def read_task(task_id: int) -> None:
    raise teapot()


@router.patch("/{task_id}")
async def update_task(task_id: int, task_in: TaskUpdate) -> None:
    raise teapot()


@router.delete("/{task_id}", status_code=204)
async def delete_task(task_id: int) -> None:
    raise teapot()
'''


def reach(folder: Path) -> None:
    """An app that reports, in its health check, any way it found into pytest's objects."""
    write(folder / "app" / "_reach.py", REACH)
    in_health(folder, """
    from app import _reach
    found = _reach.AT_IMPORT + _reach.search()
    if found:
        return {"status": "reached " + "; ".join(found)}
    """)
    (folder / "app" / "__init__.py").write_text("from app import _reach\n")


def teapot(part1: Path, target: Path) -> Path:
    shutil.copytree(part1, target, ignore=shutil.ignore_patterns("__pycache__", "tasks.db"))
    (target / "app" / "routers" / "tasks.py").write_text(TEAPOT_ROUTER.lstrip())
    return target


def teapot_attacks() -> dict[str, Callable[[Path], object]]:
    """The attacks that once raised an honest score to 58/58, each on its own copy of the 418 app."""
    forge = FORGE_LINES.replace("tests/test_basic.py::test_health", "tests/test_create.py::test_create_task")
    return {
        "plugin-at-import": lambda f: at_import(f, FORCE_PASSES, "force()"),
        "forged-lines": lambda f: at_import(f, forge, "forge()\nimport atexit\natexit.register(forge)"),
        "rewritten-tests": lambda f: at_import(f, TEST_REWRITE, "rewrite_tests()"),
        "plugin-and-patches-in-a-route": lambda f: (
            write(f / "app" / "_attack.py", FORCE_PASSES + MONKEYPATCH),
            (f / "app" / "main.py").write_text((f / "app" / "main.py").read_text().replace(
                'return {"status": "ok"}', 'from app._attack import force, patch\n    force(); patch()\n    return {"status": "ok"}')),
        ),
        "top-level-init": lambda f: write(f / "__init__.py", FORCE_PASSES + "\nforce()\n"),
    }


# Searches, from everything a module can reach without frames or the garbage
# collector, for pytest's objects or the plugin's signer: what an attacker
# would need to change results. The health route answers what it found.
REACH = '''
import collections, logging, signal, sys, threading, types

WANTED = {"Config", "PytestPluginManager", "Session", "Function", "HMAC", "HookRelay", "Guard", "ResultCollector"}

def neighbours(value):
    found = []
    try:
        namespace = object.__getattribute__(value, "__dict__")
    except Exception:
        namespace = None
    if isinstance(namespace, (dict, types.MappingProxyType)):
        found += [(f".{k}", v) for k, v in list(namespace.items())]
    if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        found += [(f"[{i}]", v) for i, v in enumerate(list(value))]
    elif isinstance(value, dict):
        found += [(f"[{k!r:.30}]", v) for k, v in list(value.items())]
    if isinstance(value, types.FunctionType):
        found += [(f".__closure__[{i}]", c.cell_contents) for i, c in enumerate(value.__closure__ or ())
                  if c.cell_contents is not None] + [(".__globals__", value.__globals__)]
    if isinstance(value, (types.MethodType, types.BuiltinMethodType)):
        found += [(".__self__", getattr(value, "__self__", None))]
    if isinstance(value, threading.Thread):
        found += [(f".{a}", getattr(value, a, None)) for a in ("_target", "_args", "_kwargs")]
    for slot in getattr(type(value), "__slots__", ()) if not isinstance(value, type) else ():
        try:
            found.append((f".{slot}", object.__getattribute__(value, slot)))
        except Exception:
            pass
    return found

def search(limit=400_000):
    roots = [("sys.modules", dict(sys.modules)), ("sys.meta_path", list(sys.meta_path)),
             ("sys.path_hooks", list(sys.path_hooks)), ("sys.path_importer_cache", dict(sys.path_importer_cache)),
             ("threads", threading.enumerate()), ("logging", logging.root),
             ("signals", [signal.getsignal(n) for n in signal.valid_signals() if n not in (signal.SIGKILL, signal.SIGSTOP)]),
             ("streams", [sys.stdout, sys.stderr, sys.stdin]), ("hooks", [sys.excepthook, sys.unraisablehook, threading.excepthook]),
             ("classes", object.__subclasses__())]
    seen, queue, paths = set(), collections.deque(), {}
    for name, value in roots:
        seen.add(id(value)); paths[id(value)] = name; queue.append(value)
    hits = []
    while queue and len(seen) < limit:
        value = queue.popleft()
        try:
            wanted = type(value).__name__ in WANTED or (isinstance(value, types.FunctionType) and "<locals>.send" in value.__qualname__)
        except Exception:
            continue
        if wanted:
            hits.append(f"{type(value).__name__} at {paths[id(value)]}")
            continue
        if isinstance(value, (str, bytes, int, float, bool, type(None), complex)):
            continue
        try:
            children = neighbours(value)
        except Exception:
            continue
        for step, child in children:
            if id(child) not in seen:
                seen.add(id(child)); paths[id(child)] = paths[id(value)] + step; queue.append(child)
    if queue:
        hits.append(f"the search stopped after {len(seen)} objects")
    return sorted(hits)[:5]

AT_IMPORT = search()
'''
