"""The student's loop: check a working copy, watch it, show progress.

The command line (`cli.py`) parses the options; this module does the work and
returns the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbook import grader, manifest, report, workcopy
from workbook.catalog import Part, parts
from workbook.listing import LESSON, graded_tests
from workbook.sandbox import SubmissionError

OK, NOT_ALL_PASSED, BAD_INPUT, DOES_NOT_LOAD = 0, 1, 2, 3
CHECK_TIMEOUT = 10.0  # seconds per test in `check`: a beginner's endless loop shows up fast
CHECK_WATCHDOG = 300.0
# What a save looks like in a working copy; data files and the workbook's own state are not.
WATCHED_SUFFIXES = (".py", ".html", ".js", ".css", ".json", ".toml", ".ini", ".cfg", ".env")
NOT_WATCHED = {"__pycache__", ".workbook", ".pytest_cache", ".venv", ".git", "htmlcov"}


def group_points(part: Part) -> dict[str, float]:
    """What the lesson and each challenge of a part are worth, by group."""
    worth: dict[str, float] = {}
    for test in graded_tests(part.folder, [LESSON, *(c.slug for c in part.challenges())]):
        worth[test.group] = worth.get(test.group, 0.0) + test.points
    return worth


def suggested_order(part: Part) -> list[str]:
    """The challenges in the order the part's README lists them (gentlest first), then the rest."""
    readme = part.folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    slugs = [c.slug for c in part.challenges()]
    listed = sorted((text.find(f"challenges/{slug}/"), slug) for slug in slugs if f"challenges/{slug}/" in text)
    return [slug for _, slug in listed] + [slug for slug in slugs if f"challenges/{slug}/" not in text]


def check_command(part: Part, folder: Path) -> str:
    """The command a student types to check this copy again."""
    command = f"uv run workbook check {part.name}"
    if folder.resolve() != workcopy.default_copy(part).resolve():
        command += f" {workcopy.shown(folder, part.root)}"
    return command


@dataclass(frozen=True)
class CheckOptions:
    challenges: list[str] | None = None  # None: every challenge
    lesson_only: bool = False
    verbose: bool = False
    timeout: float = CHECK_TIMEOUT


def check(part: Part, folder: Path, console: Console, options: CheckOptions = CheckOptions()) -> int:
    """Grade the working copy on the workbook's pristine tests, show it, remember it."""
    challenges = options.challenges
    if not folder.is_dir():
        console.print(Text(f"There is no folder {folder}. Make one with `uv run workbook init {part.name}`.", style="red"))
        return BAD_INPUT
    slugs = [] if options.lesson_only else challenges
    warnings = manifest.compare(part, folder)
    try:
        checking = f"Checking {workcopy.shown(folder, part.root)} ..."
        with manifest.pristine(part) as pristine_part, console.status(checking) as status:

            def show_progress(run: int, failed: int) -> None:
                status.update(f"{checking} {run} {'test' if run == 1 else 'tests'} run, {failed} not passing so far")

            card = grader.grade(
                pristine_part,
                folder,
                challenges=slugs,
                per_test_timeout=options.timeout,
                watchdog=CHECK_WATCHDOG,
                stop_on_repeated_hang=True,
                on_progress=show_progress,
            )
    except (manifest.PristineError, SubmissionError) as error:
        console.print(Text(f"Cannot check {folder}: {error}", style="red"))
        return BAD_INPUT
    later = [p.name for p in parts(part.root) if p.number > part.number]
    view = report.CheckView(
        part=part,
        folder=workcopy.shown(folder, part.root),
        base_command=check_command(part, folder),
        selected=challenges,
        verbose=options.verbose,
        warnings=warnings,
        next_part=later[0] if later else None,
        order=suggested_order(part),
    )
    report.show_check(card, view, console)
    scores = report.group_scores(card)
    if card.problem:
        for score in scores.values():
            score.next = f"the code does not load: {card.problem}"
    workcopy.record_check(folder, part.name, scores)
    if card.problem:
        return DOES_NOT_LOAD
    return OK if card.complete else NOT_ALL_PASSED


def is_watched(path: Path) -> bool:
    return path.suffix in WATCHED_SUFFIXES and not NOT_WATCHED & set(path.parts) and path.name != workcopy.STATE_FILE


