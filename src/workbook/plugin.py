"""The workbook's pytest plugin: points, hidden tests, partial credit, results.

Loaded automatically in every pytest run of this project (an entry point).
It registers the markers graded tests carry:

    @pytest.mark.points(2, hint="Look at Query(ge=..., le=...)")
    @pytest.mark.hidden

adds a `credit` fixture for tests that earn part of their points, and prints a
score line after the run.

When the grader starts pytest, it hands the plugin a results channel (a pipe)
and a key, through file descriptors named in WORKBOOK_CHANNEL. The plugin reads
both as it is imported, before any of the submission's code can run, removes
the variable, and then:

- installs the guard (guard.py): an audit hook and integrity checks;
- signs every line it sends with HMAC-SHA256 and a sequence number; the signer
  lives only in default arguments of its own functions, which the guard lets
  no one but pluggy read;
- runs each test function itself, after checking that it is the one compiled
  from the pristine file, and sends "confirmed" only when the function
  returned and the test machinery is intact. The grader gives points only to
  tests that are both reported passed and confirmed.

With `--workbook-results FILE` (and no channel) it writes the same records,
unsigned, to FILE: for looking at what the plugin sees.
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import hmac
import json
import os
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbook import guard as guard_module
from workbook.listing import marker_points
from workbook.reasons import case_label, is_crash, shorten
from workbook.results import Outcome, clamp_credit, combine, failure_reason, function_id

RESULTS_OPTION = "--workbook-results"
CHANNEL = "WORKBOOK_CHANNEL"
TIMEOUT = "WORKBOOK_TIMEOUT"  # the grader's time limit per test, to dump the stacks just before it
PR_SET_DUMPABLE = 4

Send = Callable[[str, dict[str, Any]], None]


def points_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    return 0.0 if marker is None else marker_points(marker.args, marker.kwargs)


def timeout_of(item: pytest.Item) -> float:
    """The test's own time limit (`@pytest.mark.timeout(n)`), or 0 if it has none."""
    marker = item.get_closest_marker("timeout")
    value = marker.args[0] if marker is not None and marker.args else 0
    return float(value) if isinstance(value, int | float) else 0.0


def signed_sender(fd: int, signer: hmac.HMAC) -> Send:
    def send(
        kind: str,
        data: dict[str, Any],
        _fd: int = fd,
        _signer: hmac.HMAC = signer,
        _seq: list[int] = [0],  # noqa: B006 - the counter lives here, out of reach
        _lock: Any = threading.Lock(),  # noqa: B008 - one lock, made once, out of reach
        _write: Callable[[int, bytes], int] = os.write,
        _dumps: Callable[..., str] = json.dumps,
    ) -> None:
        with _lock:
            _seq[0] += 1
            body = _dumps({**data, "seq": _seq[0], "kind": kind}, sort_keys=True, ensure_ascii=True).encode()
            mac = _signer.copy()
            mac.update(body)
            with contextlib.suppress(OSError):
                _write(_fd, body + b" " + mac.hexdigest().encode() + b"\n")

    return send


def file_sender(path: Path) -> Send:
    def send(kind: str, data: dict[str, Any]) -> None:
        with path.open("a", encoding="utf-8") as results:
            results.write(json.dumps({"kind": kind, **data}) + "\n")

    return send


def open_channel() -> tuple[Send, int] | None:
    """Take the channel and key the grader passed, and forget where they came from."""
    spec = os.environ.pop(CHANNEL, None)
    if not spec:
        return None
    channel, key_fd = (int(part) for part in spec.split(","))
    key = bytearray()
    while chunk := os.read(key_fd, 64):
        key += chunk
    os.close(key_fd)
    os.set_inheritable(channel, False)
    signer = hmac.new(bytes(key), digestmod=hashlib.sha256)
    key[:] = bytes(len(key))
    return signed_sender(channel, signer), channel


def not_dumpable() -> None:
    """Keep other processes of the run (a test's subprocess, say) out of this one's memory."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


class Shield:
    """Stands in sys.meta_path for pytest's assertion rewriter, which holds pytest's config.

    Modules keep a reference to their loader; with the shield as their loader,
    no path leads from a module to pytest's objects."""

    def __init__(self, hook: Any) -> None:
        def find_spec(name: str, path: Any = None, target: Any = None, _hook: Any = hook, _self: Any = self) -> Any:
            spec = _hook.find_spec(name, path, target)
            if spec is not None and spec.loader is _hook:
                spec.loader = _self
            return spec

        def create_module(spec: Any, _hook: Any = hook) -> Any:
            return _hook.create_module(spec)

        def exec_module(module: types.ModuleType, _hook: Any = hook) -> None:
            _hook.exec_module(module)

        self.find_spec, self.create_module, self.exec_module = find_spec, create_module, exec_module
        self.functions = (find_spec, create_module, exec_module)


