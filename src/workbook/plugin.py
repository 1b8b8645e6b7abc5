"""The workbook's pytest plugin: points, hidden tests, partial credit, results.

Loaded automatically in every pytest run of this project (an entry point).
It registers the markers graded tests carry:

    @pytest.mark.points(2, hint="Look at Query(ge=..., le=...)")
    @pytest.mark.hidden

adds a `credit` fixture for tests that earn part of their points, prints a
score line after the run, and, with `--workbook-results FILE`, writes one JSON
line per test for the grader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbook.reasons import case_label, is_crash
from workbook.results import Outcome, combine, failure_reason, function_id

RESULTS_OPTION = "--workbook-results"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        RESULTS_OPTION,
        metavar="FILE",
        default=None,
        help="Write one JSON line per graded test to FILE (used by `workbook grade`).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n, hint=None): a graded test worth n points, with an optional hint"
    )
    config.addinivalue_line("markers", "hidden: counted in the score, details withheld from students")
    config.pluginmanager.register(ResultCollector(config), "workbook-results")


@pytest.fixture
def credit(request: pytest.FixtureRequest) -> Callable[[float], None]:
    """Call `credit(fraction)` to earn only part of the test's points when it passes."""

    def give(fraction: float) -> None:
        request.node.user_properties.append(("credit", max(0.0, min(1.0, float(fraction)))))

    return give


def points_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None:
        return 0.0
    points = marker.args[0] if marker.args else marker.kwargs.get("n", 1)
    return float(points)


class ResultCollector:
    """Turns pytest's per-phase reports into one result per test."""

    def __init__(self, config: pytest.Config) -> None:
        path = config.getoption(RESULTS_OPTION)
        self.path = Path(path) if path else None
        self.items: dict[str, pytest.Item] = {}
        self.outcomes: dict[str, Outcome] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.items = {item.nodeid: item for item in items}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            outcome = Outcome(nodeid=report.nodeid, status="error")
            outcome.reason = "the test file could not be loaded: " + failure_reason(report)
            self._write(outcome)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._write_line({"started": nodeid})

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.outcomes.get(report.nodeid)
        if outcome is None:
            outcome = self.outcomes[report.nodeid] = Outcome(nodeid=report.nodeid)
        outcome.add_phase(report.when, report.outcome, failure_reason(report), crashed=is_crash(report))
        for key, value in report.user_properties:
            if key == "credit":
                outcome.credit = value
        if report.when == "teardown":
            params = getattr(getattr(self.items.get(report.nodeid), "callspec", None), "params", None)
            if params and outcome.status != "passed":
                outcome.reason = f"with {case_label(params)}: {outcome.reason}"
            self._write(outcome)

    def _write(self, outcome: Outcome) -> None:
        self._write_line(outcome.as_dict())

    def _write_line(self, data: dict[str, Any]) -> None:
        if self.path is None:
            return
        # Written as each test ends, so a run stopped by the watchdog keeps what it did.
        with self.path.open("a", encoding="utf-8") as results:
            results.write(json.dumps(data) + "\n")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        if self.path is None:
            return
        self._write_line({"finished": True})
        # When grading, do not wait for threads the submission left running
        # (an endless loop in a request handler, say): the results are written.
        os._exit(0)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        runs: dict[str, list[Outcome]] = {}
        points: dict[str, float] = {}
        for nodeid, outcome in self.outcomes.items():
            item = self.items.get(nodeid)
            worth = points_of(item) if item is not None else 0
            if worth == 0:
                continue
            runs.setdefault(function_id(nodeid), []).append(outcome)
            points[function_id(nodeid)] = worth
        earned = possible = 0.0
        for key, outcomes in runs.items():
            status, _, fraction = combine(outcomes)
            if status != "skipped":
                possible += points[key]
                earned += points[key] * fraction
        if possible:
            terminalreporter.write_sep("-", f"workbook score: {earned:g}/{possible:g} points")
