"""Challenge: cover /auth, /tasks, /admin and /ws with your own tests, and mean it.

The tests here do not test the app: they run YOUR tests, the ones in my_tests/.

1. Once, in a separate pytest process, under coverage (lines and branches, and
   which of your tests ran which line); the tests below read coverage's report.
2. Then against copies of the app with one bug planted in each (BUGS below: a
   wrong status code, a missing ownership check, a message not sent...). Only
   the tests that ran the changed lines run against a copy (mutants.py).

Each router earns its points in proportion to how much of it your tests run,
provided that all of your tests pass and that they notice every bug planted in
that router. Coverage says which code ran; only an assert can notice a bug.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LESSON = HERE.parents[1]  # the folder that holds app/ and my_tests/
DEADLINE = 90  # seconds for the whole run of your tests
BUG_HUNT_DEADLINE = 150  # seconds for all the runs on planted bugs together
COVERAGE_CONFIG = "[run]\nbranch = True\n[json]\nshow_contexts = True\n"


@dataclass(frozen=True)
class Bug:
    """A bug planted in a copy of the app, to see whether your tests notice it."""

    name: str
    router: str  # whose points it is about
    what: str  # what the bug does, as you read it when your tests miss it
    changes: tuple[tuple[str, str], ...]  # (the lesson's code, the buggy code)
    path: str = ""  # the file it goes in, when not the router itself

    @property
    def file(self) -> str:
        return self.path or self.router


BUGS = (
    Bug("wrong-password-status", "app/routers/auth.py", "a wrong password answers 400 instead of 401",
        (("status_code=status.HTTP_401_UNAUTHORIZED,", "status_code=status.HTTP_400_BAD_REQUEST,"),)),
    Bug("inactive-user-logs-in", "app/routers/auth.py", "a deactivated user can still log in",
        (("    if not user.is_active:", "    if False:"),)),
    Bug("no-ownership-check", "app/routers/tasks.py", "anyone can read, change or delete another user's task",
        (("if task is None or task.owner_id != user.id:", "if task is None:"),)),
    Bug("filter-inverted", "app/routers/tasks.py", "?completed=true lists the tasks that are not completed",
        (("query.where(Task.completed == completed)", "query.where(Task.completed != completed)"),)),
    Bug("no-notification", "app/routers/tasks.py", "creating a task sends no notification",
        (("    background_tasks.add_task(notify_safely, notifier, user.username, message, task.id)\n", ""),)),
    Bug("delete-announced-as-update", "app/routers/tasks.py", 'deleting a task announces "Task updated: ..."',
        (('f"Task deleted: {task.title}"', 'f"Task updated: {task.title}"'),)),
    Bug("no-admin-check", "app/routers/admin.py", "anyone logged in may use /admin",
        (("    if not user.is_admin:", "    if False:"),), path="app/deps.py"),
    Bug("missing-user-status", "app/routers/admin.py", "changing a user who does not exist answers 400 instead of 404",
        (('status_code=status.HTTP_404_NOT_FOUND, detail="User not found"',
          'status_code=status.HTTP_400_BAD_REQUEST, detail="User not found"'),)),
    Bug("admin-deactivates-self", "app/routers/admin.py", "an admin can deactivate themselves",
        (("if user.id == admin.id and locks_self_out:", 'if user.id == admin.id and changes.get("is_admin") is False:'),)),
    Bug("wrong-close-code", "app/routers/ws.py", "a socket without a valid token is closed with 1000 instead of 1008",
        (('code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated"',
          'code=status.WS_1000_NORMAL_CLOSURE, reason="Not authenticated"'),)),
)  # fmt: skip


@dataclass
class Run:
    """What happened when your tests ran."""

    returncode: int | None  # None: stopped after DEADLINE seconds
    output: str
    report: dict | None  # coverage's JSON report


def clean_environment() -> dict[str, str]:
    """This process's environment without coverage's settings (the runs bring their own)."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("COV_", "COVERAGE_"))}


def run_stopped_at_deadline(command: list[str], cwd: Path, env: dict[str, str], deadline: float, log: Path) -> int | None:
    """Run a command with its output in `log`; its exit code, or None when it ran out of time."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all it started
        )
        try:
            return process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return None
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@pytest.fixture(scope="module")
def my_tests_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run the tests in my_tests/ under coverage, once for all the tests below."""
    return run_under_coverage(LESSON, tmp_path_factory.mktemp("full-coverage"))


