"""Grade a submission: the pristine tests of a part, run against the submission's code.

1. Copy the submission (a folder or a zip) to a scratch folder; throw away any
   tests, settings or impostor modules it brings.
2. Put the part's pristine tests (and the grader's own pytest settings) in.
3. Check that the code compiles; if not, every test scores 0 and one sentence
   says where the problem is.
4. Run pytest in the sandbox (see sandbox.py and launcher.py). The workbook
   plugin reports each test over a pipe the grader opened, every line signed
   with a key only the grader and the plugin know (see plugin.py). The grader
   times each test itself, from the plugin's record of when it started: a test
   that hangs or kills the process costs that test only, and pytest starts
   again for the tests that have not run, until all have, the watchdog's time
   is up, or the runs stop making progress.
   If no test could even start, import `app.main` alone to say why.
5. Return a complete scorecard: every graded test, even those that never ran.
   Points come from the pristine files, never from the run: a test earns its
   points only when the plugin saw its function return, credit is clamped to
   [0, 1], and anything unsigned or unexpected on the channel is flagged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import linecache
import math
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbook import manifest, sandbox
from workbook.catalog import Part
from workbook.listing import LESSON, GradedTest, graded_tests, group_folder
from workbook.reasons import describe_conftest_crash, describe_timeout, shorten, stuck_function
from workbook.results import TIMEOUT_REASON, Outcome, Scorecard, TestResult, combine, function_id

__all__ = ["Scorecard", "TestResult", "grade"]  # the result types live in results.py

PER_TEST_TIMEOUT = 60
WATCHDOG = 600
IMPORT_DEADLINE = 60
HANG_FOLLOW_UP = 3  # seconds per test once one has hung, with stop_on_repeated_hang
DUMP_GRACE = 1.0  # the plugin dumps the stacks when a test's time is up; the grader stops it this much later
APP_LOADED = "<app.main loaded>"
IMPORTED = "<conftest loaded>"

GRADER_INI = """\
[pytest]
pythonpath = .
addopts = --import-mode=importlib -p no:cacheprovider
"""

# Plugins a graded run does without: each would hand the code under test a way
# into pytest's own objects (a debugger hook, a timer thread holding the test)
# or is not needed. The grader times tests itself.
# Plugins installed beside the workbook (Hypothesis, through Schemathesis, walks
# the garbage collector at start-up, which the guard refuses) stay out too, and
# so do those no graded test uses (coverage runs in the full-coverage challenge's
# own pytest process): each costs start-up time in every run.
SLOW_PLUGINS = ("hypothesispytest", "schemathesis")  # seconds of CPU to load, in any pytest run
DISABLED_PLUGINS = ("cacheprovider", "xdist", "xdist.looponfail", "randomly", "timeout", "debugging", "pastebin",
                    "doctest", "pytester", "legacypath", *SLOW_PLUGINS, "anyio", "pytest_cov", "platformdirs")  # fmt: skip


def without_plugins(names: tuple[str, ...]) -> list[str]:
    """The pytest options that keep these plugins from loading."""
    return [arg for name in names for arg in ("-p", f"no:{name}")]


CRASHED = "the program ended during this test (os._exit(), a crash, or no memory left?)"
UNCONFIRMED = "its result could not be confirmed: the test function was not seen to return"


def grade(
    part: Part,
    submission: Path,
    challenges: list[str] | None = None,
    include_lesson: bool = True,
    per_test_timeout: float = PER_TEST_TIMEOUT,
    watchdog: float = WATCHDOG,
    keep: Path | None = None,
    stop: threading.Event | None = None,
    stop_on_repeated_hang: bool = False,
    hide: list[Path] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    cpus: list[int] | None = None,
) -> Scorecard:
    """Grade `submission` (a folder or a .zip) on the part's lesson tests and the given challenges (default: all).

    The runs cannot see the workbook, the submission's own folder, or the folders in `hide`.
    `stop_on_repeated_hang` (for `check`, where a quick answer matters more than
    a complete one): once a test has hung, the others get HANG_FOLLOW_UP seconds
    each. `stop` (an event) ends the grading soon after it is set.
    `on_progress(run, failed)` is told, as each test's result comes in, how
    many tests have run so far and how many of them did not pass. With `cpus`
    (from grade-all, one share per job), every run stays on those cores."""
    started = time.monotonic()
    deadline = started + watchdog
    slugs = [c.slug for c in part.challenges()] if challenges is None else challenges
    groups = ([LESSON] if include_lesson else []) + slugs
    expected = graded_tests(part.folder, groups)
    work = Path(tempfile.mkdtemp(prefix="workbook-grade-"))
    try:
        scratch = work / "submission"
        scratch.mkdir()
        source = submission
        if submission.is_file() and submission.suffix.lower() == ".zip":
            (work / "unzipped").mkdir()
            source = sandbox.extract_zip(submission, work / "unzipped")
        source = sandbox.unwrap(source)
        notes = [f"Not copied: {item}" for item in sandbox.copy_submission(source, scratch)]
        # Read from the copy: only regular files of bounded size are there.
        notes += submission_differences(part, scratch, groups)
        notes += [f"Not used: {name} (the grader brings its own tests and settings)"
                  for name in install_pristine_tests(part, scratch, groups)]  # fmt: skip
        card = Scorecard(part.name, str(submission), [], notes=notes, manifest=sandbox.manifest(scratch),
                         graded_groups=groups)  # fmt: skip
        card.notes += ran_pristine(part, groups, card.manifest)
        if keep is not None:
            sandbox.remove(keep)
            shutil.copytree(scratch, keep, symlinks=True)
        card.problem = compile_problem(scratch) or missing_app(scratch)
        hidden = [part.root, submission.resolve(), *(hide or [])]
        run = Runner(work, groups, per_test_timeout, deadline, stop, stop_on_repeated_hang, hidden, on_progress, cpus)
        why_not_run = card.problem or ""
        if not card.problem:
            why_not_run = run.all_tests()
            card.notes += run.sandbox_notes()
            card.flags += run.flags
            card.problem = run.import_error
            why_not_run = card.problem or why_not_run
        if not run.outcomes and not card.problem and not run.started_any:
            # Nothing ran at all: find out whether the app itself fails to load.
            card.problem = import_problem(work, deadline, stop, hidden, cpus)
            why_not_run = card.problem or why_not_run
        card.results = [score(test, run.outcomes, run.confirmed, why_not_run) for test in expected]
        card.seconds = round(time.monotonic() - started, 2)
        return card
    finally:
        sandbox.remove(work)


def install_pristine_tests(part: Part, scratch: Path, groups: list[str]) -> list[str]:
    """Replace whatever tests and settings the submission brings with the part's own; say what went."""
    # Only the top folder matters: pytest reads its settings and conftest.py
    # from there (the grader stops it looking higher), and -P keeps Python
    # from importing modules from there at start-up.
    replaced = [name for name in sandbox.CONTROL_FILES if (scratch / name).exists() and name != "conftest.py"]
    for name in sandbox.CONTROL_FILES:
        sandbox.remove(scratch / name)
    for top in ("tests", "challenges"):
        sandbox.remove(scratch / top)
    shutil.copyfile(part.folder / "conftest.py", scratch / "conftest.py")
    (scratch / "pytest.ini").write_text(GRADER_INI, encoding="utf-8")
    for group in groups:
        folder = group_folder(group)
        shutil.copytree(
            part.folder / folder,
            scratch / folder,
            ignore=shutil.ignore_patterns("__pycache__", "README.md"),
        )
    return replaced


