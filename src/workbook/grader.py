"""Grade a submission: the pristine tests of a part, run against the submission's code.

1. Copy the submission to a scratch folder and throw away any tests it brings.
2. Put the part's pristine tests (and the grader's own pytest settings) in.
3. Check that the code compiles; if not, every test scores 0 and one sentence
   says where the problem is.
4. Run pytest in a subprocess with a per-test timeout and a watchdog for the
   whole run, and read one result line per test from the workbook plugin.
   If no test could even start, import `app.main` alone to say why in a sentence.
5. Return a complete scorecard: every graded test, even those that never ran.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbook import sandbox
from workbook.catalog import Part
from workbook.listing import LESSON, GradedTest, graded_tests
from workbook.reasons import describe_conftest_crash, describe_timeout, shorten, stuck_function
from workbook.results import Outcome, combine, function_id

PER_TEST_TIMEOUT = 60
WATCHDOG = 600
IMPORT_DEADLINE = 60
HANG_FOLLOW_UP = 3  # seconds per test once one has hung, with stop_on_repeated_hang

GRADER_INI = """\
[pytest]
pythonpath = .
addopts = --import-mode=importlib -p no:cacheprovider
"""


@dataclass
class TestResult:
    id: str
    group: str
    name: str
    doc: str
    points: float
    earned: float
    status: str  # passed, failed, error, timeout, skipped
    reason: str = ""
    hint: str | None = None
    hidden: bool = False


@dataclass
class Scorecard:
    part: str
    submission: str
    results: list[TestResult]
    problem: str | None = None  # one sentence when the code could not even be loaded
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def groups(self) -> dict[str, tuple[float, float]]:
        """(earned, possible) points per group, lesson first. Skipped tests do not count."""
        totals: dict[str, tuple[float, float]] = {}
        for result in sorted(self.results, key=lambda r: r.group != LESSON):
            earned, possible = totals.get(result.group, (0.0, 0.0))
            if result.status != "skipped":
                earned, possible = earned + result.earned, possible + result.points
            totals[result.group] = (earned, possible)
        return totals

    @property
    def earned(self) -> float:
        return sum(earned for earned, _ in self.groups().values())

    @property
    def possible(self) -> float:
        return sum(possible for _, possible in self.groups().values())

    @property
    def complete(self) -> bool:
        return self.possible > 0 and self.earned >= self.possible

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["score"] = {"earned": self.earned, "possible": self.possible}
        data["groups"] = {name: {"earned": e, "possible": p} for name, (e, p) in self.groups().items()}
        return data

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")


def grade(
    part: Part,
    submission: Path,
    challenges: list[str] | None = None,
    include_lesson: bool = True,
    per_test_timeout: float = PER_TEST_TIMEOUT,
    watchdog: float = WATCHDOG,
    keep: Path | None = None,
    stop_on_repeated_hang: bool = False,
) -> Scorecard:
    """Grade `submission` on the part's lesson tests and the given challenges (default: all).

    `stop_on_repeated_hang` (for `check`, where a quick answer matters more than
    a complete one): once a test has hung, the others get HANG_FOLLOW_UP seconds
    each, and once a second test gets stuck in the same function, the rest are
    not run."""
    started = time.monotonic()
    slugs = [c.slug for c in part.challenges()] if challenges is None else challenges
    groups = ([LESSON] if include_lesson else []) + slugs
    expected = graded_tests(part.folder, groups)
    work = Path(tempfile.mkdtemp(prefix="workbook-grade-"))
    try:
        scratch = work / "submission"
        scratch.mkdir()
        notes = [f"Not copied: {item}" for item in sandbox.copy_submission(submission, scratch)]
        install_pristine_tests(part, scratch, groups)
        card = Scorecard(part.name, str(submission), [], notes=notes, manifest=sandbox.manifest(scratch))
        home = work / "home"
        home.mkdir()
        card.problem = compile_problem(scratch)
        outcomes: dict[str, Outcome] = {}
        why_not_run = card.problem or ""
        if not card.problem:
            outcomes, why_not_run = run_tests(scratch, work, home, groups, per_test_timeout, watchdog, stop_on_repeated_hang)
        if not outcomes:
            # Nothing ran at all: find out whether the app itself fails to load.
            card.problem = card.problem or import_problem(scratch, home)
            why_not_run = card.problem or why_not_run
        card.results = [score(test, outcomes, why_not_run) for test in expected]
        card.seconds = round(time.monotonic() - started, 2)
        if keep is not None:
            sandbox.remove(keep)
            shutil.copytree(scratch, keep, symlinks=True)
        return card
    finally:
        sandbox.remove(work)


def install_pristine_tests(part: Part, scratch: Path, groups: list[str]) -> None:
    """Replace whatever tests and settings the submission brings with the part's own."""
    # Only the top folder matters: pytest reads its settings and conftest.py
    # from there (the grader stops it looking higher), and -P keeps Python
    # from importing modules from there at start-up.
    for name in sandbox.CONTROL_FILES:
        sandbox.remove(scratch / name)
    for folder in ("tests", "challenges"):
        sandbox.remove(scratch / folder)
    shutil.copyfile(part.folder / "conftest.py", scratch / "conftest.py")
    (scratch / "pytest.ini").write_text(GRADER_INI, encoding="utf-8")
    for group in groups:
        folder = Path("tests") if group == LESSON else Path("challenges") / group
        shutil.copytree(
            part.folder / folder,
            scratch / folder,
            ignore=shutil.ignore_patterns("__pycache__", "README.md"),
        )


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
    return None