def run_under_coverage(lesson: Path, work: Path) -> Run:
    report = work / "coverage.json"
    (work / "coveragerc").write_text(COVERAGE_CONFIG, encoding="utf-8")
    command = [
        sys.executable, "-m", "pytest", "my_tests",
        "-p", "no:cacheprovider", "--import-mode=importlib", "--no-header", "-q",
        "-o", "addopts=",  # not the lesson's own options (they want 100% of all of app/)
        "--timeout=30",
        "-p", "no:hypothesispytest", "-p", "no:schemathesis",  # installed beside the workbook, slow to load
        "--cov=app", f"--cov-config={work / 'coveragerc'}", "--cov-context=test",
        f"--cov-report=json:{report}",
    ]  # fmt: skip
    env = clean_environment()
    # Coverage's data file goes to the temporary folder, not the lesson folder.
    env["COVERAGE_FILE"] = str(work / ".coverage")
    returncode = run_stopped_at_deadline(command, lesson, env, DEADLINE, work / "output.txt")
    text = (work / "output.txt").read_text(encoding="utf-8", errors="replace")
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return Run(returncode, text, data)


def file_report(run: Run, path: str) -> dict | None:
    for name, data in (run.report or {}).get("files", {}).items():
        name = Path(name).as_posix()
        if name == path or name.endswith("/" + path):
            return data
    return None


def which_tests_ran(run: Run, path: str, lines: set[int]) -> list[str]:
    """The node ids of your tests that ran any of these lines of `path`."""
    contexts = (file_report(run, path) or {}).get("contexts", {})
    found = {context.split("|")[0] for line in lines for context in contexts.get(str(line), [])}
    found.discard("")  # the lines that ran at import, before any test
    return sorted(found)


def line_numbers(source: str, code: str) -> set[int]:
    start = source[: source.index(code)].count("\n") + 1
    return set(range(start, start + max(1, code.count("\n"))))


def plant(bug: Bug, source: str) -> tuple[str, set[int]] | None:
    """The file with the bug in, and the lines it changes; None if the code is not the lesson's."""
    if any(source.count(old) != 1 for old, _ in bug.changes):
        return None
    lines = set().union(*(line_numbers(source, old) for old, _ in bug.changes))
    for old, new in bug.changes:
        source = source.replace(old, new)
    return source, lines


