"""The `workbook` command: run a part, check your work, grade, verify the workbook.

Exit codes, for scripts:
  0  everything graded passed (or the command did its job)
  1  graded, but some tests did not pass / a check of `verify` failed
  2  bad input: unknown part or challenge, missing folder, bad option
  3  the submission's code could not be loaded (syntax or import error); it scores 0
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workbook import grader, manifest, report
from workbook.catalog import CatalogError, Part, find_root, get_part, parts
from workbook.listing import LESSON, graded_tests
from workbook.sandbox import SubmissionError
from workbook.verify import job_count, verify

OK, NOT_ALL_PASSED, BAD_INPUT, DOES_NOT_LOAD = 0, 1, 2, 3

app = typer.Typer(
    help="The Task Manager Workbook: run each part, check your work, grade submissions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
errors = Console(stderr=True)

PartArg = Annotated[str, typer.Argument(help="Which part: part1, part2, part3 or part4 (or just 1-4).", show_default=False)]


def fail(message: str, code: int = BAD_INPUT) -> typer.Exit:
    errors.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code)


def load_part(name: str) -> Part:
    try:
        return get_part(find_root(), name)
    except CatalogError as error:
        raise fail(str(error)) from None


@app.command("list")
def list_parts() -> None:
    """List the parts and their challenges, with the points each is worth."""
    try:
        root = find_root()
    except CatalogError as error:
        raise fail(str(error)) from None
    table = Table(title="Task Manager Workbook", title_justify="left")
    table.add_column("part")
    table.add_column("what it builds")
    table.add_column("points", justify="right")
    table.add_column("challenges (points)")
    for part in parts(root):
        challenges = part.challenges()
        tests = graded_tests(part.folder, [LESSON, *(c.slug for c in challenges)])
        by_group: dict[str, float] = {}
        for test in tests:
            by_group[test.group] = by_group.get(test.group, 0) + test.points
        table.add_row(
            part.name,
            part.title,
            f"{by_group.get(LESSON, 0):g}",
            "\n".join(f"{c.slug}: {c.title} ({by_group.get(c.slug, 0):g})" for c in challenges) or "-",
        )
    console.print(table)
    console.print("Run one with [bold]uv run workbook run part1[/]; check your work with [bold]uv run workbook check part1[/].")


@app.command()
def run(
    part: PartArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: 8000 + the part's number].", show_default=False)] = None,
    reload: Annotated[bool, typer.Option(help="Restart when a file of the part changes.")] = False,
) -> None:
    """Serve a part's app with uvicorn (its data files live in the part's folder)."""
    import uvicorn

    chosen = load_part(part)
    port = port or chosen.default_port
    console.print(f"Serving [bold]{chosen.name}[/] on http://{host}:{port}/  (API docs: http://{host}:{port}/docs; Ctrl+C stops it)")
    # Each part has its own `app` package: import it from the part's folder,
    # and keep its data files (tasks.db, notifications.log) there too.
    os.chdir(chosen.folder)
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        reload=reload,
        app_dir=str(chosen.folder),
        reload_dirs=[str(chosen.folder / "app")] if reload else None,
    )


def grade_and_show(
    part: Part,
    path: Path,
    challenge: list[str] | None,
    lesson_only: bool,
    json_file: Path | None,
    timeout: float,
    watchdog: float,
    keep: Path | None,
    student: bool,
) -> None:
    try:
        slugs = [part.challenge(slug).slug for slug in challenge] if challenge else None
    except CatalogError as error:
        raise fail(str(error)) from None
    if lesson_only:
        slugs = []
    with console.status(f"Running {part.name}'s tests against {path} ..."):
        try:
            card = grader.grade(part, path, challenges=slugs, per_test_timeout=timeout, watchdog=watchdog, keep=keep)
        except SubmissionError as error:
            raise fail(f"Cannot grade {path}: {error}") from None
    report.show(card, console, student=student)
    if json_file is not None:
        card.write_json(json_file)
        console.print(f"Results written to {json_file}")
    if card.problem:
        raise typer.Exit(DOES_NOT_LOAD)
    raise typer.Exit(OK if card.complete else NOT_ALL_PASSED)


ChallengeOpt = Annotated[list[str] | None, typer.Option("--challenge", "-c", help="Grade only this challenge (repeat for more) besides the lesson.")]
LessonOnlyOpt = Annotated[bool, typer.Option("--lesson-only", help="Grade the lesson's tests only, no challenges.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the full results to this JSON file.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds one test may run before it is stopped.")]
WatchdogOpt = Annotated[float, typer.Option(help="Seconds the whole run may take.")]
KeepOpt = Annotated[Path | None, typer.Option(help="Keep a copy of the folder the tests ran in here, to investigate.")]


@app.command()
def grade(
    part: PartArg,
    path: Annotated[Path, typer.Argument(help="The submission: a folder holding app/ (like lessons/part1).")],
    challenge: ChallengeOpt = None,
    lesson_only: LessonOnlyOpt = False,
    json_file: JsonOpt = None,
    timeout: TimeoutOpt = grader.PER_TEST_TIMEOUT,
    watchdog: WatchdogOpt = grader.WATCHDOG,
    keep: KeepOpt = None,
) -> None:
    """Grade a submission on the part's pristine tests (lesson + challenges).

    The submission is copied to a scratch folder, its own tests are replaced by
    the pristine ones, and every test is listed with its points.
    Exit code: 0 all passed, 1 some failed, 2 bad input, 3 the code does not load.
    """
    grade_and_show(load_part(part), path, challenge, lesson_only, json_file, timeout, watchdog, keep, student=False)


@app.command()
def check(
    part: PartArg,
    path: Annotated[Path | None, typer.Argument(help="Your working copy [default: the part's folder in lessons/].", show_default=False)] = None,
    challenge: ChallengeOpt = None,
    lesson_only: LessonOnlyOpt = False,
) -> None:
    """Check your work: run the part's tests and show what fails, with hints."""
    chosen = load_part(part)
    grade_and_show(chosen, path or chosen.folder, challenge, lesson_only, None, grader.PER_TEST_TIMEOUT, grader.WATCHDOG, None, student=True)


