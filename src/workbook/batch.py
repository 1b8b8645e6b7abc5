"""Grade a whole class: every submission in a folder, several at a time, each on its own.

SUBMISSIONS is a folder of folders, of .zip files, or a mix. Each submission is
graded by `grader.grade` (its own scratch folder and sandboxed processes), a
few at a time on a thread pool; each scorecard is written, in every format, as
soon as it is done, so that an interrupted batch keeps what finished and a
second run skips what is already graded and unchanged.

    OUT/<name>/scorecard.json, results.json, classroom.json, junit.xml, feedback.md
    OUT/gradebook.csv, OUT/summary.md, OUT/summary.json
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from workbook import formats, grader
from workbook.catalog import Part
from workbook.listing import LESSON, graded_tests
from workbook.results import Scorecard, TestResult
from workbook.sandbox import SubmissionError

IGNORED = {"__MACOSX", ".DS_Store", "Thumbs.db"}


@dataclass(frozen=True)
class Submission:
    name: str  # the student's name for the gradebook: the folder's or the zip's name
    path: Path

    def newest_change(self) -> float:
        """When the submission last changed (its newest file)."""
        newest = self.path.lstat().st_mtime
        if self.path.is_dir():
            for folder, dirnames, filenames in os.walk(self.path):
                for name in dirnames + filenames:
                    try:
                        newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
                    except OSError:
                        continue
        return newest


def find_submissions(folder: Path) -> list[Submission]:
    """Every entry of `folder`, named for the gradebook; a name used twice keeps its suffix."""
    entries = sorted(p for p in folder.iterdir() if p.name not in IGNORED and not p.name.startswith("."))
    stems = [p.stem if p.is_file() and p.suffix.lower() == ".zip" else p.name for p in entries]
    return [
        Submission(stem if stems.count(stem) == 1 else path.name, path)
        for stem, path in zip(stems, entries, strict=True)
    ]


def core_shares(jobs: int) -> list[list[int]] | None:
    """The cores this process may use, dealt out into `jobs` shares that overlap nowhere.

    Each job of grade-all keeps its runs on its own share: two gradings that
    the system moves from core to core run markedly slower together than two
    that stay put (benchmarks/grading.py measures it). None, to let the system
    place everything, for one job or more jobs than cores."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return None
    if jobs < 2 or len(cores) < jobs:
        return None
    return [cores[slot::jobs] for slot in range(jobs)]


def unreadable(part: Part, groups: list[str], submission: Submission, sentence: str) -> Scorecard:
    """The scorecard of a submission that could not be graded at all: every test, 0 points, one sentence."""
    results = [
        TestResult(id=t.id, group=t.group, name=t.name, doc=t.doc, points=t.points, earned=0.0, status="error",
                   reason=sentence, hint=t.hint, hidden=t.hidden)  # fmt: skip
        for t in graded_tests(part.folder, groups)
    ]
    return Scorecard(part.name, str(submission.path), results, problem=sentence, graded_groups=groups)


@dataclass
class Batch:
    part: Part
    out: Path
    challenges: list[str] | None = None
    include_lesson: bool = True
    jobs: int = max(1, os.cpu_count() or 1)
    per_test_timeout: float = grader.PER_TEST_TIMEOUT
    watchdog: float = grader.WATCHDOG
    force: bool = False
    hide: list[Path] = field(default_factory=list)  # kept out of every run's sight: the other submissions
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def groups(self) -> list[str]:
        slugs = [c.slug for c in self.part.challenges()] if self.challenges is None else self.challenges
        return ([LESSON] if self.include_lesson else []) + slugs

    def folder_of(self, submission: Submission) -> Path:
        return self.out / submission.name

    def previous(self, submission: Submission) -> Scorecard | None:
        """The scorecard of an earlier run, if it is newer than the submission and graded the same tests."""
        path = self.folder_of(submission) / formats.FILE_FORMATS["json"]
        if self.force or not path.is_file():
            return None
        try:
            if path.stat().st_mtime <= submission.newest_change():
                return None
            card = Scorecard.read_json(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return card if card.part == self.part.name and card.graded_groups == self.groups else None

    def grade_one(self, submission: Submission, cpus: list[int] | None = None) -> Scorecard:
        try:
            card = grader.grade(
                self.part, submission.path, challenges=self.challenges, include_lesson=self.include_lesson,
                per_test_timeout=self.per_test_timeout, watchdog=self.watchdog, stop=self.stop, hide=self.hide,
                cpus=cpus,
            )  # fmt: skip
        except SubmissionError as error:
            card = unreadable(self.part, self.groups, submission, str(error))
        except OSError as error:
            card = unreadable(self.part, self.groups, submission, f"could not be read ({error.strerror or error})")
        if not self.stop.is_set():  # an interrupted scorecard is not kept: it would be skipped next time
            formats.write(card, list(formats.FILE_FORMATS), self.folder_of(submission))
        return card

    def run(
        self,
        submissions: list[Submission],
        on_start: Callable[[Submission], None] = lambda s: None,
        on_done: Callable[[Submission, Scorecard, bool], None] = lambda s, c, skipped: None,
        on_tick: Callable[[dict[Submission, float]], None] = lambda running: None,
    ) -> list[tuple[str, Scorecard]]:
        """Grade every submission (or reuse its earlier scorecard); write the gradebook and summary.

        Returns the scorecards in the order of `submissions`, as far as they got."""
        self.out.mkdir(parents=True, exist_ok=True)
        cards: dict[Submission, Scorecard] = {}
        todo = []
        for submission in submissions:
            earlier = self.previous(submission)
            if earlier is None:
                todo.append(submission)
            else:
                cards[submission] = earlier
                on_done(submission, earlier, True)
        running: dict[Submission, float] = {}
        lock = threading.Lock()
        jobs = max(1, self.jobs)
        shares = core_shares(jobs)
        free_slots: queue.SimpleQueue[int] = queue.SimpleQueue()
        for slot in range(jobs):
            free_slots.put(slot)

        def job(submission: Submission) -> Scorecard:
            slot = free_slots.get()  # never waits: there are as many slots as pool threads
            with lock:
                running[submission] = time.monotonic()
            on_start(submission)
            try:
                return self.grade_one(submission, shares[slot] if shares else None)
            finally:
                with lock:
                    running.pop(submission, None)
                free_slots.put(slot)

        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
        futures: dict[Future[Scorecard], Submission] = {pool.submit(job, s): s for s in todo}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    if future.cancelled():
                        continue
                    submission = futures[future]
                    cards[submission] = future.result()
                    on_done(submission, cards[submission], False)
                with lock:
                    on_tick(dict(running))
        except KeyboardInterrupt:
            self.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            finished = [(s.name, cards[s]) for s in submissions if s in cards]
            self.write_class_files(finished)
        return finished

    def write_class_files(self, cards: list[tuple[str, Scorecard]]) -> None:
        (self.out / "gradebook.csv").write_text(formats.gradebook(cards), encoding="utf-8")
        summary = formats.summarize(cards)
        (self.out / "summary.md").write_text(formats.summary_markdown(summary), encoding="utf-8")
        (self.out / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8")