def build(send: Send, armed: guard_module.Guard | None) -> tuple[type, list[Callable[..., Any]]]:
    """The plugin's hooks, as a class whose methods keep `send` and the guard out of reach.

    Nothing the methods need is in a closure or an attribute: only in default
    arguments, which the guard protects."""
    codes: dict[str, dict[str, types.CodeType]] = {}

    class ResultCollector:
        def __init__(self) -> None:
            self.items: dict[str, pytest.Item] = {}
            self.outcomes: dict[str, Outcome] = {}
            self.points: dict[str, float] = {}

        def pytest_sessionstart(self, session: pytest.Session, _guard: Any = armed) -> None:
            if _guard is not None:  # the pristine conftest is loaded by now
                _guard.watch(m for n, m in list(sys.modules.items()) if n == "conftest" and m is not None)
                hide_pytest_from_marks()

        def pytest_collection_modifyitems(self, items: list[pytest.Item], _guard: Any = armed) -> None:
            self.items = {item.nodeid: item for item in items}
            self.points = {function_id(item.nodeid): points_of(item) for item in items}
            if _guard is not None:
                _guard.watch({id(m): m for item in items if (m := getattr(item, "module", None)) is not None}.values())

        def pytest_collectreport(self, report: pytest.CollectReport, _send: Send = send) -> None:
            if report.failed:
                reason = "the test file could not be loaded: " + failure_reason(report)
                _send("outcome", Outcome(nodeid=report.nodeid, status="error", reason=reason).as_dict())

        def pytest_runtest_logstart(self, nodeid: str, _send: Send = send, _guard: Any = armed) -> None:
            item = self.items.get(nodeid)
            marked = timeout_of(item) if item is not None else 0
            _send("started", {"nodeid": nodeid, "timeout": marked})
            if _guard is not None and _guard.timeout > 0:
                # If the test is still running when the grader stops it, the output says where it was.
                faulthandler.dump_traceback_later(max(_guard.timeout, marked), exit=False, file=_guard.dump_fd)

        def pytest_runtest_logfinish(self, nodeid: str, _guard: Any = armed) -> None:
            if _guard is not None and _guard.timeout > 0:
                faulthandler.cancel_dump_traceback_later()

        @pytest.hookimpl(wrapper=True, trylast=True)
        def pytest_runtest_protocol(self, item: pytest.Item, _guard: Any = armed) -> Any:
            if _guard is not None:
                hide_pytest_from_asserts(_guard.protected)
            return (yield)

        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(self, pyfuncitem: pytest.Function, _send: Send = send, _guard: Any = armed,
                               _codes: dict[str, dict[str, types.CodeType]] = codes) -> object:  # fmt: skip
            """Run the test function here, and confirm to the grader that it returned."""
            function = pyfuncitem.obj
            problem = genuine(pyfuncitem, function, _codes, _guard)
            if problem is not None:
                _send("tamper", {"what": f"{pyfuncitem.nodeid}: {problem}"})
                return None  # pytest runs it as usual; without a confirmation it earns nothing
            funcargs = pyfuncitem.funcargs
            result = function(**{arg: funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames})
            if hasattr(result, "__await__") or hasattr(result, "__aiter__"):
                pytest.fail("async test functions are not supported by the grader", pytrace=False)
            changes = _guard.changes() if _guard is not None else []
            if changes:
                _send("tamper", {"what": "the test machinery was changed: " + "; ".join(changes)})
            else:
                _send("confirmed", {"nodeid": pyfuncitem.nodeid})
            return True

        @pytest.hookimpl(trylast=True)
        def pytest_runtest_logreport(self, report: pytest.TestReport, _send: Send = send) -> None:
            outcome = self.outcomes.get(report.nodeid)
            if outcome is None:
                outcome = self.outcomes[report.nodeid] = Outcome(nodeid=report.nodeid)
            outcome.add_phase(report.when, report.outcome, failure_reason(report), report.duration, is_crash(report))
            for key, value in report.user_properties:
                if key == "credit":  # the lowest credit given counts
                    outcome.credit = min(outcome.credit, clamp_credit(value))
            if report.when == "teardown":
                params = getattr(getattr(self.items.get(report.nodeid), "callspec", None), "params", None)
                if params and outcome.status != "passed":
                    outcome.reason = f"with {case_label(params)}: {outcome.reason}"
                _send("outcome", outcome.as_dict())

        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            runs: dict[str, list[Outcome]] = {}
            for nodeid, outcome in self.outcomes.items():
                if self.points.get(function_id(nodeid), 0):
                    runs.setdefault(function_id(nodeid), []).append(outcome)
            earned = possible = 0.0
            for key, outcomes in runs.items():
                status, _, fraction = combine(outcomes)
                if status != "skipped":
                    possible += self.points[key]
                    earned += self.points[key] * fraction
            if possible:
                terminalreporter.write_sep("-", f"workbook score: {earned:g}/{possible:g} points")

        @pytest.hookimpl(trylast=True)
        def pytest_unconfigure(self, _send: Send = send, _grading: bool = armed is not None) -> None:
            _send("finished", {})
            if _grading:
                # Do not wait for threads the submission left running (an endless
                # loop in a request handler, say): the results are sent.
                sys.stdout.flush()
                os._exit(0)

    methods: list[Callable[..., Any]] = [value for value in vars(ResultCollector).values() if isinstance(value, types.FunctionType)]
    return ResultCollector, methods