APP_LOADED = "<app.main loaded>"
TRACEBACK_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def import_problem(scratch: Path, home: Path) -> str | None:
    """One sentence if `app.main` cannot be imported (or defines no `app`), or the
    tests' conftest.py cannot import what it needs from app/; else None."""
    if not (scratch / "app" / "main.py").is_file():
        return "There is no app/main.py in the submission: give the folder that holds app/."
    # Then the tests' conftest.py, which imports names from app/ the tests rely on.
    check = f"import sys; sys.path.insert(0, '.'); import app.main; app.main.app; print({APP_LOADED!r}, flush=True); import conftest"
    result = sandbox.run(["-c", check], scratch, IMPORT_DEADLINE, home)
    if result.timed_out:
        return f"Importing app.main did not finish within {IMPORT_DEADLINE} s: is there an endless loop at import time?"
    if result.returncode == 0:
        return None
    if APP_LOADED in result.output:
        return describe_conftest_crash(result.output.split(APP_LOADED, 1)[1].replace(f"{scratch}/", ""))
    return describe_import_crash(result.output, scratch)


def describe_import_crash(output: str, scratch: Path) -> str:
    """Turn a traceback into "app/main.py line 3: ModuleNotFoundError: ..."."""
    output = output.replace(f"{scratch}/", "")
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


def run_tests(
    scratch: Path,
    work: Path,
    home: Path,
    groups: list[str],
    per_test_timeout: float,
    watchdog: float,
    stop_on_repeated_hang: bool = False,
) -> tuple[dict[str, Outcome], str]:
    """Run pytest; return the outcomes by node id, and why any test did not run.

    A test that hangs or kills the process ends that pytest run; the grader then
    starts pytest again for the tests that have not run yet, until all have run,
    the watchdog's time is up, or the runs stop making progress."""
    results_file = work / "results.jsonl"
    paths = ["tests" if group == LESSON else f"challenges/{group}" for group in groups]
    args = [
        "-m", "pytest", *paths,
        "-c", "pytest.ini", "--rootdir", ".", "--confcutdir", ".",
        "-q", "--no-header", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
        "--continue-on-collection-errors",
        # The thread method ends the whole process on a timeout, even when the
        # stuck code holds a lock the test is waiting for; we then start again.
        "--timeout-method=thread",
        "--workbook-results", str(results_file),
    ]  # fmt: skip
    deadline = time.monotonic() + watchdog
    outcomes: dict[str, Outcome] = {}
    why = "not run: the tests could not start"
    hung_in: set[str] = set()
    limit = per_test_timeout
    while (budget := deadline - time.monotonic()) > 0:
        sandbox.remove(results_file)
        deselected = [f"--deselect={nodeid}" for nodeid in sorted(outcomes)]
        result = sandbox.run([*args, f"--timeout={limit:g}", *deselected], scratch, budget, home)
        new, running, finished = read_results(results_file)
        outcomes.update(new)
        if finished:
            return outcomes, why
        if result.timed_out:
            if running is not None and running not in outcomes:
                outcomes[running] = Outcome(running, "timeout", "still running when the watchdog stopped the whole run")
            return outcomes, f"not run: the whole test run was stopped after {watchdog:g} s"
        if running is None or running in outcomes:
            tail = [line for line in result.output.replace(f"{scratch}/", "").splitlines() if line.strip()]
            return outcomes, "not run: the tests could not start: " + (shorten(tail[-1]) if tail else "pytest said nothing")
        if "Timeout" in result.output:
            output = result.output.replace(f"{scratch}/", "")
            outcomes[running] = Outcome(running, "timeout", describe_timeout(output, f"{limit:g} s"))
            stuck = stuck_function(output)
            if stop_on_repeated_hang:
                if stuck and stuck in hung_in:
                    return outcomes, f"not run: two tests got stuck in {stuck}, so the others were not run"
                # One test hung already: give the others less time to show the same.
                hung_in.add(stuck)
                limit = min(limit, HANG_FOLLOW_UP)
        else:
            outcomes[running] = Outcome(running, "error", "the program ended during this test (os._exit(), a crash, or no memory left?)")
    return outcomes, f"not run: the whole test run was stopped after {watchdog:g} s"


def read_results(path: Path) -> tuple[dict[str, Outcome], str | None, bool]:
    """The plugin's lines: outcomes, the test that was running last, and whether pytest finished."""
    outcomes: dict[str, Outcome] = {}
    running, finished = None, False
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
    for line in lines:
        try:
            data = json.loads(line)
            if "started" in data:
                running = str(data["started"])
            elif "finished" in data:
                finished = True
            else:
                outcome = Outcome.from_dict(data)
                outcomes[outcome.nodeid] = outcome
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return outcomes, running, finished


def score(test: GradedTest, outcomes: dict[str, Outcome], why_not_run: str) -> TestResult:
    runs = [outcome for nodeid, outcome in outcomes.items() if function_id(nodeid) == test.id]
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
    )