def pristine_files(part: Part, groups: list[str]) -> dict[str, str]:
    """SHA-256 of the part's pristine graded files in these groups, by path relative to the part.

    From the manifest the package ships (manifest.py); a workbook without one
    (a test's tiny workbook) has its files hashed as they are."""
    digests = manifest.expected(part) or {
        path.as_posix(): manifest.sha256((part.folder / path).read_bytes()) for path in manifest.graded_files(part)
    }
    folders = tuple(f"{group_folder(group).as_posix()}/" for group in groups)
    return {path: digest for path, digest in digests.items() if path == "conftest.py" or path.startswith(folders)}


def submission_differences(part: Part, source: Path, groups: list[str]) -> list[str]:
    """Say which of the submission's own copies of the graded files differ (they are never run)."""
    folders = tuple(f"{group_folder(group).as_posix()}/" for group in groups) + ("conftest.py",)
    changed = [line for line in manifest.compare(part, source) if " is missing;" not in line and line.startswith(folders)]
    if not changed:
        return []
    shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
    return [f"The submission's own tests are never run: {shown}."]


def ran_pristine(part: Part, groups: list[str], ran: dict[str, str]) -> list[str]:
    """A note if the tests that ran are not the ones the workbook's manifest vouches for."""
    off = [path for path, digest in pristine_files(part, groups).items() if ran.get(path) != digest]
    if not off:
        return []
    return [f"Warning: {', '.join(off[:3])} did not match the workbook's manifest when it ran "
            "(see `workbook manifest --check`)."]  # fmt: skip


