"""The workbook's promises, checked for every part (`workbook verify`).

1. Every lesson scores 100% on its own graded tests.
2. Part N-1's code scores below 100% on part N's lesson tests.
3. Every challenge's tests all fail on the bare lesson, and pass on the lesson
   with the challenge's solution applied, with the lesson's tests still passing.

Plus the conventions that make grading possible: every graded test has points
and a docstring, every challenge has a brief with the four headings and a
solution; and a lesson whose pytest.ini demands coverage (Part 4) gets it from
its own `pytest` run, the command a student types.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from workbook import patches, sandbox
from workbook.catalog import Challenge, Part
from workbook.grader import SLOW_PLUGINS, Scorecard, grade, without_plugins
from workbook.listing import LESSON, graded_tests

BRIEF_HEADINGS = ("## Goal", "## What done looks like", "## Hints", "## Going further")


@dataclass
class Check:
    part: str
    name: str
    ok: bool
    detail: str = ""


def fraction(card: Scorecard, group: str) -> str:
    earned, possible = card.groups().get(group, (0.0, 0.0))
    return f"{earned:g}/{possible:g}"


def failing(card: Scorecard, group: str) -> list[str]:
    return [f"{r.name} ({r.status}: {r.reason})" for r in card.results if r.group == group and r.status != "passed"]


def passing(card: Scorecard, group: str) -> list[str]:
    return [r.name for r in card.results if r.group == group and r.status == "passed"]


@contextmanager
def with_solution(challenge: Challenge) -> Iterator[Path]:
    """A temporary copy of the lesson with the challenge's solution patch applied.

    Raises PatchError (naming the file and hunk) when the patch no longer applies."""
    folder = Path(tempfile.mkdtemp(prefix=f"workbook-{challenge.slug}-"))
    try:
        copy = folder / challenge.part.name
        shutil.copytree(challenge.part.folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
        patches.apply(challenge.solution.read_text(encoding="utf-8"), copy)
        yield copy
    finally:
        sandbox.remove(folder)


def convention_checks(part: Part) -> list[Check]:
    checks = []
    groups = [LESSON] + [c.slug for c in part.challenges()]
    tests = graded_tests(part.folder, groups)
    bad = [t.id for t in tests if t.points <= 0 or not t.doc]
    checks.append(
        Check(part.name, "every graded test has points and a docstring", not bad and bool(tests),
              "missing on: " + ", ".join(bad) if bad else f"{len(tests)} tests")
    )  # fmt: skip
    checks.append(Check(part.name, "has a README.md", (part.folder / "README.md").is_file()))
    challenges = part.challenges()
    checks.append(Check(part.name, "has at least three challenges", len(challenges) >= 3, f"{len(challenges)} found"))
    for challenge in challenges:
        readme = challenge.folder / "README.md"
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        missing = [h for h in BRIEF_HEADINGS if h not in text]
        checks.append(
            Check(part.name, f"{challenge.slug}: brief has the four headings", bool(text) and not missing,
                  "missing: " + ", ".join(missing) if missing or not text else "")
        )  # fmt: skip
        checks.append(
            Check(part.name, f"{challenge.slug}: has a solution", challenge.solution.is_file(),
                  "" if challenge.solution.is_file() else f"no {challenge.solution.relative_to(part.root)}")
        )  # fmt: skip
    return checks


def lesson_checks(part: Part) -> list[Check]:
    card = grade(part, part.folder)
    checks = [
        Check(part.name, "lesson scores 100% on its own tests", card.groups().get(LESSON, (0, 0))[1] > 0
              and not failing(card, LESSON), fraction(card, LESSON) + "; ".join(["", *failing(card, LESSON)]))
    ]  # fmt: skip
    for challenge in part.challenges():
        passed = passing(card, challenge.slug)
        checks.append(
            Check(part.name, f"{challenge.slug}: every test fails on the bare lesson", not passed,
                  "passing already: " + ", ".join(passed) if passed else fraction(card, challenge.slug))
        )  # fmt: skip
    return checks


def previous_part_check(part: Part) -> list[Check]:
    previous = part.previous()
    if previous is None:
        return []
    card = grade(part, previous.folder, challenges=[])
    return [
        Check(part.name, f"{previous.name}'s code scores below 100% here", not card.complete,
              f"{previous.name} scores {fraction(card, LESSON)}")
    ]  # fmt: skip


def solution_check(challenge: Challenge, with_lesson: bool = True) -> list[Check]:
    """The solution passes its challenge; `with_lesson`: and the lesson's tests still pass with it."""
    name = f"{challenge.slug}: solution passes" + (", lesson still passes" if with_lesson else "")
    if not challenge.solution.is_file():
        return [Check(challenge.part.name, name, False, "no solution to apply")]
    try:
        with with_solution(challenge) as copy:
            card = grade(challenge.part, copy, challenges=[challenge.slug], include_lesson=with_lesson)
    except patches.PatchError as error:
        where = challenge.solution.relative_to(challenge.part.root).as_posix()
        return [Check(challenge.part.name, name, False, f"{where} no longer applies to the lesson: {error} "
                      f"Update the patch (see CONTRIBUTING.md, \"Changing a lesson\").")]  # fmt: skip
    problems = (failing(card, LESSON) if with_lesson else []) + failing(card, challenge.slug)
    detail = f"challenge {fraction(card, challenge.slug)}"
    if with_lesson:
        detail = f"lesson {fraction(card, LESSON)}, {detail}"
    return [Check(challenge.part.name, name, card.complete, "; ".join([detail, *problems]))]


