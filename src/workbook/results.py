"""The result types of grading, shared by the pytest plugin, the grader and every output format.

- `Outcome`: what happened to one test case in one pytest run (the plugin's record).
- `TestResult`: one graded test function in a scorecard, with its points.
- `Scorecard`: a whole submission, graded; it reads and writes itself as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from workbook.reasons import explain, shorten

LESSON = "lesson"  # the group of a part's own tests; every other group is a challenge slug
TIMEOUT_REASON = "took longer than {limit} and was stopped (an endless loop, or waiting for something that never comes?)"

# How a status is shown: its label and its colour (terminal and Markdown alike).
STATUS_STYLE = {
    "passed": ("✓ passed", "green"),
    "failed": ("✗ failed", "red"),
    "error": ("! error", "red"),
    "timeout": ("⏱ timeout", "yellow"),
    "skipped": ("- skipped", "dim"),
}

# Worst first: when a test's phases disagree, the worst one decides.
STATUSES = ("error", "timeout", "failed", "skipped", "passed")


def function_id(nodeid: str) -> str:
    """`tests/test_a.py::test_b[case]` -> `tests/test_a.py::test_b`: the graded unit."""
    return nodeid.split("[", 1)[0]


def clamp_credit(value: object) -> float:
    """A fraction of a test's points: always a finite number in [0, 1]."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return min(1.0, max(0.0, number)) if math.isfinite(number) else 0.0


def clamp_seconds(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return round(min(max(number, 0.0), 86400.0), 3) if math.isfinite(number) else 0.0


def failure_reason(report: Any) -> str:
    """A short sentence saying why a test phase did not pass ('' if it did)."""
    return explain(report)


@dataclass
class Outcome:
    """What happened to one test (one parametrized case) across its phases."""

    nodeid: str
    status: str = "passed"
    reason: str = ""
    credit: float = 1.0
    seconds: float = 0.0
    phases: list[str] = field(default_factory=list)

    def add_phase(self, when: str, outcome: str, reason: str, seconds: float = 0.0, crashed: bool = False) -> None:
        """Record one phase; `crashed`: the student's code raised (an error, not a wrong answer)."""
        self.phases.append(when)
        self.seconds = round(self.seconds + max(0.0, seconds), 3)
        if outcome == "passed":
            return
        if outcome == "skipped":
            status = "skipped"
        elif when == "call":
            status = "error" if crashed else "failed"
        else:
            status = "error"
            reason = f"error while {'preparing' if when == 'setup' else 'cleaning up after'} the test: {reason}"
        self.worsen(status, reason)

    def worsen(self, status: str, reason: str) -> None:
        if STATUSES.index(status) < STATUSES.index(self.status):
            self.status, self.reason = status, reason

    def as_dict(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "status": self.status, "reason": self.reason, "credit": self.credit,
                "seconds": self.seconds}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        status = str(data.get("status", "error"))
        return cls(
            nodeid=str(data["nodeid"]),
            status=status if status in STATUSES else "error",
            reason=shorten(str(data.get("reason", ""))),
            credit=clamp_credit(data.get("credit", 1.0)),
            seconds=clamp_seconds(data.get("seconds", 0.0)),
        )


def combine(runs: list[Outcome]) -> tuple[str, str, float]:
    """(status, reason, fraction earned) of a test function from its cases.

    A parametrized test earns its points only when every case passes."""
    worst = min(runs, key=lambda run: STATUSES.index(run.status))
    if worst.status != "passed":
        return worst.status, worst.reason, 0.0
    return "passed", "", min(clamp_credit(run.credit) for run in runs)


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite the name

    id: str
    group: str
    name: str
    doc: str
    points: float
    earned: float
    status: str  # passed, failed, error, timeout, skipped
    reason: str = ""
    hint: str | None = None
    hidden: bool = False
    seconds: float = 0.0


@dataclass
class Scorecard:
    part: str
    submission: str
    results: list[TestResult]
    problem: str | None = None  # one sentence when the code could not even be loaded
    notes: list[str] = field(default_factory=list)  # for everyone: what was left out, how it ran
    flags: list[str] = field(default_factory=list)  # for the instructor: signs of tampering
    manifest: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    graded_groups: list[str] = field(default_factory=list)

    def groups(self) -> dict[str, tuple[float, float]]:
        """(earned, possible) points per group, lesson first. Skipped tests do not count."""
        totals: dict[str, tuple[float, float]] = {}
        for result in sorted(self.results, key=lambda r: r.group != LESSON):
            earned, possible = totals.get(result.group, (0.0, 0.0))
            if result.status != "skipped":
                earned, possible = earned + result.earned, possible + result.points
            totals[result.group] = (earned, possible)
        return totals

    @property
    def earned(self) -> float:
        return round(sum(earned for earned, _ in self.groups().values()), 2)

    @property
    def possible(self) -> float:
        return round(sum(possible for _, possible in self.groups().values()), 2)

    @property
    def complete(self) -> bool:
        return self.possible > 0 and self.earned >= self.possible

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = {"earned": self.earned, "possible": self.possible}
        data["groups"] = {name: {"earned": e, "possible": p} for name, (e, p) in self.groups().items()}
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def write_json(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        test_fields = {f.name for f in fields(TestResult)}
        values["results"] = [TestResult(**{k: v for k, v in r.items() if k in test_fields}) for r in data["results"]]
        return cls(**values)

    @classmethod
    def read_json(cls, path: Path) -> Scorecard:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
