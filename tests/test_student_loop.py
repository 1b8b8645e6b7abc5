"""The student's loop, as a student meets it: check, watch, hint, reset, progress, init.

Every test works on a temporary copy: of part 1 where the real lesson matters
(a syntax error, an import through conftest.py, an endless loop), of the tiny
workbook otherwise, because it is quicker to grade."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import ECHO_MAIN, ROOT, write
from workbook import manifest
from workbook.cli import app, console, errors

runner = CliRunner()
WORKBOOK = Path(sys.executable).parent / "workbook"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines as the program writes them, not wrapped at whatever width the test run has."""
    monkeypatch.setattr(console, "width", 200)
    monkeypatch.setattr(errors, "width", 200)


def workbook(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def lines_of(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.fixture
def part1_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A student's copy of the real part 1, outside the workbook."""
    monkeypatch.chdir(ROOT)
    copy = tmp_path / "part1"
    shutil.copytree(ROOT / "lessons/part1", copy, ignore=shutil.ignore_patterns("__pycache__", ".workbook"))
    return copy


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))


# --- help ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "hint", "reset", "progress", "init", "run", "manifest"])
def test_help_shows_its_defaults_and_no_stray_types(command: str) -> None:
    result = workbook(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output
    assert "<bool>" not in result.output  # a flag takes no value
    if command in ("check", "reset", "init", "run"):
        assert "[default: " in result.output  # not swallowed as Rich markup


# --- check: what goes wrong, said once ----------------------------------------


def test_a_syntax_error_is_one_headline_first_and_last(part1_copy: Path) -> None:
    tasks = part1_copy / "app/routers/tasks.py"
    replace(tasks, "async def read_task(task_id: int, store: StoreDep) -> TaskPublic:", "async def read_task(task_id: int, store: StoreDep) -> TaskPublic")
    line = tasks.read_text().splitlines().index("async def read_task(task_id: int, store: StoreDep) -> TaskPublic") + 1
    console.width = 80  # a terminal's usual width
    result = workbook("check", "part1", str(part1_copy))
    lines = lines_of(result)
    assert result.exit_code == 3
    assert len(lines) <= 12
    assert f"app/routers/tasks.py line {line}: SyntaxError" in lines[0]
    assert f"app/routers/tasks.py line {line}: SyntaxError" in lines[-1]
    assert "hint" not in result.output and "Traceback" not in result.output


def test_an_import_error_through_conftest_is_exit_3_and_one_sentence(part1_copy: Path) -> None:
    for name in ("app/store.py", "app/routers/tasks.py"):
        path = part1_copy / name
        path.write_text(path.read_text().replace("get_store", "get_the_store"))
    conftest = (part1_copy / "conftest.py").read_text().splitlines()
    line = next(n for n, text in enumerate(conftest, 1) if "get_store" in text)
    result = workbook("check", "part1", str(part1_copy))
    sentence = f"The tests could not start: app/store.py has no get_store, which the tests import (conftest.py line {line})."
    assert result.exit_code == 3
    lines = lines_of(result)
    assert len(lines) == 3
    assert lines[0] == f"✗ {sentence}" and lines[-1] == f"✗ {sentence}"
    assert "E " not in result.output and "hint" not in result.output


CRASHING_APP = '''
from fastapi import FastAPI, Request

app = FastAPI()


@app.middleware("http")
async def count_requests(request: Request, call_next):
    requests_seen += 1
    return await call_next(request)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
'''


def test_an_exception_in_the_app_names_file_and_line_once_and_gives_no_hint(tiny_workbook: Path, submission: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    write(submission / "app/main.py", CRASHING_APP)
    line = CRASHING_APP.lstrip("\n").splitlines().index("    requests_seen += 1") + 1
    result = workbook("check", "part1", str(submission), "--lesson-only")
    assert result.exit_code == 1, result.output
    because = f"app/main.py line {line}, in count_requests: UnboundLocalError: cannot access local variable 'requests_seen'"
    # Both lesson tests crash the same way: one line for both, with the count.
    assert [line for line in lines_of(result) if because in line] == [
        f"  ! error 2 tests hit an error (5 pts): {because} where it is not associated with a value"
    ], result.output
    assert "hint" not in result.output  # test_missing_route_is_404 has a hint, but a crash is not a wrong answer


def test_an_endless_loop_in_a_route_is_stopped_early_and_named(part1_copy: Path) -> None:
    """Most of part 1's tests list the tasks: after two of them hang, the others are not run.

    (With the default 10 s per test that takes about 15 s on an idle machine;
    benchmarks/check_latency.py measures it. Here a shorter limit keeps the test quick.)"""
    tasks = part1_copy / "app/routers/tasks.py"
    body = "    return store.list(completed=completed, offset=offset, limit=limit)"
    replace(tasks, body, "    while True:\n        pass\n" + body)
    result = workbook("check", "part1", str(part1_copy), "--timeout", "4")
    assert result.exit_code == 1
    assert "GET /tasks/ did not answer within 4 s; it was still running app/routers/tasks.py line" in result.output
    assert "GET /tasks/ did not answer within 3 s" in result.output  # the second one got less time
    assert "in list_tasks" in result.output
    assert "could not run" in result.output
    assert "two tests got stuck in list_tasks (app/routers/tasks.py), so the others were not run" in result.output


# --- check: pristine tests ------------------------------------------------------


def test_deleted_and_changed_test_files_are_graded_with_the_workbooks_copy(tiny_workbook: Path, submission: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    (submission / "tests/test_basic.py").unlink()
    write(submission / "challenges/echo/test_echo.py", "import pytest\n\n@pytest.mark.points(4)\ndef test_echo():\n    pass\n")
    result = workbook("check", "part1", str(submission))
    assert result.exit_code == 1
    assert lines_of(result)[:2] == [
        "! challenges/echo/test_echo.py was changed; graded with the workbook's copy",
        "! tests/test_basic.py is missing; graded with the workbook's copy",
    ]
    assert "✓ Lesson: 5/5 points, all 2 tests pass" in result.output  # the deleted tests still ran
    assert "echo    0/4  next: GET /echo/{word} answers the word back." in result.output  # the edited one did not pass


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=s", "-c", "user.email=s@example.com", *args], check=True, capture_output=True)


def test_a_test_deleted_in_the_lesson_folder_itself_still_counts(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The student works in lessons/part1 of a clone, deletes a test there, and even commits that."""
    monkeypatch.chdir(tiny_workbook)
    git(tiny_workbook, "init", "-q")
    git(tiny_workbook, "add", ".")
    git(tiny_workbook, "commit", "-qm", "the workbook")
    lesson = tiny_workbook / "lessons/part1"
    (lesson / "tests/test_basic.py").unlink()
    replace(lesson / "app/main.py", '{"status": "ok"}', '{"status": "fine"}')
    git(tiny_workbook, "commit", "-qam", "mine")
    result = workbook("check", "part1")
    assert result.exit_code == 1
    assert "! tests/test_basic.py is missing; graded with the workbook's copy" in result.output
    assert "Lesson: 3/5 points (1 of 2 tests pass)" in result.output
    assert "✗ failed The health check answers ok. (2 pts)" in result.output


# --- hints, progress, reset, init -------------------------------------------------

BRIEF_WITH_HINTS = """# Echo

## Goal

Answer the word back.

## Hints

<details><summary>Hint 1</summary>

Add a route with a path parameter.

</details>

<details><summary>Hint 2</summary>

`@app.get("/echo/{word}")` and return `{"word": word}`.

</details>

## Going further

Echo twice.
"""


def test_hints_come_one_at_a_time_and_are_remembered(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    write(tiny_workbook / "lessons/part1/challenges/echo/README.md", BRIEF_WITH_HINTS)
    first = workbook("hint", "part1", "echo")
    assert first.exit_code == 0
    assert "echo: Hint 1 (1 of 2)" in first.output and "path parameter" in first.output
    assert "Hint 2" not in first.output
    second = workbook("hint", "part1", "echo")
    assert "echo: Hint 2 (2 of 2)" in second.output and "Hint 1" not in second.output
    assert "That was the last hint" in second.output
    assert "echo: Hint 2 (2 of 2)" in workbook("hint", "part1", "echo").output  # stays at the last one
    everything = workbook("hint", "part1", "echo", "--all")
    assert "Hint 1 (1 of 2)" in everything.output and "Hint 2 (2 of 2)" in everything.output
    assert (tiny_workbook / "lessons/part1/.workbook/state.json").is_file()  # remembered in the working copy
    assert workbook("hint", "part1", "nope").exit_code == 2


def test_progress_shows_the_last_checks_and_what_to_do_next(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    before = workbook("progress")
    assert before.exit_code == 0
    assert "Next: `uv run workbook check part1` (not checked yet)." in before.output
    assert workbook("check", "part1").exit_code == 1
    after = workbook("progress")
    assert "✓ 5/5" in after.output and "✗ 0/4  echo" in after.output
    assert "Next: part1's challenge echo: GET /echo/{word} answers the word back." in after.output


def test_reset_asks_first_keeps_a_backup_and_restores_the_lesson(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    assert workbook("init", "part1").exit_code == 0
    copy = tiny_workbook / "work/part1"
    original = (copy / "app/main.py").read_text()
    solution = ECHO_MAIN
    (copy / "app/main.py").write_text(solution)
    (copy / "app/extra.py").write_text("# mine\n")
    (copy / "conftest.py").unlink()

    declined = workbook("reset", "part1", input="n\n")
    assert declined.exit_code == 1 and "Nothing changed." in declined.output
    assert (copy / "app/main.py").read_text() == solution

    only_echo = workbook("reset", "part1", "--challenge", "echo", "--yes")  # the files echo's solution changes
    assert only_echo.exit_code == 0
    assert (copy / "app/main.py").read_text() == original
    assert (copy / "app/extra.py").exists() and not (copy / "conftest.py").exists()

    done = workbook("reset", "part1", input="y\n")
    assert done.exit_code == 0
    assert "put back  conftest.py" in done.output and "remove    app/extra.py" in done.output
    assert (copy / "conftest.py").read_text() == (tiny_workbook / "lessons/part1/conftest.py").read_text()
    assert not (copy / "app/extra.py").exists()
    backups = sorted((copy / ".workbook/backups").iterdir())
    assert (backups[0] / "app/main.py").read_text() == solution
    assert (backups[-1] / "app/extra.py").read_text() == "# mine\n"
    assert "Nothing to reset" in workbook("reset", "part1").output


def test_reset_of_the_lesson_folder_itself_comes_from_git(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    main = tiny_workbook / "lessons/part1/app/main.py"
    original = main.read_text()
    main.write_text(original + "\n# mine\n")
    without_git = workbook("reset", "part1", "--yes")
    assert without_git.exit_code == 2 and "cannot be restored without git" in without_git.output
    git(tiny_workbook, "init", "-q")
    git(tiny_workbook, "add", ".")
    git(tiny_workbook, "commit", "-qm", "the workbook")
    main.write_text(original + "\n# mine again\n")
    assert workbook("reset", "part1", "--yes").exit_code == 0
    assert main.read_text() == original + "\n# mine\n"  # as the last commit has it


def add_part2(root: Path) -> None:
    """A second tiny part: part 1's tests, and an app that also echoes."""
    shutil.copytree(root / "lessons/part1", root / "lessons/part2")
    (root / "lessons/part2/app/main.py").write_text(ECHO_MAIN)
    manifest.write(root)


def test_init_makes_a_working_copy_that_check_then_grades(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    add_part2(tiny_workbook)
    made = workbook("init", "part2", "--from-previous")
    assert made.exit_code == 0, made.output
    copy = tiny_workbook / "work/part2"
    assert (copy / "app/main.py").read_text() == (tiny_workbook / "lessons/part1/app/main.py").read_text()
    assert (copy / "tests/test_basic.py").read_text() == (tiny_workbook / "lessons/part2/tests/test_basic.py").read_text()
    assert "Made work/part2: part1's code, with part2's tests and challenges." in made.output
    assert "uv run workbook check part2" in made.output
    again = workbook("init", "part2", "--from-previous")
    assert again.exit_code == 2 and "already exists" in again.output
    first = workbook("init", "part1", "--from-previous")
    assert first.exit_code == 2 and "part1 is the first part" in first.output


# --- watch ------------------------------------------------------------------------


def read_until(process: subprocess.Popen[str], wanted: str, seconds: float) -> str:
    """What the process printed, up to the first line holding `wanted`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            assert process.poll() is None, "".join(seen)
            time.sleep(0.05)
            continue
        seen.append(line)
        if wanted in line:
            return "".join(seen)
    raise AssertionError(f"no {wanted!r} within {seconds} s; printed:\n{''.join(seen)}")


def test_watch_checks_again_when_a_file_is_saved(tiny_workbook: Path, submission: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [str(WORKBOOK), "check", "part1", str(submission), "--watch"]
    process = subprocess.Popen(command, cwd=tiny_workbook, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = read_until(process, "Watching", 60)
        assert "echo    0/4" in first
        time.sleep(0.5)  # the watcher is up
        (submission / "app/main.py").write_text(ECHO_MAIN)
        second = read_until(process, "Next:", 60)
        assert "app/main.py changed" in second
        assert "✓ echo    4/4  done" in second
    finally:
        process.terminate()
        process.wait(timeout=10)