def watched_module(name: str) -> bool:
    top = name.split(".", 1)[0]
    return top in {"_pytest", "pytest", "pluggy", "workbook", "httpx", "json", "builtins"} or name in {
        "fastapi.testclient", "starlette.testclient", "anyio.from_thread"
    }


def shield_the_rewriter(protected: guard_module.Protected) -> None:
    from _pytest.assertion.rewrite import AssertionRewritingHook

    for index, finder in enumerate(sys.meta_path):
        if isinstance(finder, AssertionRewritingHook):
            shield = Shield(finder)
            protected.update(shield.functions)
            sys.meta_path[index] = shield
            for module in list(sys.modules.values()):
                spec = getattr(module, "__spec__", None)
                if getattr(module, "__loader__", None) is finder:
                    module.__loader__ = shield  # type: ignore[assignment]  # it loads as the hook it wraps
                if spec is not None and spec.loader is finder:
                    spec.loader = shield


def hide_pytest_from_marks() -> None:
    """`pytest.mark` keeps the config to check marker names as they are used; the grader needs no check."""
    from _pytest.mark import structures

    structures.MARK_GEN._config = None


def hide_pytest_from_asserts(protected: guard_module.Protected) -> None:
    """pytest leaves the current config and test in module globals while a test runs; take them away."""
    from _pytest.assertion import util

    util._config = None
    real = util._reprcompare
    if real is not None and not protected.holds(real):

        def reprcompare(op: str, left: object, right: object, _real: Any = real) -> str | None:
            return _real(op, left, right)  # type: ignore[no-any-return]

        protected.add(reprcompare)
        util._reprcompare = reprcompare


def prepare(guard: guard_module.Guard) -> None:
    """Before the pristine conftest imports the submission: shield pytest, remember the test machinery."""
    for name in ("fastapi.testclient", "starlette.testclient", "httpx", "anyio.from_thread", "json"):
        with contextlib.suppress(ImportError):
            __import__(name)
    shield_the_rewriter(guard.protected)
    guard.watch(m for n, m in list(sys.modules.items()) if watched_module(n) and m is not None)
    guard.remember_finders()
    guard.remember_signals()