def compile_problem(scratch: Path) -> str | None:
    """One sentence about the first file of app/ that does not compile, or None."""
    for path in sorted((scratch / "app").rglob("*.py")):
        relative = path.relative_to(scratch).as_posix()
        try:
            source = path.read_bytes()
            compile(source, relative, "exec", dont_inherit=True)
        except SyntaxError as error:
            kind = type(error).__name__
            message = error.msg.rstrip(".?!") + ("?" if error.msg.endswith("?") else ".")
            return f"{relative} line {error.lineno}: {kind}: {message} Fix it, then check again."
        except ValueError as error:  # e.g. a null byte in the file
            return f"{relative} could not be read as Python ({error})."
        except (MemoryError, RecursionError):
            return f"{relative} is too deeply nested for Python to compile: simplify its expressions."
        except OSError as error:
            return f"{relative} could not be read ({error.strerror or error})."
    return None


TRACEBACK_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def missing_app(scratch: Path) -> str | None:
    if not (scratch / "app" / "main.py").is_file():
        return "There is no app/main.py in the submission: give the folder that holds app/."
    return None


def import_problem(
    work: Path, deadline: float, stop: threading.Event | None, hide: list[Path], cpus: list[int] | None = None
) -> str | None:
    """One sentence if `app.main` cannot be imported (or defines no `app`), or the
    tests' conftest.py cannot import what it needs from app/; else None.

    Needed only when the run died too early for the plugin to say (os._exit at
    import, say) or pytest could not load the conftest."""
    budget = min(IMPORT_DEADLINE, deadline - time.monotonic())
    if budget <= 1 or (stop is not None and stop.is_set()):
        return None
    check = (f"import sys; sys.path.insert(0, '.'); import app.main; app.main.app; print({APP_LOADED!r}, flush=True); "
             f"import conftest; print({IMPORTED!r}, flush=True)")  # fmt: skip
    result = sandbox.run(["-c", check], work, budget, limit=stopper(stop), hide=hide, cpus=cpus)
    output = result.relative_output()
    if result.timed_out:
        return f"Importing app.main did not finish within {budget:.0f} s: is there an endless loop at import time?"
    if result.returncode == 0 and IMPORTED in output:
        return None
    if APP_LOADED in output:
        return describe_conftest_crash(output.split(APP_LOADED, 1)[1])
    return describe_import_crash(output)


def stopper(stop: threading.Event | None):  # type: ignore[no-untyped-def]
    """A limit for sandbox.run that ends the run soon after `stop` is set (Ctrl-C in grade-all)."""
    if stop is None:
        return None
    return lambda _lines: time.monotonic() if stop.is_set() else math.inf