@app.command("verify")
def verify_command(
    part: Annotated[list[str] | None, typer.Argument(help="Parts to verify [default: all].", show_default=False)] = None,
) -> None:
    """Check the workbook's promises for every part (for maintainers).

    Each lesson scores 100% on its tests; the previous part's code does not;
    every challenge fails on the bare lesson and passes with its solution.
    """
    chosen = [load_part(name) for name in part] if part else parts(find_root())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Verifying " + ", ".join(p.name for p in chosen), total=job_count(chosen))
        checks = verify(chosen, on_done=lambda _: progress.advance(task))
    table = Table(title="workbook verify", title_justify="left", expand=True)
    for column in ("", "part", "check", "detail"):
        table.add_column(column, ratio=3 if column == "detail" else None)
    for item in checks:
        table.add_row("[green]✓[/]" if item.ok else "[red]✗[/]", item.part, item.name, item.detail)
    console.print(table)
    failed = [item for item in checks if not item.ok]
    if failed:
        console.print(f"[bold red]{len(failed)} of {len(checks)} checks failed.[/]")
        raise typer.Exit(NOT_ALL_PASSED)
    console.print(f"[bold green]All {len(checks)} checks passed.[/]")


@app.command("manifest")
def manifest_command(
    check_only: Annotated[bool, typer.Option("--check", help="Only compare: exit 1 and list the files when the manifest is stale.")] = False,
) -> None:
    """Write the SHA-256 manifest of every part's graded files (for maintainers).

    The manifest (src/workbook/pristine.json) is how `check` and `grade` know
    the workbook's own tests from a changed copy. Run this after changing any
    conftest.py, test or challenge test, and commit the result.
    """
    try:
        root = find_root()
    except CatalogError as error:
        raise fail(str(error)) from None
    if check_only:
        differences = manifest.stale(root)
        for line in differences:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if differences:
            console.print(f"The manifest is stale: run [bold]uv run workbook manifest[/] and commit {manifest.MANIFEST.as_posix()}.")
            raise typer.Exit(NOT_ALL_PASSED)
        console.print("The manifest matches every graded file.")
        return
    path = manifest.write(root)
    count = sum(len(files) for files in manifest.load(root).values())
    console.print(f"Wrote {path.relative_to(root).as_posix()}: {count} graded files.")


def main() -> None:
    app()