def import_app(send: Send) -> bool:
    """Import the submission's app.main before the conftest does; say in one sentence why it fails, if it does.

    Every lesson's conftest imports app.main first thing, so this changes
    nothing for an app that loads, and saves a second run for one that does not."""
    import importlib
    import traceback

    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module("app.main")
        if not hasattr(module, "app"):
            send("import_error", {"problem": "app/main.py defines no `app`: it needs `app = FastAPI()`."})
            return False
        return True
    except SystemExit as exit_:
        said = f": {exit_.code}" if exit_.code not in (None, 0) else ""
        send("import_error", {"problem": f"Importing app.main failed: the code ended the program while being imported{said}."})
    except BaseException as error:  # whatever the submission raises, it gets a sentence
        where = ""
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename.startswith(os.getcwd() + os.sep):
                where = f"{os.path.relpath(frame.filename)} line {frame.lineno}: "
        message = shorten(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        send("import_error", {"problem": f"Importing app.main failed: {where}{message}"})
    finally:
        if os.getcwd() in sys.path:
            sys.path.remove(os.getcwd())
    return False


def genuine(item: pytest.Function, function: Any, codes: dict[str, dict[str, types.CodeType]], guard: Any) -> str | None:
    """Why this call of a test function cannot be confirmed, or None if it can."""
    if not isinstance(function, types.FunctionType):
        return "the test is not a plain function"
    path = str(item.path)
    if path not in codes:
        codes[path] = pristine_codes(item.path, item.config)
    expected = codes[path].get(function.__name__)
    if expected is None or function.__code__ != expected:
        return "the test function is not the one in the pristine test file"
    module = getattr(item, "module", None)
    if module is None or function.__globals__ is not vars(module):
        return "the test function does not belong to its pristine module"
    if guard is not None and not called_by_pytest(item):
        return "the test was not started by pytest"
    return None


def pristine_codes(path: Path, config: pytest.Config) -> dict[str, types.CodeType]:
    """The code of each top-level function in a test file, compiled as pytest compiles it."""
    from _pytest.assertion.rewrite import _rewrite_test

    found: dict[str, types.CodeType] = {}
    with contextlib.suppress(OSError, SyntaxError, ValueError):
        for code in (_rewrite_test(path, config)[1], compile(path.read_bytes(), str(path), "exec", dont_inherit=True)):
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    found.setdefault(const.co_name, const)
    return found


def called_by_pytest(item: pytest.Item) -> bool:
    """Is this hook call pluggy's, from pytest's own `Function.runtest` of this very item?"""
    frame: types.FrameType | None = sys._getframe(3)  # past this function, genuine() and the hook
    for _ in range(12):
        if frame is None:
            return False
        name = frame.f_code.co_filename
        if name.endswith(os.path.join("_pytest", "python.py")) and frame.f_code.co_name == "runtest":
            return frame.f_locals.get("self") is item
        if os.sep + "pluggy" + os.sep not in name:
            return False
        frame = frame.f_back
    return False


def arm() -> tuple[Send | None, guard_module.Guard | None]:
    opened = open_channel()
    if opened is None:
        return None, None
    send, channel = opened
    not_dumpable()

    def report(what: str, _send: Send = send) -> None:
        _send("tamper", {"what": what})

    guard = guard_module.Guard(os.getcwd(), channel, report)
    guard.protected.add(report)
    with contextlib.suppress(ValueError):
        guard.timeout = float(os.environ.pop(TIMEOUT, "0"))
    guard.dump_fd = os.dup(2)  # stderr as it is now, before pytest captures it
    os.set_inheritable(guard.dump_fd, False)
    guard_module.install(guard)
    send("hello", {})
    return send, guard


def setup() -> tuple[type, bool, Callable[..., None]]:
    """Arm the plugin if the grader started this run. Only default arguments keep what it needs."""
    send, guard = arm()
    collector, methods = build(send or (lambda kind, data: None), guard)

    @pytest.hookimpl(tryfirst=True)
    def pytest_load_initial_conftests(early_config: pytest.Config, _guard: Any = guard, _send: Send | None = send) -> None:
        if _guard is not None and _send is not None:
            prepare(_guard)
            if not import_app(_send):
                sys.stdout.flush()
                os._exit(0)

    if guard is not None:
        guard.protected.update([*methods, pytest_load_initial_conftests])
    return collector, guard is not None, pytest_load_initial_conftests


_COLLECTOR, _ARMED, pytest_load_initial_conftests = setup()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        RESULTS_OPTION,
        metavar="FILE",
        default=None,
        help="Write one JSON line per graded test to FILE (what the grader receives, unsigned).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n, hint=None): a graded test worth n points, with an optional hint"
    )
    config.addinivalue_line("markers", "hidden: counted in the score, details withheld from students")
    path = config.getoption(RESULTS_OPTION)
    collector_class = build(file_sender(Path(path)), None)[0] if path and not _ARMED else _COLLECTOR
    config.pluginmanager.register(collector_class(), "workbook-results")


@pytest.fixture
def credit(request: pytest.FixtureRequest) -> Callable[[float], None]:
    """Call `credit(fraction)` to earn only part of the test's points when it passes."""

    def give(fraction: float) -> None:
        request.node.user_properties.append(("credit", clamp_credit(fraction)))

    return give