def describe_import_crash(output: str) -> str:
    """Turn a traceback into "app/main.py line 3: ModuleNotFoundError: ..."."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if "Traceback" not in output:
        # No traceback: the code called sys.exit() or printed its own message.
        said = f": {shorten(lines[-1])}" if lines else ""
        return f"Importing app.main failed: the code ended the program while being imported{said}."
    where = ""
    for match in TRACEBACK_FRAME.finditer(output):
        if not Path(match["file"]).is_absolute():
            where = f"{match['file']} line {match['line']}: "
    return f"Importing app.main failed: {where}{shorten(lines[-1])}"


@dataclass
class Record:
    """One signed line from the plugin."""

    kind: str
    data: dict[str, object]


@dataclass
class Runner:
    """Runs pytest on the scratch copy, again and again if it must, and keeps what each run said."""

    work: Path
    groups: list[str]
    per_test_timeout: float
    deadline: float
    stop: threading.Event | None = None
    stop_on_repeated_hang: bool = False
    hide: list[Path] = field(default_factory=list)
    on_progress: Callable[[int, int], None] | None = None
    cpus: list[int] | None = None  # the cores every run stays on (None: any)
    heard: dict[str, str] = field(default_factory=dict)  # node id -> status, as the results came in
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)  # node ids whose test function was seen to return
    flags: list[str] = field(default_factory=list)
    isolation: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    import_error: str | None = None  # the plugin's sentence when app.main does not import
    started_any: bool = False
    hung_in: set[str] = field(default_factory=set)  # where tests were stuck, with stop_on_repeated_hang

    def command(self, secret_free_args: list[str]) -> list[str]:
        paths = [group_folder(group).as_posix() for group in self.groups]
        return [
            "-m", "pytest", *paths, "-c", "pytest.ini", "--rootdir", ".", "--confcutdir", ".",
            "-q", "--no-header", *without_plugins(DISABLED_PLUGINS), "--continue-on-collection-errors", *secret_free_args,
        ]  # fmt: skip

    def all_tests(self) -> str:
        """Run until every test has run; return why the tests that did not run did not."""
        while (budget := self.deadline - time.monotonic()) > 0:
            if self.stop is not None and self.stop.is_set():
                return "not run: grading was interrupted"
            before = len(self.outcomes)
            deselected = [f"--deselect={nodeid}" for nodeid in sorted(self.outcomes)]
            key = secrets.token_bytes(32)
            startup = min(IMPORT_DEADLINE, max(self.per_test_timeout, (self.deadline - time.monotonic()) / 2))
            watch = Watch(self.per_test_timeout, self.stop, key, startup, self.hear)
            env = {"WORKBOOK_TIMEOUT": f"{self.per_test_timeout:g}"}
            result = sandbox.run(self.command(deselected), self.work, budget, secret=key, env=env, limit=watch.limit,
                                 hide=self.hide, cpus=self.cpus)  # fmt: skip
            self.isolation.add(result.isolation)
            self.notes += [note for note in result.notes if note not in self.notes]
            self.take(watch, result)
            self.started_any = self.started_any or watch.started_any
            if self.import_error:
                return self.import_error
            if result.stopped == "limit" and not self.started_any:
                self.import_error = (f"Importing the app did not finish within {watch.startup:.0f} s: "
                                     "is there an endless loop at import time?")  # fmt: skip
                return self.import_error
            if watch.finished:
                return "not run: the tests could not start"
            if result.stopped == "deadline":
                if watch.running is not None and watch.running not in self.outcomes:
                    self.outcomes[watch.running] = Outcome(watch.running, "timeout", "still running when the watchdog stopped the whole run")
                return self.watchdog_reason()
            if self.stop is not None and self.stop.is_set():
                return "not run: grading was interrupted"
            running = watch.running
            if running is None or running in self.outcomes:
                if len(self.outcomes) > before:
                    continue  # the run ended between tests (os._exit in a teardown, say): go on
                tail = [line for line in result.relative_output().splitlines() if line.strip()]
                if watch.started_any or result.stopped == "limit":
                    return "not run: the test run stopped making progress"
                return "not run: the tests could not start: " + (shorten(tail[-1]) if tail else "pytest said nothing")
            if result.stopped == "limit":
                limit = f"{watch.limit_of(running):g} s"
                dump = stack_dump(result, self.work / "submission")
                reason = describe_timeout(dump, limit) if dump else TIMEOUT_REASON.format(limit=limit)
                self.outcomes[running] = Outcome(running, "timeout", reason)
                if self.stop_on_repeated_hang:
                    stuck = stuck_function(dump)
                    if stuck and stuck in self.hung_in:
                        return f"not run: two tests got stuck in {stuck}, so the others were not run"
                    # One test hung already: give the others less time to show the same.
                    self.hung_in.add(stuck)
                    self.per_test_timeout = min(self.per_test_timeout, HANG_FOLLOW_UP)
            else:
                self.outcomes[running] = Outcome(running, "error", CRASHED)
        return self.watchdog_reason()

    def hear(self, outcome: Outcome) -> None:
        """A test's result, as it comes in (the run is still going): tell `on_progress`."""
        self.heard[outcome.nodeid] = outcome.status
        if self.on_progress is not None:
            self.on_progress(len(self.heard), sum(status != "passed" for status in self.heard.values()))

    def watchdog_reason(self) -> str:
        return "not run: the whole test run was stopped by the watchdog"

    def take(self, watch: Watch, result: sandbox.RunResult) -> None:
        last = 0
        for line in result.lines:
            parsed = watch.parse(line)
            if parsed is not None and parsed[0] <= last:
                parsed = None  # replayed or out of order
            if parsed is not None:
                last = parsed[0]
            record = parsed[1] if parsed else None
            if record is None:
                self.flag("lines on the results channel that were not signed by the workbook plugin (forged results?)")
                continue
            if record.kind == "outcome":
                try:
                    outcome = Outcome.from_dict(record.data)
                except (KeyError, TypeError, ValueError):
                    continue
                self.outcomes[outcome.nodeid] = outcome
            elif record.kind == "confirmed":
                self.confirmed.add(str(record.data.get("nodeid")))
            elif record.kind == "tamper":
                self.flag(str(record.data.get("what", "tampering")))
            elif record.kind == "import_error" and self.import_error is None:
                self.import_error = shorten(str(record.data.get("problem", "")))
        if result.garbage:
            self.flag("data on the results channel that was not signed lines (forged results?)")

    def flag(self, text: str) -> None:
        text = shorten(text)
        if text not in self.flags:
            self.flags.append(text)

    def sandbox_notes(self) -> list[str]:
        """What the scorecard says about how the runs were isolated (nothing when fully)."""
        described = {
            "uid-only": "Sandbox: a user of its own, but no private mounts or PID namespace (namespaces are not "
            "available here): the run could write where every user can, such as /tmp, and leave processes behind.",
            "none": "Sandbox: none, only limits: the run could write wherever the grader can and read its "
            "environment (grade as root, or where user namespaces are allowed, to sandbox it).",
        }
        notes = [described[mode] for mode in sorted(self.isolation) if mode in described]
        return notes + [f"Sandbox: {note}" for note in self.notes]


