"""The workbook's promises, for every real part (README.md, "For maintainers";
CONTRIBUTING.md, "Changing a lesson").

These grade every lesson, every challenge on the bare lesson, every solution
on its challenge, and each part's tests against the previous part's code.

The one promise left to `workbook verify` (which CI runs after the tests) is
the lesson's tests passing again with each solution applied: that is a whole
lesson run per challenge, two thirds of the time of the suite, for a promise
that only a change to a lesson or a patch can break. Run `uv run workbook
verify` after such a change (CONTRIBUTING.md says so); how verify finds a
solution that breaks the lesson is tested in test_verify.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from workbook.catalog import parts
from workbook.verify import Job, jobs

PARTS = parts(ROOT)


# One test per independent check, so parallel workers share them out; the
# slowest (whole lesson runs of the later parts) first.
JOBS = sorted(jobs(PARTS, lessons_with_solutions=False), key=lambda job: (job.name.endswith(("-conventions", "-previous-part")), -job.part.number))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("job", JOBS, ids=[job.name for job in JOBS])
def test_every_promise_holds(job: Job) -> None:
    problems = [f"{c.part} {c.name}: {c.detail}" for c in job.run() if not c.ok]
    assert problems == []


def test_there_are_four_parts() -> None:
    assert [part.name for part in PARTS] == ["part1", "part2", "part3", "part4"]


@pytest.mark.timeout(1200)
def test_part4_lessons_tests_cover_every_line_and_branch(tmp_path: Path) -> None:
    """`cd lessons/part4 && uv run pytest` enforces 100% coverage of app/ (its pytest.ini)."""
    env = {**os.environ, "COVERAGE_FILE": str(tmp_path / ".coverage")}
    result = subprocess.run(
        # The student's command, less two plugins that only take seconds to load here.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis",
         "--basetemp", str(tmp_path / "t")],  # fmt: skip
        cwd=ROOT / "lessons" / "part4",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Required test coverage of 100% reached" in result.stdout
