"""The grader's guard inside a graded pytest run: a PEP 578 audit hook, and integrity checks.

The submission's code runs in the same interpreter as pytest and the workbook
plugin, so nothing in here is a sandbox (the sandbox is launcher.py). What the
guard does is make the usual ways of reaching pytest's objects or the plugin's
signing key fail loudly, and notice the usual ways of changing the test
machinery, so that the plugin can refuse to confirm results of a run that did.

The audit hook is installed when the plugin is imported, before any of the
submission's code runs, and cannot be removed. For every sensitive event it
finds the *actor*: the nearest frame on the stack that is not a helper acting
for its caller (`inspect`, `traceback.walk_*`, `logging.currentframe`, ctypes,
pytest's traceback wrappers). Code is trusted when its file is in the standard
library, the installed packages, the workbook, or the pristine tests copied in
by the grader; everything else (the submission, files it writes, code it
compiles) is not. An untrusted actor may not:

- take frame objects (`sys._getframe`, `sys._current_frames`, `tb_frame`,
  `gi_frame`, `cr_frame`, `ag_frame`), trace or profile (`sys.settrace`,
  `sys.setprofile`), or add audit hooks;
- walk the garbage collector (`gc.get_objects`, `get_referrers`, `get_referents`:
  refused to everyone);
- use ctypes or `marshal`, make code objects or compile source under a trusted
  file name, or change a trusted function's code or defaults;
- read the code or defaults of the plugin's own functions (the signing key lives
  in default arguments, and only pluggy may look at those, to register hooks);
- open the pristine tests or the results channel for writing, another
  process's memory or environment, or bytecode caches outside trusted folders.

Every refusal is recorded and reported to the grader as a sign of tampering.
"""

from __future__ import annotations

import os
import signal
import sys
import sysconfig
import threading
import types
from collections.abc import Callable, Iterable
from pathlib import Path

TRUSTED, HARNESS, HELPER, UNTRUSTED = "trusted", "harness", "helper", "untrusted"

FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
CODE_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
ALWAYS_REFUSED = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                            "sys._current_exceptions", "sys.addaudithook"})  # fmt: skip
UNTRUSTED_REFUSED = frozenset({"sys.settrace", "sys.setprofile", "marshal.loads", "marshal.load", "marshal.dumps"})
# Helpers that hand frames to their caller: (file name ending, function name or None for all).
FRAME_HELPERS = (
    ("/inspect.py", None),
    ("/traceback.py", "walk_tb"),
    ("/traceback.py", "walk_stack"),
    ("/logging/__init__.py", "<lambda>"),
    ("/_pytest/_code/code.py", None),
    ("/_pytest/_code/source.py", None),
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Protected:
    """Objects whose code must not be read. Held, not just counted by id: a freed object's id is reused."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}

    def add(self, obj: object) -> None:
        self.objects[id(obj)] = obj

    def update(self, objects: Iterable[object]) -> None:
        for obj in objects:
            self.add(obj)

    def holds(self, obj: object) -> bool:
        return self.objects.get(id(obj)) is obj


class Refused(PermissionError):
    """Raised into code the guard stops: the operation is not allowed in a graded run."""


def trusted_roots() -> list[str]:
    paths = sysconfig.get_paths()
    roots = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib") if name in paths}
    roots |= {os.path.dirname(os.__file__), str(Path(__file__).resolve().parent)}
    roots |= {p for p in sys.path if p.endswith(("site-packages", "lib-dynload"))}
    return sorted({os.path.realpath(root) + os.sep for root in roots})


class Guard:
    """The audit hook and the integrity checks of one graded run."""

    def __init__(self, scratch: str, channel: int, report: Callable[[str], None]) -> None:
        self.scratch = os.path.realpath(scratch) + os.sep
        self.roots = tuple(trusted_roots())
        self.own = os.path.realpath(Path(__file__).parent) + os.sep
        self.pluggy = os.sep + "pluggy" + os.sep
        self.harness = tuple(self.scratch + name for name in ("tests" + os.sep, "challenges" + os.sep, "conftest.py"))
        self.pristine = tuple(self.scratch + name for name in ("tests", "challenges", "conftest.py", "pytest.ini"))
        self.pristine_folders = tuple(name + os.sep for name in self.pristine)
        self.channel = channel
        self.report = report
        self.protected = Protected()
        self.kinds: dict[str, str] = {}
        self.busy = threading.local()
        self.refusals: list[str] = []
        self.helpers = FRAME_HELPERS
        self.watched: dict[str, list[tuple[dict[str, object], str, object]]] = {}
        self.signals: dict[int, object] = {}
        self.finders: list[object] = []
        self.timeout = 0.0  # the grader's time limit per test; the plugin dumps the stacks just before it
        self.dump_fd = 2

    # -- who is acting ---------------------------------------------------------

    def kind(self, filename: str) -> str:
        known = self.kinds.get(filename)
        if known is not None:
            return known
        if filename.startswith("<frozen "):
            found = TRUSTED
        elif not os.path.isabs(filename):
            found = UNTRUSTED  # "<string>", or a relative name: compiled at run time
        else:
            real = os.path.realpath(filename)
            if real.startswith(self.harness):
                found = HARNESS
            elif real.startswith(self.scratch):
                found = UNTRUSTED
            elif real.startswith(self.roots):
                found = TRUSTED
            else:
                found = UNTRUSTED
        self.kinds[filename] = found
        return found

    def is_helper(self, code: types.CodeType) -> bool:
        name = code.co_filename
        return any(name.endswith(end) and (func is None or code.co_name == func) for end, func in self.helpers)

    def actor(self, frame: types.FrameType | None) -> types.FrameType | None:
        """The first frame from `frame` upwards that is not a helper acting for its caller."""
        while frame is not None and self.is_helper(frame.f_code):
            frame = frame.f_back
        return frame

    def actor_kind(self, frame: types.FrameType | None) -> str:
        actor = self.actor(frame)
        return TRUSTED if actor is None else self.kind(actor.f_code.co_filename)

    def trusted_file(self, filename: object) -> bool:
        return isinstance(filename, str) and (filename.startswith("<frozen ") or self.kind(filename) in (TRUSTED, HARNESS))

    # -- the audit hook --------------------------------------------------------

    def refuse(self, what: str) -> None:
        if what not in self.refusals:
            self.refusals.append(what)
            self.report(f"the guard refused: {what}")
        raise Refused(f"not allowed while being graded: {what}")

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if getattr(self.busy, "on", False):
            return
        self.busy.on = True
        try:
            self.check(event, args)
        finally:
            self.busy.on = False

    def check(self, event: str, args: tuple[object, ...]) -> None:  # noqa: C901 - one branch per event
        if event == "object.__getattr__":
            obj, name = args[0], args[1]
            if name in CODE_ATTRIBUTES:
                if self.protected.holds(obj) and not self.introspecting_us(sys._getframe(2)):
                    self.refuse(f"reading {name} of the workbook plugin")
            elif name in FRAME_ATTRIBUTES and self.actor_kind(sys._getframe(2)) == UNTRUSTED:
                self.refuse(f"reading {name} (frames lead into pytest)")
        elif event == "object.__setattr__":
            obj, name = args[0], args[1]
            if (
                name in CODE_ATTRIBUTES
                and isinstance(obj, types.FunctionType)
                and self.trusted_file(obj.__code__.co_filename)
                and self.actor_kind(sys._getframe(2)) == UNTRUSTED
            ):
                self.refuse(f"changing {name} of {obj.__qualname__}")
        elif event == "sys._getframe":
            caller = sys._getframe(2)
            if self.actor_kind(caller) == UNTRUSTED or self.reaches_past_untrusted(caller, args[0]):
                self.refuse("sys._getframe (frames lead into pytest)")
        elif event in ALWAYS_REFUSED:
            self.refuse(event)
        elif event in UNTRUSTED_REFUSED or event.startswith("ctypes."):
            if self.actor_kind(sys._getframe(2)) == UNTRUSTED:
                self.refuse(event)
        elif event == "code.__new__":
            if self.trusted_file(args[1]) and self.actor_kind(sys._getframe(2)) == UNTRUSTED:
                self.refuse(f"making a code object that claims to come from {args[1]}")
        elif event == "compile":
            self.check_compile(args[0], args[1])
        elif event == "open":
            self.check_open(args[0], args[1], args[2])

    def introspecting_us(self, frame: types.FrameType | None) -> bool:
        """Is pluggy (registering hooks) or the workbook itself looking at the plugin's functions?"""
        actor = self.actor(frame)
        if actor is None:
            return True
        name = os.path.realpath(actor.f_code.co_filename)
        return name.startswith(self.own) or (self.kind(name) == TRUSTED and self.pluggy in name)

    def reaches_past_untrusted(self, caller: types.FrameType | None, returned: object) -> bool:
        """Did trusted code fetch, on untrusted code's behalf, a frame above that untrusted code?"""
        frame = caller
        while frame is not None and frame is not returned:
            if self.kind(frame.f_code.co_filename) == UNTRUSTED:
                return True
            frame = frame.f_back
        return False

    def check_compile(self, source: object, filename: object) -> None:
        if not self.trusted_file(filename):
            return
        actor = self.actor_kind(sys._getframe(3))
        assert isinstance(filename, str)
        if actor == UNTRUSTED:
            self.refuse(f"compiling code under the name of {filename}")
        if not filename.endswith(".py") or not isinstance(source, str | bytes):
            return  # an AST: pytest rewriting the asserts of a file it read itself
        try:
            with open(filename, "rb") as file:
                on_disk = file.read()
        except OSError:
            self.refuse(f"compiling code under the name of {filename}, which does not exist")
            return
        if (source.encode("utf-8") if isinstance(source, str) else source) != on_disk:
            self.refuse(f"compiling code that is not in {filename} under its name")

    def check_open(self, path: object, mode: object, flags: object) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return  # a file descriptor
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and bool(flags & WRITE_FLAGS)
        )
        if not (writing or path.startswith(("/proc/", "/dev/fd/")) or path.endswith(".pyc")):
            return
        real = os.path.realpath(path)
        if writing and (real in self.pristine or real.startswith(self.pristine_folders)):
            self.refuse(f"writing to the pristine tests ({os.path.relpath(real, self.scratch)})")
        parts = path.split("/")
        if path.startswith("/proc/") and parts[-1] in ("mem", "environ"):
            self.refuse(f"opening {path}")
        if len(parts) >= 2 and parts[-2] == "fd" and parts[-1] == str(self.channel):
            self.refuse("opening the results channel")
        if real.endswith(".pyc") and not real.startswith(self.roots):
            raise Refused("bytecode caches are not read from the submission's folders while grading")

    # -- integrity of the test machinery ---------------------------------------

    def watch(self, modules: Iterable[types.ModuleType]) -> None:
        """Remember the functions and classes of these modules, to notice if one is replaced."""
        for module in modules:
            if module.__name__ in self.watched:
                continue
            entries: list[tuple[dict[str, object], str, object]] = []
            namespace = vars(module)
            for name, value in list(namespace.items()):
                if not isinstance(value, types.FunctionType | types.BuiltinFunctionType | type):
                    continue
                entries.append((namespace, name, value))
                if isinstance(value, type) and value.__module__ == module.__name__:
                    members = value.__dict__
                    for member_name, member in list(members.items()):
                        if isinstance(member, METHOD_TYPES):
                            entries.append((members, member_name, member))  # type: ignore[arg-type]
            self.watched[module.__name__] = entries

    def remember_finders(self) -> None:
        self.finders = list(sys.meta_path)

    def remember_signals(self) -> None:
        for number in signal.valid_signals():
            try:
                self.signals[number] = signal.getsignal(number)
            except (OSError, ValueError):
                continue

    def changes(self) -> list[str]:
        """What has been replaced in the watched modules, or which signal handler installed, since."""
        found = []
        for module, entries in self.watched.items():
            for namespace, name, original in entries:
                if namespace.get(name) is not original:
                    found.append(f"{module}.{name} was replaced")
                    break
            if len(found) >= 3:
                break
        if len(sys.meta_path) != len(self.finders) or any(a is not b for a, b in zip(sys.meta_path, self.finders, strict=True)):
            found.append("an import hook was added to sys.meta_path")
        for number, handler in self.signals.items():
            try:
                if signal.getsignal(number) is not handler:
                    found.append(f"a handler for signal {number} was installed")
                    break
            except (OSError, ValueError):
                continue
        return found


METHOD_TYPES = (types.FunctionType, staticmethod, classmethod, property, types.BuiltinFunctionType)


def install(guard: Guard) -> None:
    sys.addaudithook(guard.hook)
