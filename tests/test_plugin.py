"""The pytest plugin: markers, partial credit, the score line and the results it records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbook.listing import read_tests

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


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.points(n, hint=None)*", "@pytest.mark.hidden*"])


def test_the_score_line_counts_points_credit_and_cases(pytester: pytest.Pytester) -> None:
    # passes 2 + half of 4; the parametrized test loses all 3; the skipped test does not count.
    result = run(pytester, "--strict-markers")
    result.stdout.fnmatch_lines(["*workbook score: 4/10 points*"])


def test_the_results_file_records_starts_outcomes_confirmations_and_the_end(pytester: pytest.Pytester) -> None:
    results = pytester.path / "results.jsonl"
    run(pytester, "--workbook-results", str(results))
    lines = records(results)
    outcomes = {str(line["nodeid"]).split("::")[1]: line for line in lines if line["kind"] == "outcome"}
    assert outcomes["test_passes"]["status"] == "passed"
    assert outcomes["test_one_case_fails[1]"]["status"] == "passed"
    assert outcomes["test_one_case_fails[2]"]["status"] == "failed"
    assert outcomes["test_one_case_fails[2]"]["reason"] == "with n=2: assert 2 == 1"  # the case is named
    assert outcomes["test_half_credit"]["credit"] == 0.5
    assert outcomes["test_needs_a_tool"]["status"] == "skipped"
    assert outcomes["test_setup_error"]["status"] == "error"
    assert "fixture broke" in str(outcomes["test_setup_error"]["reason"])
    assert {"kind": "started", "nodeid": "test_sample.py::test_passes", "timeout": 0} in lines
    # A test is confirmed only when its function returned: not the failing case, not the broken fixture.
    confirmed = {str(line["nodeid"]).split("::")[1] for line in lines if line["kind"] == "confirmed"}
    assert confirmed == {"test_passes", "test_one_case_fails[1]", "test_half_credit", "test_ungraded"}
    assert lines[-1] == {"kind": "finished"}


def test_credit_is_clamped_and_the_lowest_counts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_credit="""
        import pytest

        @pytest.mark.points(2)
        def test_greedy(credit):
            credit(1000)

        @pytest.mark.points(2)
        def test_twice(credit):
            credit(0.25)
            credit(1.0)
        """
    )
    results = pytester.path / "results.jsonl"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--workbook-results", str(results))
    credit = {str(r["nodeid"]).split("::")[1]: r["credit"] for r in records(results) if r["kind"] == "outcome"}
    assert credit == {"test_greedy": 1.0, "test_twice": 0.25}


def test_a_file_that_cannot_be_imported_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken="import not_a_module\n")
    results = pytester.path / "results.jsonl"
    pytester.runpytest_subprocess("--workbook-results", str(results))
    first = records(results)[0]
    assert first["kind"] == "outcome" and first["nodeid"] == "test_broken.py"
    assert first["status"] == "error"
    assert "No module named 'not_a_module'" in str(first["reason"])


MARKERS = """
import pytest

@pytest.mark.points(2)
def test_positional(): pass

@pytest.mark.points(n=2)
def test_keyword(): pass

@pytest.mark.points()
def test_empty_call(): pass

@pytest.mark.points
def test_bare(): pass

@pytest.mark.points(1.5, hint="a hint")
def test_fraction_and_hint(): pass

@pytest.mark.points(-3)
def test_negative(): pass

@pytest.mark.points("two")
def test_not_a_number(): pass
"""


def test_the_listing_and_the_plugin_read_points_the_same_way(pytester: pytest.Pytester) -> None:
    path = pytester.makepyfile(test_markers=MARKERS)
    listed = {test.name: test.points for test in read_tests(path, path.parent, "lesson")}
    assert listed == {
        "test_positional": 2, "test_keyword": 2, "test_empty_call": 1, "test_bare": 1,
        "test_fraction_and_hint": 1.5, "test_negative": 0, "test_not_a_number": 0,
    }  # fmt: skip
    pytester.makeconftest(
        """
        from workbook.plugin import points_of

        def pytest_collection_modifyitems(items):
            for item in items:
                print("POINTS", item.name, points_of(item))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--collect-only", "-q")
    seen = {line.split()[1]: float(line.split()[2]) for line in result.stdout.lines if line.startswith("POINTS")}
    assert seen == listed
