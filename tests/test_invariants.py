"""The workbook's promises, for every real part (README.md, "For maintainers";
CONTRIBUTING.md, "Changing a lesson").

These grade every lesson, every challenge on the bare lesson, every solution
on its challenge, and each part's tests against the previous part's code.

Left to `workbook verify` (which CI runs after the tests): the lesson's tests
passing again with each solution applied, and Part 4's coverage gate. Each is
a whole lesson run (together, two thirds of the suite's time) for a promise
that only a change to a lesson or a patch can break, while what is here also
checks the workbook's own code (the grader on every real part). Run `uv run
workbook verify` after changing a lesson (CONTRIBUTING.md says so); how verify
finds a solution that breaks the lesson, or a gap in coverage, is tested in
test_verify.py on a tiny workbook."""

from __future__ import annotations

import pytest

from conftest import ROOT
from workbook.catalog import parts
from workbook.verify import Job, jobs

PARTS = parts(ROOT)


# One test per independent check, so parallel workers share them out; the
# slowest (whole lesson runs of the later parts) first.
JOBS = sorted(jobs(PARTS, full=False), key=lambda job: (job.name.endswith(("-conventions", "-previous-part")), -job.part.number))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("job", JOBS, ids=[job.name for job in JOBS])
def test_every_promise_holds(job: Job) -> None:
    problems = [f"{c.part} {c.name}: {c.detail}" for c in job.run() if not c.ok]
    assert problems == []


def test_there_are_four_parts() -> None:
    assert [part.name for part in PARTS] == ["part1", "part2", "part3", "part4"]
