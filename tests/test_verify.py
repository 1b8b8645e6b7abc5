"""`workbook verify` on a tiny workbook: it passes when the promises hold, and
fails when one is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ECHO_PATCH, ECHO_SOLUTION, write
from workbook.catalog import Part, get_part
from workbook.verify import Check, coverage_check, jobs, verify


def failed(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.detail for check in checks if not check.ok}


def run_jobs(part: Part, *names: str) -> list[Check]:
    """What verify's jobs of these names find in `part` (each whole lesson run
    is seconds of CPU: a test runs the jobs it is about, not all of verify)."""
    wanted = {f"{part.name}-{name}" for name in names}
    chosen = [job for job in jobs([part]) if job.name in wanted]
    assert {job.name for job in chosen} == wanted
    return [check for job in chosen for check in job.run()]


def add_part2(root: Path) -> Part:
    """A second tiny part whose lesson test needs what part 1 lacks."""
    lesson1, lesson2 = root / "lessons/part1", root / "lessons/part2"
    import shutil

    shutil.copytree(lesson1, lesson2)
    shutil.copytree(root / "solutions/part1", root / "solutions/part2")
    write(lesson2 / "app/main.py", ECHO_SOLUTION)
    (lesson2 / "tests/test_echo_is_there.py").write_text(
        "import pytest\n\n@pytest.mark.points(1)\ndef test_echo_route(client):\n"
        '    """GET /echo/x answers."""\n    assert client.get("/echo/x").status_code == 200\n'
    )
    shutil.rmtree(lesson2 / "challenges")
    return get_part(root, "part2")


def test_a_sound_workbook_passes_every_check_but_the_challenge_count(tiny_workbook: Path) -> None:
    checks = verify([get_part(tiny_workbook, "part1")])
    # The tiny part has one challenge where a real part needs three: the only failure.
    assert failed(checks) == {"has at least three challenges": "1 found"}
    names = {check.name for check in checks}
    assert "echo: every test fails on the bare lesson" in names
    assert "echo: solution passes, lesson still passes" in names


def test_a_challenge_test_that_passes_on_the_bare_lesson_fails_verify(tiny_workbook: Path) -> None:
    challenge_test = tiny_workbook / "lessons/part1/challenges/echo/test_echo.py"
    challenge_test.write_text(
        challenge_test.read_text()
        + '\n\n@pytest.mark.points(1)\ndef test_always(client):\n    """Passes on anything."""\n'
    )
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "lesson"))
    assert problems["echo: every test fails on the bare lesson"] == "passing already: test_always"


def test_a_solution_that_breaks_the_lesson_fails_verify(tiny_workbook: Path) -> None:
    solution = tiny_workbook / "solutions/part1/echo.patch"
    broken = ECHO_PATCH.replace(
        '     return {"status": "ok"}\n', '-    return {"status": "ok"}\n+    return {"status": "broken"}\n'
    )
    solution.write_text(broken)
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "echo"))
    assert "test_health" in problems["echo: solution passes, lesson still passes"]


def test_a_solution_that_no_longer_applies_fails_verify_naming_the_hunk(tiny_workbook: Path) -> None:
    """The lesson changed a line the patch relies on: verify says so instead of grading a wrong copy."""
    main = tiny_workbook / "lessons/part1/app/main.py"
    main.write_text(main.read_text().replace("def health()", "def health_check()"))
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "echo"))
    detail = problems["echo: solution passes, lesson still passes"]
    assert detail.startswith("solutions/part1/echo.patch no longer applies to the lesson: app/main.py: hunk 1 of 1")
    assert "line 7 should be 'def health() -> dict[str, str]:'" in detail
    assert "CONTRIBUTING.md" in detail


def test_a_missing_solution_fails_verify(tiny_workbook: Path) -> None:
    (tiny_workbook / "solutions/part1/echo.patch").unlink()
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "conventions", "echo"))
    assert problems["echo: has a solution"] == "no solutions/part1/echo.patch"
    assert problems["echo: solution passes, lesson still passes"] == "no solution to apply"


def test_a_lesson_that_fails_its_own_tests_fails_verify(tiny_workbook: Path) -> None:
    main = tiny_workbook / "lessons/part1/app/main.py"
    main.write_text(main.read_text().replace('{"status": "ok"}', '{"status": "broken"}'))
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "lesson"))
    assert problems["lesson scores 100% on its own tests"].startswith("3/5")


@pytest.mark.parametrize("broken", ["no points", "no docstring"])
def test_a_test_without_points_or_docstring_fails_verify(tiny_workbook: Path, broken: str) -> None:
    tests = tiny_workbook / "lessons/part1/tests/test_basic.py"
    old = '@pytest.mark.points(2)\ndef test_health(client):\n    """The health check answers ok."""\n'
    new = {
        "no points": 'def test_health(client):\n    """The health check answers ok."""\n',
        "no docstring": "@pytest.mark.points(2)\ndef test_health(client):\n",
    }[broken]
    assert old in tests.read_text()
    tests.write_text(tests.read_text().replace(old, new))
    problems = failed(run_jobs(get_part(tiny_workbook, "part1"), "conventions"))
    assert "test_health" in problems["every graded test has points and a docstring"]


def test_previous_parts_code_must_score_below_100_percent(tiny_workbook: Path) -> None:
    part2 = add_part2(tiny_workbook)
    checks = {check.name: check for check in run_jobs(part2, "previous-part")}
    assert checks["part1's code scores below 100% here"].ok
    # Now make part 2's tests unable to tell the two parts apart.
    (part2.folder / "tests/test_echo_is_there.py").unlink()
    checks = {check.name: check for check in run_jobs(part2, "previous-part")}
    assert not checks["part1's code scores below 100% here"].ok


def test_a_lesson_that_demands_coverage_must_reach_it(tiny_workbook: Path) -> None:
    """Part 4's pytest.ini demands 100% coverage: verify runs the part's own pytest and holds it to that."""
    lesson = tiny_workbook / "lessons/part1"
    write(lesson / "pytest.ini", "[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider --cov=app --cov-branch --cov-fail-under=100\n")
    part = get_part(tiny_workbook, "part1")
    assert [job.name for job in jobs([part]) if job.name.endswith("-coverage")] == ["part1-coverage"]
    assert coverage_check(part)[0].ok

    main = lesson / "app/main.py"
    main.write_text(main.read_text() + "\n\ndef never_called() -> int:\n    return 1\n")
    check = coverage_check(part)[0]
    assert not check.ok
    assert "not reached" in check.detail and "app/main.py" in check.detail
    assert not [job for job in jobs([part], full=False) if job.name.endswith("-coverage")]
