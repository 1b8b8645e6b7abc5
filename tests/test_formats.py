"""Every output format, from one graded run and from scorecards made to be awkward.

Gradescope's results.json is checked against the fields Gradescope documents;
the JUnit XML against the JUnit schema's shape (testsuites, testsuite,
testcase, failure/error/skipped and their counts)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from workbook import formats
from workbook.catalog import Part
from workbook.cli import app
from workbook.grader import grade
from workbook.results import Scorecard, TestResult

# What Gradescope's autograder specification documents for results.json.
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}  # fmt: skip
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
                   "visibility", "extra_data"}  # fmt: skip
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
TEXT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_gradescope(data: dict[str, object]) -> None:
    assert set(data) <= GRADESCOPE_TOP
    assert isinstance(data["score"], int | float)
    assert data["visibility"] in VISIBILITY and data["stdout_visibility"] in VISIBILITY
    assert data["output_format"] in TEXT_FORMATS
    tests = data["tests"]
    assert isinstance(tests, list) and tests
    for test in tests:
        assert set(test) <= GRADESCOPE_TEST, set(test) - GRADESCOPE_TEST
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITY
        assert isinstance(test["output"], str)
    assert sum(test["score"] for test in tests) == pytest.approx(data["score"])


def check_junit(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = suite.findall("testcase")
        outcomes = [[child.tag for child in case if child.tag in ("failure", "error", "skipped")] for case in cases]
        assert all(len(found) <= 1 for found in outcomes)
        counted = {
            "tests": len(cases),
            "failures": sum(found == ["failure"] for found in outcomes),
            "errors": sum(found == ["error"] for found in outcomes),
            "skipped": sum(found == ["skipped"] for found in outcomes),
        }
        for key, value in counted.items():
            assert int(suite.get(key, "-1")) == value, (suite.get("name"), key)
            totals[key] += value
        for case in cases:
            assert case.get("name") and case.get("classname")
            float(case.get("time", "x"))
            for child in case:
                if child.tag in ("failure", "error"):
                    assert child.get("message") is not None and child.get("type")
    for key, value in totals.items():
        assert int(root.get(key, "-1")) == value
    return root


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    """The tiny lesson with its health check broken: one test fails, one passes, the challenge fails."""
    from conftest import make_tiny_workbook
    from workbook.catalog import get_part

    base = tmp_path_factory.mktemp("formats")
    part = get_part(make_tiny_workbook(base / "workbook"), "part1")
    main = part.folder / "app" / "main.py"
    main.write_text(main.read_text().replace('{"status": "ok"}', '{"status": "[/x] <b>"}'))
    return grade(part, part.folder)


def awkward() -> Scorecard:
    """A scorecard with a hidden test, a skip, a timeout, and a reason full of markup and control characters."""
    def result(name: str, status: str, earned: float, points: float = 2, **extra: object) -> TestResult:
        return TestResult(id=f"tests/test_a.py::{name}", group="lesson", name=name, doc=f"Checks {name}.",
                          points=points, earned=earned, status=status, **extra)  # type: ignore[arg-type]  # fmt: skip

    return Scorecard(
        part="part9",
        submission="=HYPERLINK(\"http://x\")",
        results=[
            result("test_ok", "passed", 2),
            result("test_markup", "failed", 0, reason="assert '[/x] [bold]</script>\x00\x1b[31m' == 'ok' `tick`", hint="Look at it."),
            result("test_secret", "failed", 0, hidden=True, reason="hidden reason"),
            result("test_slow", "timeout", 0, reason="took longer than 3 s"),
            result("test_tool", "skipped", 0, reason="needs a tool"),
        ],
        notes=["Not copied: huge.bin (too large)"],
        flags=["the guard refused: gc.get_objects"],
    )


def test_gradescope_results_have_the_documented_fields(graded: Scorecard) -> None:
    data = formats.gradescope(graded)
    check_gradescope(data)
    assert data["score"] == graded.earned == 3
    by_name = {test["name"]: test for test in data["tests"]}
    assert by_name["The health check answers ok."]["status"] == "failed"
    assert "[/x] <b>" in by_name["The health check answers ok."]["output"]
    check_gradescope(formats.gradescope(awkward()))


def test_hidden_tests_are_published_later_on_gradescope() -> None:
    data = formats.gradescope(awkward())
    visibility = {test["name"]: test["visibility"] for test in data["tests"]}
    assert visibility["Checks test_secret."] == "after_published"
    assert visibility["Checks test_ok."] == "visible"
    skipped = next(test for test in data["tests"] if test["name"] == "Checks test_tool.")
    assert skipped["max_score"] == 0 and "needs a tool" in skipped["output"]
    assert data["extra_data"]["tampering_signs"] == ["the guard refused: gc.get_objects"]


def test_junit_has_the_schemas_shape_and_counts(graded: Scorecard) -> None:
    root = check_junit(formats.junit(graded))
    assert {suite.get("name") for suite in root} == {"lesson", "echo"}
    root = check_junit(formats.junit(awkward()))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("5", "2", "1", "1")
    failure = root.find(".//testcase[@name='test_markup']/failure")
    assert failure is not None and "\x00" not in (failure.get("message") or "")


def test_markdown_feedback_names_no_hidden_test_and_quotes_what_the_code_said() -> None:
    text = formats.markdown(awkward())
    assert "Checks test_secret." not in text and "hidden reason" not in text
    assert "1 hidden tests: 0 pass, 0/2 points" in text
    assert "Checks test_markup." in text and "hint: Look at it." in text
    line = next(line for line in text.splitlines() if "[/x]" in line)
    assert "``" in line  # inside a code span longer than the backticks it holds
    assert "**Score: 2/8 points**" in text


def test_the_table_prints_whatever_the_reasons_hold(graded: Scorecard) -> None:
    out = io.StringIO()
    formats.show_table(awkward(), Console(file=out, width=120))
    formats.show_table(graded, Console(file=out, width=120))
    text = out.getvalue()
    assert "[/x] [bold]" in text and "Tampering sign: the guard refused: gc.get_objects" in text
    assert "Score: 3/9 points" in text


def test_classroom_result_hides_hidden_tests(graded: Scorecard) -> None:
    data = formats.classroom(awkward())
    assert data["version"] == 1 and data["status"] == "fail" and data["max_score"] == 8
    names = [test["name"] for test in data["tests"]]
    assert "hidden test 1" in names and "Checks test_secret." not in names
    assert sum(test["score"] for test in data["tests"]) == 2
    assert formats.classroom(graded)["status"] == "fail"


def test_the_gradebook_has_a_row_per_submission_and_a_column_per_test_and_group(graded: Scorecard) -> None:
    text = formats.gradebook([("alice", graded), ("=cmd", awkward())])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["submission"] for row in rows] == ["alice", "'=cmd"]
    assert rows[0]["score"] == "3" and rows[0]["possible"] == "9" and rows[0]["lesson"] == "3" and rows[0]["echo"] == "0"
    assert rows[0]["tests/test_basic.py::test_missing_route_is_404"] == "3"
    assert rows[1]["tests/test_a.py::test_tool"] == ""  # skipped: not counted
    assert rows[1]["tampering_signs"] == "1"


def test_the_summary_finds_the_hardest_tests(graded: Scorecard) -> None:
    summary = formats.summarize([("a", graded), ("b", graded), ("c", awkward())])
    assert summary.submissions == 3 and summary.median == 3 and summary.mean == pytest.approx(8 / 3, abs=0.01)
    assert summary.pass_rates["tests/test_basic.py::test_health"] == 0
    assert summary.hardest[0][2] == 0
    assert summary.flagged == ["c"]
    assert "| 0% |" in formats.summary_markdown(summary)


def test_grade_writes_every_format_before_it_prints(in_workbook: Path, tmp_path: Path, tiny_part: Part) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    every = [arg for name in formats.FORMATS for arg in ("--format", name)]
    result = runner.invoke(app, ["grade", "part1", str(tiny_part.folder), *every, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(formats.FILE_FORMATS.values())
    check_gradescope(json.loads((out / "results.json").read_text()))
    check_junit((out / "junit.xml").read_text())
    assert Scorecard.read_json(out / "scorecard.json").earned == 5
    assert "Score: 5/9 points" in " ".join(result.output.split())

    alone = runner.invoke(app, ["grade", "part1", str(tiny_part.folder), "--lesson-only", "--format", "gradescope"])
    assert alone.exit_code == 0
    check_gradescope(json.loads(alone.stdout))

    both = runner.invoke(app, ["grade", "part1", str(tiny_part.folder), "-f", "json", "-f", "junit"])
    assert both.exit_code == 2 and "--out" in both.output
    unknown = runner.invoke(app, ["grade", "part1", str(tiny_part.folder), "-f", "pdf"])
    assert unknown.exit_code == 2 and "the formats are: table, json" in unknown.output
