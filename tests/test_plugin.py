"""The pytest plugin: markers, partial credit, the score line and the results file."""

from __future__ import annotations

import json

import pytest

TESTS = """
import pytest

@pytest.mark.points(2)
def test_passes():
    '''Two points, earned.'''

@pytest.mark.points(3)
@pytest.mark.parametrize("n", [1, 2])
def test_one_case_fails(n):
    assert n == 1

@pytest.mark.points(4)
def test_half_credit(credit):
    credit(0.5)

@pytest.mark.points(1)
@pytest.mark.hidden
def test_needs_a_tool():
    pytest.skip("needs a tool")

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

@pytest.mark.points(1)
def test_setup_error(broken):
    pass

def test_ungraded():
    pass
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_sample=TESTS)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_the_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.points(n, hint=None)*", "@pytest.mark.hidden*"])


def test_the_score_line_counts_points_credit_and_cases(pytester: pytest.Pytester) -> None:
    # passes 2 + half of 4; the parametrized test loses all 3; the skipped test does not count.
    result = run(pytester, "--strict-markers")
    result.stdout.fnmatch_lines(["*workbook score: 4/10 points*"])


def test_the_results_file_has_one_line_per_test_and_a_final_line(pytester: pytest.Pytester) -> None:
    results = pytester.path / "results.jsonl"
    run(pytester, "--workbook-results", str(results))
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    outcomes = {line["nodeid"].split("::")[1]: line for line in lines if "nodeid" in line}
    assert outcomes["test_passes"]["status"] == "passed"
    assert outcomes["test_one_case_fails[1]"]["status"] == "passed"
    assert outcomes["test_one_case_fails[2]"]["status"] == "failed"
    assert outcomes["test_one_case_fails[2]"]["reason"] == "with n=2: assert 2 == 1"  # the case is named
    assert outcomes["test_half_credit"]["credit"] == 0.5
    assert outcomes["test_needs_a_tool"]["status"] == "skipped"
    assert outcomes["test_setup_error"]["status"] == "error"
    assert "fixture broke" in outcomes["test_setup_error"]["reason"]
    assert {"started": "test_sample.py::test_passes"} in lines
    assert lines[-1] == {"finished": True}


def test_a_file_that_cannot_be_imported_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken="import not_a_module\n")
    results = pytester.path / "results.jsonl"
    pytester.runpytest_subprocess("--workbook-results", str(results))
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert lines[0]["nodeid"] == "test_broken.py"
    assert lines[0]["status"] == "error"
    assert "No module named 'not_a_module'" in lines[0]["reason"]