def snapshot(folder: Path) -> dict[Path, float]:
    found: dict[Path, float] = {}
    for path in folder.rglob("*"):
        if is_watched(path.relative_to(folder)):
            try:
                found[path] = path.stat().st_mtime_ns
            except OSError:
                continue
    return found


def poll_changes(folder: Path, interval: float = 0.25) -> Iterator[set[Path]]:
    """Changed files, by comparing modification times every `interval` seconds."""
    before = snapshot(folder)
    while True:
        time.sleep(interval)
        now = snapshot(folder)
        changed = {path for path in before.keys() | now.keys() if before.get(path) != now.get(path)}
        before = now
        if changed:
            time.sleep(interval)  # let an editor finish writing (a save is often several writes)
            before = snapshot(folder)
            yield changed


def native_changes(folder: Path) -> Iterator[set[Path]]:
    """Changed files, as the operating system reports them (inotify, FSEvents...)."""
    import watchfiles

    def wanted(_change: object, path: str) -> bool:
        return is_watched(Path(path).relative_to(folder))

    for changes in watchfiles.watch(folder, watch_filter=wanted, debounce=1000, step=100, raise_interrupt=False):
        yield {Path(path) for _, path in changes}


def changes(folder: Path, poll: bool) -> Iterator[set[Path]]:
    """Saved files in `folder`; polls when asked to, or when the system cannot tell us."""
    if not poll:
        try:
            yield from native_changes(folder)
            return
        except (ImportError, OSError):
            pass  # no file watching here (a network drive, a full inotify table): poll instead
    yield from poll_changes(folder)


def watch(part: Part, folder: Path, console: Console, options: CheckOptions, poll: bool = False) -> int:
    """Check, then check again each time a file of the copy is saved, until Ctrl+C."""
    folder = folder.resolve()
    check(part, folder, console, options)
    console.print(Text(f"Watching {workcopy.shown(folder, part.root)} for saved files (Ctrl+C stops).", style="dim"))
    try:
        for changed in changes(folder, poll):
            names = ", ".join(sorted(path.relative_to(folder).as_posix() for path in changed))
            console.rule(Text(f"{names} changed", style="dim"))
            check(part, folder, console, options)
            console.print(Text("Watching for saved files (Ctrl+C stops).", style="dim"))
    except KeyboardInterrupt:
        pass
    console.print("Stopped watching.")
    return OK


def score_cell(score: workcopy.GroupScore | None, worth: float) -> str:
    """"✓ 5/5", "✗ 0/4", or "-/4" when never checked."""
    if score is None:
        return f"-/{report.points(worth)}"
    mark = "✓" if score.complete else "✗"
    return f"{mark} {report.points(score.earned)}/{report.points(score.possible)}"


def progress(root: Path, console: Console) -> int:
    """Every part and challenge with its score from the last checks, and what to do next."""
    table = Table(title="Your progress", title_justify="left", expand=False)
    for column in ("part", "working copy", "lesson", "challenges"):
        table.add_column(column)
    next_step = ""
    for part in parts(root):
        folder = workcopy.default_copy(part)
        scores = workcopy.last_scores(folder, part.name)
        worth = group_points(part)
        table.add_row(
            part.name,
            workcopy.shown(folder, root),
            score_cell(scores.get(LESSON), worth.get(LESSON, 0)),
            "\n".join(f"{score_cell(scores.get(c.slug), worth.get(c.slug, 0))}  {c.slug}" for c in part.challenges()),
        )
        if next_step:
            continue
        if not scores:
            next_step = f"`uv run workbook check {part.name}` (not checked yet)."
        elif not (lesson := scores.get(LESSON)) or not lesson.complete:
            next_step = f"the lesson of {part.name}: {lesson.next if lesson else 'not checked yet'} (`uv run workbook check {part.name}`)."
        else:
            open_ones = [c.slug for c in part.challenges() if not (s := scores.get(c.slug)) or not s.complete]
            if open_ones:
                slug = open_ones[0]
                sentence = scores[slug].next if slug in scores else "not checked yet"
                next_step = f"{part.name}'s challenge {slug}: {sentence} (`uv run workbook check {part.name} -c {slug}`)."
    console.print(table)
    console.print("Scores are from your last `check` of each part; '-' means not checked yet.", style="dim")
    console.print(Text.assemble(("Next: ", "bold"), next_step or "everything is done. Well done!"))
    return OK
