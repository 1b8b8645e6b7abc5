"""Challenge: cover /auth, /tasks, /admin and /ws with your own tests.

The tests here do not test the app: they run YOUR tests, the ones in my_tests/,
once, in a separate pytest process under coverage (lines and branches), and
read coverage's JSON report. Each router earns its points in proportion to how
much of it your tests run, provided that all of your tests pass.
"""

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

LESSON = Path(__file__).resolve().parents[2]  # the folder that holds app/ and my_tests/
DEADLINE = 90  # seconds for the whole run of your tests


@dataclass
class Run:
    """What happened when your tests ran."""

    returncode: int | None  # None: stopped after DEADLINE seconds
    output: str
    report: dict | None  # coverage's JSON report


@pytest.fixture(scope="module")
def my_tests_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run the tests in my_tests/ under coverage, once for all the tests below."""
    work = tmp_path_factory.mktemp("full-coverage")
    report = work / "coverage.json"
    command = [
        sys.executable, "-m", "pytest", "my_tests",
        "-p", "no:cacheprovider", "--import-mode=importlib", "--no-header", "-q",
        "-o", "addopts=",  # not the lesson's own options (they want 100% of all of app/)
        "--timeout=30",
        "--cov=app", "--cov-branch", f"--cov-report=json:{report}",
    ]  # fmt: skip
    # Coverage's data file goes to the temporary folder, not the lesson folder.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("COV_", "COVERAGE_"))}
    env["COVERAGE_FILE"] = str(work / ".coverage")
    output_file = work / "output.txt"
    with output_file.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=LESSON,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all it started
        )
        try:
            returncode = process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    text = output_file.read_text(encoding="utf-8", errors="replace")
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return Run(returncode, text, data)


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
    for name, data in run.report["files"].items():
        name = Path(name).as_posix()
        if name == path or name.endswith("/" + path):
            return data["summary"]["percent_covered"]
    pytest.fail(f"{path} was not run at all by your tests")


def grade(run: Run, path: str, credit) -> None:
    require_passing(run)
    percent = percent_covered(run, path)
    print(f"{path}: {percent:.1f}% of its lines and branches are covered")
    credit(percent / 100)


@pytest.mark.points(2, hint="Run them: uv run pytest my_tests --no-cov")
@pytest.mark.timeout(180)
def test_your_tests_pass(my_tests_run):
    """Your tests in my_tests/ run, and every one of them passes."""
    require_passing(my_tests_run)


@pytest.mark.points(
    3, hint="See what your tests miss: uv run pytest my_tests --cov-fail-under=0, then look at app/routers/."
)
@pytest.mark.timeout(180)
def test_your_tests_cover_the_auth_router(my_tests_run, credit):
    """Your tests run every line and branch of app/routers/auth.py (you earn the share they run)."""
    grade(my_tests_run, "app/routers/auth.py", credit)


@pytest.mark.points(3)
@pytest.mark.timeout(180)
def test_your_tests_cover_the_tasks_router(my_tests_run, credit):
    """Your tests run every line and branch of app/routers/tasks.py (you earn the share they run)."""
    grade(my_tests_run, "app/routers/tasks.py", credit)


@pytest.mark.points(3)
@pytest.mark.timeout(180)
def test_your_tests_cover_the_admin_router(my_tests_run, credit):
    """Your tests run every line and branch of app/routers/admin.py (you earn the share they run)."""
    grade(my_tests_run, "app/routers/admin.py", credit)


@pytest.mark.points(3, hint="client.websocket_connect() opens a socket; leaving its with-block closes it.")
@pytest.mark.timeout(180)
def test_your_tests_cover_the_ws_router(my_tests_run, credit):
    """Your tests run every line and branch of app/routers/ws.py (you earn the share they run)."""
    grade(my_tests_run, "app/routers/ws.py", credit)
