"""One graded test's outcome, shared by the pytest plugin and the grader."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbook.reasons import explain

TIMEOUT_REASON = "took longer than {limit} and was stopped (an endless loop, or waiting for something that never comes?)"

# Worst first: when a test's phases disagree, the worst one decides.
STATUSES = ("error", "timeout", "failed", "skipped", "passed")


def function_id(nodeid: str) -> str:
    """`tests/test_a.py::test_b[case]` -> `tests/test_a.py::test_b`: the graded unit."""
    return nodeid.split("[", 1)[0]


def failure_reason(report: Any) -> str:
    """A short sentence saying why a test phase did not pass ('' if it did)."""
    return explain(report)


def is_timeout(reason: str) -> bool:
    return "Timeout" in reason and "pytest-timeout" in reason


@dataclass
class Outcome:
    """What happened to one test (one parametrized case) across its phases."""

    nodeid: str
    status: str = "passed"
    reason: str = ""
    credit: float = 1.0
    phases: list[str] = field(default_factory=list)

    def add_phase(self, when: str, outcome: str, reason: str, crashed: bool = False) -> None:
        """Record one phase; `crashed`: the student's code raised (an error, not a wrong answer)."""
        self.phases.append(when)
        if outcome == "passed":
            return
        if outcome == "skipped":
            status = "skipped"
        elif is_timeout(reason):
            status = "timeout"
            reason = TIMEOUT_REASON.format(limit="its time limit")
        elif when == "call":
            status = "error" if crashed else "failed"
        else:
            status = "error"
            reason = f"error while {'preparing' if when == 'setup' else 'cleaning up after'} the test: {reason}"
        if STATUSES.index(status) < STATUSES.index(self.status):
            self.status, self.reason = status, reason

    def as_dict(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "status": self.status, "reason": self.reason, "credit": self.credit}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            nodeid=str(data["nodeid"]),
            status=str(data.get("status", "error")),
            reason=str(data.get("reason", "")),
            credit=float(data.get("credit", 1.0)),
        )


def combine(runs: list[Outcome]) -> tuple[str, str, float]:
    """(status, reason, fraction earned) of a test function from its cases.

    A parametrized test earns its points only when every case passes."""
    worst = min(runs, key=lambda run: STATUSES.index(run.status))
    if worst.status != "passed":
        return worst.status, worst.reason, 0.0
    return "passed", "", min(run.credit for run in runs)