@pytest.fixture(scope="module")
def bug_hunt(my_tests_run: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """For each planted bug that your tests did NOT notice, why; caught bugs are left out."""
    if my_tests_run.returncode != 0 or my_tests_run.report is None:
        return {}  # the tests below fail first, saying why
    work = tmp_path_factory.mktemp("bugs")
    plan, missed = plant_bugs(my_tests_run, LESSON, work)
    if plan:
        (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        results = work / "results.json"
        command = [sys.executable, str(HERE / "mutants.py"), str(work / "plan.json"), str(results)]
        run_stopped_at_deadline(command, work, clean_environment(), BUG_HUNT_DEADLINE, work / "output.txt")
        found = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
        for entry in plan:
            result = found.get(entry["name"], {"caught": False, "why": f"not tried: out of time after {BUG_HUNT_DEADLINE} s"})
            if not result["caught"]:
                missed[entry["name"]] = result["why"]
    return missed


def plant_bugs(run: Run, lesson: Path, work: Path) -> tuple[list[dict], dict[str, str]]:
    """A copy of the lesson in `work` for each bug, with the bug in: the plan for mutants.py.

    Also returns the bugs that need no run to know your tests miss them, and why."""
    plan, missed = [], {}
    for bug in BUGS:
        planted = plant(bug, (lesson / bug.file).read_text(encoding="utf-8"))
        if planted is None:
            missed[bug.name] = f"it could not be planted: {bug.file} is not the lesson's any more (leave app/ as it is)"
            continue
        source, lines = planted
        tests = which_tests_ran(run, bug.file, lines)
        if not tests:
            missed[bug.name] = "none of your tests ran that code"
            continue
        folder = work / bug.name
        for name in ("app", "my_tests"):
            shutil.copytree(lesson / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copyfile(lesson / "conftest.py", folder / "conftest.py")
        (folder / "pytest.ini").write_text("[pytest]\npythonpath = .\n", encoding="utf-8")
        (folder / bug.file).write_text(source, encoding="utf-8")
        plan.append({"name": bug.name, "folder": str(folder), "tests": tests})
    return plan, missed


def tail(output: str, lines: int = 8) -> str:
    return "\n".join(line for line in output.strip().splitlines()[-lines:])


def require_passing(run: Run) -> None:
    """Fail, saying why, unless all of the student's tests ran and passed."""
    if run.returncode is None:
        pytest.fail(f"your tests in my_tests/ took more than {DEADLINE} s and were stopped")
    if run.returncode == pytest.ExitCode.NO_TESTS_COLLECTED:
        pytest.fail("there are no tests in my_tests/ yet: write test_... functions in my_tests/test_*.py")
    if run.returncode == pytest.ExitCode.TESTS_FAILED:
        failures = [line for line in run.output.splitlines() if line.startswith(("FAILED", "ERROR"))]
        pytest.fail("some of your tests in my_tests/ do not pass:\n" + "\n".join(failures[:10]))
    if run.returncode != pytest.ExitCode.OK:
        pytest.fail(f"pytest could not run my_tests/ (exit code {run.returncode}):\n{tail(run.output)}")
    if run.report is None:
        pytest.fail(f"coverage wrote no report:\n{tail(run.output)}")


def percent_covered(run: Run, path: str) -> float:
    """The share of `path`'s lines and branches that the tests ran, in percent."""
    data = file_report(run, path)
    if data is None:
        pytest.fail(f"{path} was not run at all by your tests")
    return data["summary"]["percent_covered"]


def grade(run: Run, path: str, credit, missed: dict[str, str]) -> None:
    require_passing(run)
    percent = percent_covered(run, path)
    print(f"{path}: {percent:.1f}% of its lines and branches are covered")
    unnoticed = [f"{bug.what} ({missed[bug.name]})" for bug in BUGS if bug.router == path and bug.name in missed]
    if unnoticed:
        pytest.fail(
            f"your tests run {percent:.0f}% of {path}, but they did not notice these bugs planted in it: "
            + "; ".join(unnoticed)
            + ". Assert on what the API answers, so that a test fails when the code is wrong."
        )
    credit(percent / 100)


@pytest.mark.points(2, hint="Run them: uv run pytest my_tests --no-cov")
@pytest.mark.timeout(300)
def test_your_tests_pass(my_tests_run):
    """Your tests in my_tests/ run, and every one of them passes."""
    require_passing(my_tests_run)


@pytest.mark.points(
    3, hint="See what your tests miss: uv run pytest my_tests --cov-fail-under=0, then look at app/routers/."
)
@pytest.mark.timeout(300)
def test_your_tests_cover_the_auth_router(my_tests_run, bug_hunt, credit):
    """Your tests run every line and branch of app/routers/auth.py and notice bugs planted in it (you earn the share they run)."""
    grade(my_tests_run, "app/routers/auth.py", credit, bug_hunt)


@pytest.mark.points(3)
@pytest.mark.timeout(300)
def test_your_tests_cover_the_tasks_router(my_tests_run, bug_hunt, credit):
    """Your tests run every line and branch of app/routers/tasks.py and notice bugs planted in it (you earn the share they run)."""
    grade(my_tests_run, "app/routers/tasks.py", credit, bug_hunt)


@pytest.mark.points(3)
@pytest.mark.timeout(300)
def test_your_tests_cover_the_admin_router(my_tests_run, bug_hunt, credit):
    """Your tests run every line and branch of app/routers/admin.py and notice bugs planted in it (you earn the share they run)."""
    grade(my_tests_run, "app/routers/admin.py", credit, bug_hunt)


@pytest.mark.points(3, hint="client.websocket_connect() opens a socket; leaving its with-block closes it.")
@pytest.mark.timeout(300)
def test_your_tests_cover_the_ws_router(my_tests_run, bug_hunt, credit):
    """Your tests run every line and branch of app/routers/ws.py and notice bugs planted in it (you earn the share they run)."""
    grade(my_tests_run, "app/routers/ws.py", credit, bug_hunt)