class Watch:
    """The grader's side of the results channel for one pytest run: checks signatures, times tests."""

    def __init__(
        self,
        per_test_timeout: float,
        stop: threading.Event | None,
        key: bytes,
        startup: float,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.per_test_timeout = per_test_timeout
        self.on_outcome = on_outcome
        self.startup = startup  # how long pytest may take to import the app and collect the tests
        self.stop = stop
        self.key = key
        self.seen = 0
        self.running: str | None = None
        self.running_since = time.monotonic()
        self.limits: dict[str, float] = {}
        self.started_any = False
        self.finished = False

    def parse(self, line: bytes) -> tuple[int, Record] | None:
        """(sequence number, record) of a signed line, or None when the line is not genuine."""
        body, _, mac = line.rpartition(b" ")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if not body or not hmac.compare_digest(mac, expected):
            return None
        try:
            data = json.loads(body)
            seq, kind = int(data.pop("seq")), str(data.pop("kind"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return seq, Record(kind, data)

    def limit(self, lines: list[bytes]) -> float:
        """When the run must say something next; called after each new line."""
        for line in lines[self.seen :]:
            parsed = self.parse(line)
            if parsed is None:
                continue
            record = parsed[1]
            if record.kind == "started":
                self.running = str(record.data.get("nodeid"))
                self.running_since = time.monotonic()
                self.started_any = True
                with contextlib.suppress(TypeError, ValueError):
                    marked = float(record.data.get("timeout") or 0)  # type: ignore[arg-type]
                    if marked > 0:
                        self.limits[self.running] = marked
            elif record.kind == "finished":
                self.finished = True
            elif record.kind == "outcome" and self.on_outcome is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self.on_outcome(Outcome.from_dict(record.data))
        self.seen = len(lines)
        if self.stop is not None and self.stop.is_set():
            return time.monotonic()
        if self.running is None:
            return self.running_since + self.startup  # importing and collecting
        return self.running_since + self.limit_of(self.running) + DUMP_GRACE

    def limit_of(self, nodeid: str) -> float:
        return max(self.per_test_timeout, self.limits.get(nodeid, 0.0))


DUMP_THREAD = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$")
DUMP_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)$')


def stack_dump(result: sandbox.RunResult, scratch: Path) -> str:
    """The stacks the plugin dumped when a test ran out of time, as Python prints a traceback.

    faulthandler writes each thread's frames most recent first, without source;
    reasons.py reads tracebacks (oldest first, with the source line), as
    pytest-timeout prints them: so turn one into the other."""
    output = result.relative_output()
    if "Timeout (" not in output:
        return ""
    threads: list[list[re.Match[str]]] = []
    for line in output.rsplit("Timeout (", 1)[1].splitlines():
        if DUMP_THREAD.match(line):
            threads.append([])
        elif (frame := DUMP_FRAME.match(line)) and threads:
            threads[-1].append(frame)
    lines = []
    for frames in threads:
        for frame in reversed(frames):
            lines.append(f'  File "{frame["file"]}", line {frame["line"]}, in {frame["function"]}')
            path = Path(frame["file"]) if Path(frame["file"]).is_absolute() else scratch / frame["file"]
            lines.append("    " + linecache.getline(str(path), int(frame["line"])).strip())
    linecache.clearcache()
    return "\n".join(lines)


def score(test: GradedTest, outcomes: dict[str, Outcome], confirmed: set[str], why_not_run: str) -> TestResult:
    runs = [outcome for nodeid, outcome in outcomes.items() if function_id(nodeid) == test.id]
    for run in runs:
        if run.status == "passed" and run.nodeid not in confirmed:
            run.status, run.reason = "error", UNCONFIRMED
    collect_error = outcomes.get(test.id.split("::")[0])
    if runs:
        status, reason, fraction = combine(runs)
    elif collect_error is not None:
        status, reason, fraction = "error", collect_error.reason, 0.0
    else:
        status, reason, fraction = "error", why_not_run, 0.0
    return TestResult(
        id=test.id,
        group=test.group,
        name=test.name,
        doc=test.doc,
        points=test.points,
        earned=round(test.points * fraction, 2),
        status=status,
        reason=reason,
        hint=test.hint,
        hidden=test.hidden,
        seconds=round(sum(run.seconds for run in runs), 3),
    )
