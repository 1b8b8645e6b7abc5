"""`workbook grade` on good, partial and broken submissions of a tiny part.

Whatever a submission does, the grader finishes and lists every test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ECHO_SOLUTION, write
from workbook.catalog import Part
from workbook.cli import app
from workbook.grader import Scorecard, TestResult, grade

ALL_TESTS = {"test_health", "test_missing_route_is_404", "test_echo"}


def by_name(card: Scorecard) -> dict[str, TestResult]:
    return {result.name: result for result in card.results}


def break_health(submission: Path, body: str) -> None:
    """Replace the body of the health endpoint with `body`."""
    main = submission / "app" / "main.py"
    source = main.read_text()
    assert '    return {"status": "ok"}' in source
    main.write_text(source.replace('    return {"status": "ok"}', body))


def test_the_lesson_scores_all_lesson_points_and_no_challenge_points(tiny_part: Part) -> None:
    card = grade(tiny_part, tiny_part.folder)
    assert card.groups() == {"lesson": (5.0, 5.0), "echo": (0.0, 4.0)}
    assert {r.name for r in card.results} == ALL_TESTS
    assert card.problem is None
    echo = by_name(card)["test_echo"]
    assert echo.status == "failed" and "assert" in echo.reason
    assert echo.doc == "GET /echo/{word} answers the word back."


def test_a_partial_submission_loses_exactly_the_failing_tests_points(tiny_part: Part, submission: Path) -> None:
    break_health(submission, '    return {"status": "fine"}')
    card = grade(tiny_part, submission, challenges=[])
    results = by_name(card)
    assert results["test_health"].status == "failed"
    assert results["test_health"].earned == 0
    assert results["test_missing_route_is_404"].earned == 3
    assert card.groups() == {"lesson": (3.0, 5.0)}


def test_progress_is_told_as_each_result_comes_in(tiny_part: Part, submission: Path) -> None:
    """What `check` shows while the tests run: how many ran so far, how many did not pass."""
    break_health(submission, '    return {"status": "fine"}')
    heard: list[tuple[int, int]] = []
    card = grade(tiny_part, submission, on_progress=lambda run, failed: heard.append((run, failed)))
    assert [run for run, _ in heard] == list(range(1, len(card.results) + 1))
    assert heard[-1] == (len(card.results), sum(result.status != "passed" for result in card.results))
    assert heard[-1][1] >= 2  # the broken health check, and the challenge's test on the bare lesson


def test_a_submission_with_the_solution_scores_everything(tiny_part: Part, submission: Path) -> None:
    write(submission / "app" / "main.py", ECHO_SOLUTION)
    card = grade(tiny_part, submission)
    assert card.complete and card.earned == 9


def test_a_syntax_error_scores_zero_with_one_sentence_naming_file_and_line(tiny_part: Part, submission: Path) -> None:
    main = submission / "app" / "main.py"
    main.write_text(main.read_text().replace("def health()", "def health(:"))
    card = grade(tiny_part, submission)
    assert card.problem is not None
    assert card.problem.startswith("app/main.py line 7: SyntaxError")
    assert "Traceback" not in card.problem and "\n" not in card.problem
    assert card.earned == 0 and {r.name for r in card.results} == ALL_TESTS
    assert all(r.reason == card.problem for r in card.results)


def test_a_missing_module_is_named_with_the_importing_line(tiny_part: Part, submission: Path) -> None:
    main = submission / "app" / "main.py"
    main.write_text("import app.helpers_that_do_not_exist\n" + main.read_text())
    card = grade(tiny_part, submission)
    assert card.problem == (
        "Importing app.main failed: app/main.py line 1: "
        "ModuleNotFoundError: No module named 'app.helpers_that_do_not_exist'"
    )
    assert card.earned == 0 and len(card.results) == 3


def test_exiting_at_import_time_is_explained(tiny_part: Part, submission: Path) -> None:
    main = submission / "app" / "main.py"
    main.write_text(main.read_text() + "\nimport sys\nsys.exit('bye')\n")
    card = grade(tiny_part, submission)
    assert card.problem == "Importing app.main failed: the code ended the program while being imported: bye."


def test_a_folder_without_app_main_is_explained(tiny_part: Part, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    card = grade(tiny_part, empty)
    assert card.problem == "There is no app/main.py in the submission: give the folder that holds app/."
    assert card.earned == 0 and len(card.results) == 3


def test_an_endless_loop_times_out_one_test_and_the_others_still_run(tiny_part: Part, submission: Path) -> None:
    break_health(submission, "    while True:\n        pass")
    card = grade(tiny_part, submission, per_test_timeout=3)
    results = by_name(card)
    assert results["test_health"].status == "timeout"
    # The reason names the request that never answered and where the code was stuck.
    # The stacks are sampled when the time is up: on `while True:` (line 8) or on its `pass` (line 9).
    assert re.match(r"GET /health did not answer within 3 s; it was still running app/main\.py line [89], in health",
                    results["test_health"].reason), results["test_health"].reason  # fmt: skip
    assert results["test_missing_route_is_404"].status == "passed"
    assert results["test_echo"].status == "failed"


def test_killing_the_process_in_a_test_costs_only_that_test(tiny_part: Part, submission: Path) -> None:
    break_health(submission, "    import os\n    os._exit(0)")
    card = grade(tiny_part, submission)
    results = by_name(card)
    assert results["test_health"].status == "error"
    assert "the program ended during this test" in results["test_health"].reason
    assert results["test_missing_route_is_404"].status == "passed"


def test_the_watchdog_ends_a_run_that_takes_too_long(tiny_part: Part, submission: Path) -> None:
    break_health(submission, "    import time\n    time.sleep(60)\n    return {}")
    card = grade(tiny_part, submission, per_test_timeout=60, watchdog=8)
    results = by_name(card)
    # Stopped while running (timeout) or before it started (error): never passed, always explained.
    assert results["test_health"].status in {"timeout", "error"}
    assert "watchdog" in results["test_health"].reason or "stopped after 8 s" in results["test_health"].reason
    assert {r.name for r in card.results} == ALL_TESTS
    assert card.seconds < 30


def test_printing_megabytes_does_not_disturb_the_grader(tiny_part: Part, submission: Path) -> None:
    break_health(submission, '    print("x" * 30_000_000)\n    return {"status": "ok"}')
    card = grade(tiny_part, submission, challenges=[])
    assert card.complete


def test_tests_and_settings_brought_by_the_submission_are_replaced(tiny_part: Part, submission: Path) -> None:
    # A "submission" that tries to pass by bringing its own tests and settings.
    (submission / "tests" / "test_basic.py").write_text("def test_health():\n    pass\n")
    (submission / "challenges" / "echo" / "test_echo.py").write_text("def test_echo():\n    pass\n")
    (submission / "conftest.py").write_text("collect_ignore_glob = ['*']\n")
    (submission / "pytest.ini").write_text("[pytest]\naddopts = --co\n")
    (submission / "pytest.py").write_text("raise SystemExit('shadowed pytest')\n")
    card = grade(tiny_part, submission)
    assert card.groups() == {"lesson": (5.0, 5.0), "echo": (0.0, 4.0)}
    pristine = (tiny_part.folder / "challenges/echo/test_echo.py").read_bytes()
    import hashlib

    assert card.manifest["challenges/echo/test_echo.py"] == hashlib.sha256(pristine).hexdigest()


def test_deleting_files_while_running_does_not_lose_results(tiny_part: Part, submission: Path) -> None:
    break_health(
        submission,
        "    import pathlib, shutil\n"
        "    shutil.rmtree(pathlib.Path(__file__).parents[1] / 'tests', ignore_errors=True)\n"
        '    return {"status": "ok"}',
    )
    card = grade(tiny_part, submission, challenges=[])
    assert card.groups() == {"lesson": (5.0, 5.0)}


def test_the_submission_folder_is_left_untouched(tiny_part: Part, submission: Path) -> None:
    before = sorted(p.relative_to(submission).as_posix() for p in submission.rglob("*"))
    grade(tiny_part, submission)
    after = sorted(p.relative_to(submission).as_posix() for p in submission.rglob("*"))
    assert before == after


def test_cli_exit_codes_and_json(in_workbook: Path, submission: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "results.json"
    result = runner.invoke(app, ["grade", "part1", str(in_workbook / "lessons/part1"), "--json", str(out)])
    assert result.exit_code == 1, result.output  # lesson passes, the challenge does not
    data = json.loads(out.read_text())
    assert data["score"] == {"earned": 5.0, "possible": 9.0}
    assert data["groups"]["echo"] == {"earned": 0.0, "possible": 4.0}
    assert {r["name"] for r in data["results"]} == ALL_TESTS

    result = runner.invoke(app, ["grade", "part1", str(in_workbook / "lessons/part1"), "--lesson-only"])
    assert result.exit_code == 0, result.output

    main = submission / "app" / "main.py"
    main.write_text(main.read_text().replace("def health()", "def health(:"))
    result = runner.invoke(app, ["grade", "part1", str(submission)])
    assert result.exit_code == 3
    assert "app/main.py line 7: SyntaxError" in result.output

    result = runner.invoke(app, ["grade", "part1", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["grade", "part7", str(submission)])
    assert result.exit_code == 2
    result = runner.invoke(app, ["grade", "part1", str(submission), "--challenge", "nope"])
    assert result.exit_code == 2


def test_check_shows_hints_for_what_fails(in_workbook: Path, submission: Path) -> None:
    (submission / "app" / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    result = CliRunner().invoke(app, ["check", "part1", str(submission), "--lesson-only"])
    assert result.exit_code == 1
    assert "The health check answers ok." in " ".join(result.output.split())


def test_without_a_sandbox_the_grade_is_the_same_and_the_scorecard_says_so(
    tiny_part: Part, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_ISOLATION", "none")
    card = grade(tiny_part, tiny_part.folder)
    assert card.groups() == {"lesson": (5.0, 5.0), "echo": (0.0, 4.0)}
    assert any(note.startswith("Sandbox: none, only limits") for note in card.notes)
    assert "Sandbox: isolation was turned off for this run" in card.notes