COVERAGE_REACHED = "Required test coverage of"


def demands_coverage(part: Part) -> bool:
    ini = part.folder / "pytest.ini"
    return ini.is_file() and "--cov-fail-under" in ini.read_text(encoding="utf-8")


def coverage_check(part: Part) -> list[Check]:
    """`cd lessons/partN && pytest` passes and reaches the coverage its pytest.ini demands."""
    name = "its own pytest run passes with the coverage pytest.ini demands"
    with tempfile.TemporaryDirectory(prefix="workbook-coverage-") as scratch:
        env = {**os.environ, "COVERAGE_FILE": str(Path(scratch) / ".coverage"), "PYTHONDONTWRITEBYTECODE": "1"}
        # The student's command, less the plugins that only take seconds to load.
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *without_plugins(SLOW_PLUGINS),
                   "--basetemp", str(Path(scratch) / "tmp")]  # fmt: skip
        try:
            result = subprocess.run(command, cwd=part.folder, env=env, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return [Check(part.name, name, False, "still running after 900 s")]
    output = result.stdout + result.stderr
    reached = next((line.strip() for line in output.splitlines() if COVERAGE_REACHED in line), "")
    ok = result.returncode == 0 and bool(reached) and "not reached" not in reached
    detail = reached or (output.strip().splitlines() or ["pytest said nothing"])[-1]
    if not ok:
        missing = [line for line in output.splitlines() if line.startswith(("app/", "FAILED", "ERROR"))]
        detail = "; ".join([detail, *missing[:10]])
    return [Check(part.name, name, ok, detail)]


@dataclass(frozen=True)
class Job:
    """One independent piece of `verify`: a name a person can read, and the work."""

    part: Part
    name: str
    run: Callable[[], list[Check]]


def jobs(parts: list[Part], full: bool = True) -> list[Job]:
    """Every check of every part, as jobs that can run in any order, in parallel.

    `full=False` is the test suite's quick form (see tests/test_invariants.py):
    each solution graded on its challenge only, not on the whole lesson again,
    and no coverage gate. These are whole lesson runs that only a change to a
    lesson or a patch can break; `workbook verify` does it all."""
    found: list[Job] = []
    for part in parts:
        found.append(Job(part, f"{part.name}-conventions", partial(convention_checks, part)))
        found.append(Job(part, f"{part.name}-lesson", partial(lesson_checks, part)))
        if part.previous() is not None:
            found.append(Job(part, f"{part.name}-previous-part", partial(previous_part_check, part)))
        if full and demands_coverage(part):
            found.append(Job(part, f"{part.name}-coverage", partial(coverage_check, part)))
        found.extend(Job(part, f"{part.name}-{c.slug}", partial(solution_check, c, full)) for c in part.challenges())
    return found


def verify(parts: list[Part], on_done: Callable[[list[Check]], None] | None = None) -> list[Check]:
    """Run every check of every part, in parallel; `on_done` is told as each job ends."""
    results: list[Check] = []
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        for future in as_completed([pool.submit(job.run) for job in jobs(parts)]):
            checks = future.result()
            results.extend(checks)
            if on_done is not None:
                on_done(checks)
    order = {part.name: index for index, part in enumerate(parts)}
    return sorted(results, key=lambda check: (order[check.part], check.name))


def job_count(parts: list[Part]) -> int:
    return len(jobs(parts))
