"""The `workbook` command: run a part, check your work, grade, verify the workbook.

Exit codes, for scripts:
  0  everything graded passed (or the command did its job)
  1  graded, but some tests did not pass / a check of `verify` failed
  2  bad input: unknown part or challenge, missing folder, bad option
  3  the submission's code could not be loaded (syntax or import error); it scores 0
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from workbook import batch, exports, formats, grader, manifest, patches, student, workcopy
from workbook.catalog import CatalogError, Challenge, Part, find_root, get_part, parts
from workbook.hints import read_hints
from workbook.listing import LESSON
from workbook.results import Scorecard
from workbook.sandbox import SubmissionError
from workbook.verify import job_count, verify

OK, NOT_ALL_PASSED, BAD_INPUT, DOES_NOT_LOAD = 0, 1, 2, 3


def hide_flag_types(command: Any, ctx: Any) -> None:
    """A flag takes no value, so its help shows no `<bool>` type."""
    for param in [*command.params, command.get_help_option(ctx)]:
        if param is not None and getattr(param, "is_flag", False):
            param.metavar = ""


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        hide_flag_types(self, ctx)
        return super().get_params(ctx)

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            hide_flag_types(command, ctx)
        return command


app = typer.Typer(
    cls=Group,
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


def load_root() -> Path:
    try:
        return find_root()
    except CatalogError as error:
        raise fail(str(error)) from None


def load_part(name: str) -> Part:
    try:
        return get_part(load_root(), name)
    except CatalogError as error:
        raise fail(str(error)) from None


def load_challenges(part: Part, slugs: list[str] | None) -> list[str] | None:
    try:
        return [part.challenge(slug).slug for slug in slugs] if slugs else None
    except CatalogError as error:
        raise fail(str(error)) from None


@app.command("list")
def list_parts() -> None:
    """List the parts and their challenges, with the points each is worth."""
    root = load_root()
    table = Table(title="Task Manager Workbook", title_justify="left")
    table.add_column("part")
    table.add_column("what it builds")
    table.add_column("points", justify="right")
    table.add_column("challenges (points)")
    for part in parts(root):
        challenges = part.challenges()
        worth = student.group_points(part)
        table.add_row(
            part.name,
            part.title,
            f"{worth.get(LESSON, 0):g}",
            "\n".join(f"{c.slug}: {c.title} ({worth.get(c.slug, 0):g})" for c in challenges) or "-",
        )
    console.print(table)
    console.print("Start with [bold]uv run workbook check part1[/]; serve a part with [bold]uv run workbook run part1[/].")


@app.command()
def run(
    part: PartArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port to listen on \\[default: 8000 + the part's number].", show_default=False)] = None,
    reload: Annotated[bool, typer.Option("--reload", help="Restart when a file of app/ changes.")] = False,
) -> None:
    """Serve a part's app with uvicorn: your working copy once you made one, else the lesson."""
    import uvicorn

    chosen = load_part(part)
    folder = workcopy.default_copy(chosen).resolve()
    port = port or chosen.default_port
    console.print(f"Serving [bold]{chosen.name}[/] from {workcopy.shown(folder, chosen.root)} on http://{host}:{port}/ (Ctrl+C stops it).")
    console.print(f"Try the API in your browser: [bold]http://{host}:{port}/docs[/]", highlight=False)
    # Each part has its own `app` package: import it from the part's folder,
    # and keep its data files (tasks.db, notifications.log) there too.
    os.chdir(folder)
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        reload=reload,
        app_dir=str(folder),
        reload_dirs=[str(folder / "app")] if reload else None,
    )


ChallengeOpt = Annotated[list[str] | None, typer.Option("--challenge", "-c", help="Grade only this challenge (repeat for more) besides the lesson.")]
LessonOnlyOpt = Annotated[bool, typer.Option("--lesson-only", help="Grade the lesson's tests only, no challenges.")]
PathOpt = Annotated[Path | None, typer.Option("--path", help="Your working copy \\[default: work/partN once made, else lessons/partN].", show_default=False)]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the full results to this JSON file.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds one test may run before it is stopped.")]
WatchdogOpt = Annotated[float, typer.Option(help="Seconds the whole run may take.")]
KeepOpt = Annotated[Path | None, typer.Option(help="Keep a copy of the folder the tests ran in here, to investigate.")]


FormatOpt = Annotated[
    list[str] | None,
    typer.Option("--format", "-f", help=f"Output format (repeat for more): {', '.join(formats.FORMATS)} \\[default: table].",
                 show_default=False),
]  # fmt: skip
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the file formats (each has its own file name).")]


def chosen_formats(names: list[str] | None) -> list[str]:
    chosen = [name.strip().lower() for name in (names or ["table"])]
    unknown = [name for name in chosen if name not in formats.FORMATS]
    if unknown:
        raise fail(f"Unknown format {unknown[0]!r}; the formats are: {', '.join(formats.FORMATS)}.")
    return list(dict.fromkeys(chosen))


@app.command()
def grade(
    part: PartArg,
    path: Annotated[Path, typer.Argument(help="The submission: a folder holding app/ (like lessons/part1), or a zip of one.")],
    challenge: ChallengeOpt = None,
    lesson_only: LessonOnlyOpt = False,
    format: FormatOpt = None,  # noqa: A002 - the option is --format
    out: OutOpt = None,
    json_file: JsonOpt = None,
    timeout: TimeoutOpt = grader.PER_TEST_TIMEOUT,
    watchdog: WatchdogOpt = grader.WATCHDOG,
    keep: KeepOpt = None,
) -> None:
    """Grade a submission on the part's pristine tests (lesson + challenges).

    The submission is copied to a scratch folder, its own tests are replaced by
    the pristine ones, and every test is listed with its points. File formats
    (json, gradescope, classroom, junit, markdown) go to --out; with no --out,
    a single one is printed instead of the table.
    Exit code: 0 all passed, 1 some failed, 2 bad input, 3 the code does not load.
    """
    chosen = load_part(part)
    wanted = chosen_formats(format)
    files = [name for name in wanted if name in formats.FILE_FORMATS]
    if out is None and len(files) > 1:
        raise fail("Several file formats need a folder to go to: add --out FOLDER.")
    slugs = [] if lesson_only else load_challenges(chosen, challenge)
    with errors.status(f"Running {chosen.name}'s tests against {path} ..."):
        try:
            with manifest.pristine(chosen) as pristine_part:
                card = grader.grade(pristine_part, path, challenges=slugs, per_test_timeout=timeout, watchdog=watchdog,
                                    keep=keep)  # fmt: skip
        except (SubmissionError, manifest.PristineError) as error:
            raise fail(f"Cannot grade {path}: {error}") from None
    # The files first: whatever goes wrong while printing, the scorecard is kept.
    written: list[Path] = []
    if json_file is not None:
        card.write_json(json_file)
    if out is not None:
        written = formats.write(card, files, out)
    elif files:
        sys.stdout.write(formats.render(card, files[0]))
    if "table" in wanted:
        formats.show_table(card, console)
        for file in ([json_file] if json_file else []) + written:
            console.print(Text(f"Written: {file}"))
    if card.problem:
        raise typer.Exit(DOES_NOT_LOAD)
    raise typer.Exit(OK if card.complete else NOT_ALL_PASSED)


@app.command("grade-all")
def grade_all(
    part: PartArg,
    submissions: Annotated[Path, typer.Argument(help="A folder of submissions: folders holding app/, .zip files, or both.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for every scorecard, the gradebook and the summary.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Submissions graded at a time \\[default: the number of cores].",
                                      show_default=False)] = max(1, os.cpu_count() or 1),  # fmt: skip
    challenge: ChallengeOpt = None,
    lesson_only: LessonOnlyOpt = False,
    timeout: TimeoutOpt = grader.PER_TEST_TIMEOUT,
    watchdog: Annotated[float, typer.Option(help="Seconds one submission may take, all its tests together.")] = grader.WATCHDOG,
    force: Annotated[bool, typer.Option("--force", help="Grade again even the submissions whose scorecard is up to date.")] = False,
) -> None:
    """Grade every submission in a folder, several at a time, into a gradebook.

    Each submission gets its own folder in --out with its scorecard in every
    format; OUT/gradebook.csv has one row per submission and a column per test
    and per group; OUT/summary.md the mean, the median and the hardest tests.
    A submission that crashes, hangs or is not a valid zip gets a scorecard
    saying so, and the batch goes on. Ctrl-C stops cleanly and keeps what
    finished; running again skips submissions graded since they last changed.
    Exit code: 0 every submission has its scorecard, 2 bad input, 130 interrupted.
    """
    chosen = load_part(part)
    if not submissions.is_dir():
        raise fail(f"{submissions} is not a folder of submissions.")
    slugs = [] if lesson_only else load_challenges(chosen, challenge)
    found = batch.find_submissions(submissions)
    if not found:
        raise fail(f"{submissions} holds no submissions (folders or .zip files).")
    run = batch.Batch(chosen, out, challenges=slugs, jobs=jobs, per_test_timeout=timeout, watchdog=watchdog,
                      force=force, hide=[submissions.resolve()])  # fmt: skip
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[status]}"))  # fmt: skip
    skipped = 0
    with contextlib.ExitStack() as stack:
        try:
            run.part = stack.enter_context(manifest.pristine(chosen))
        except manifest.PristineError as error:
            raise fail(f"Cannot grade: {error}") from None
        progress = stack.enter_context(Progress(*columns, console=console, transient=False))
        task = progress.add_task(f"Grading {chosen.name}", total=len(found), status="")

        def done(submission: batch.Submission, card: Scorecard, reused: bool) -> None:
            nonlocal skipped
            skipped += reused
            progress.advance(task)

        def tick(running: dict[batch.Submission, float]) -> None:
            if running:
                slowest, since = min(running.items(), key=lambda item: item[1])
                status = f"running {len(running)} · slowest: {slowest.name} ({time.monotonic() - since:.0f} s)"
            else:
                status = ""
            progress.update(task, status=status)

        try:
            cards = run.run(found, on_done=done, on_tick=tick)
        except KeyboardInterrupt:
            progress.stop()
            kept = sum(1 for s in found if (run.folder_of(s) / formats.FILE_FORMATS["json"]).is_file())
            errors.print(Text(f"Interrupted: {kept} scorecards are kept in {out}; run the same command again to go on."))
            raise typer.Exit(130) from None
    summary = formats.summarize(cards)
    console.print(Text(f"Graded {len(cards)} submissions ({skipped} up to date, not graded again): "
                       f"mean {summary.mean:g}, median {summary.median:g} of {summary.possible:g} points."))  # fmt: skip
    for name in summary.problems:
        console.print(Text(f"  {name}: the code could not be loaded", style="yellow"))
    for name in summary.flagged:
        console.print(Text(f"  {name}: signs of tampering, see its scorecard", style="bold red"))
    console.print(Text(f"Gradebook: {out / 'gradebook.csv'}; summary: {out / 'summary.md'}"))
    raise typer.Exit(OK)


export_app = typer.Typer(help="Build what a grading platform needs to grade a part on its own machines.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(export_app, name="export")


@export_app.command("gradescope")
def export_gradescope(
    part: PartArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the autograder zip.")],
) -> None:
    """Build the autograder zip to upload to a Gradescope programming assignment."""
    original = load_part(part)
    try:
        with manifest.pristine(original) as chosen:
            path = exports.gradescope(chosen, out, root=original.root)
    except manifest.PristineError as error:
        raise fail(str(error)) from None
    console.print(Text(f"Written: {path}"))
    console.print(Text("Upload it as the assignment's autograder (Configure Autograder > Zip file upload)."))


@export_app.command("classroom")
def export_classroom(
    part: PartArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The starter repository's folder (the workflow goes in .github/).")],
    workbook_repo: Annotated[str, typer.Option("--workbook-repo", help="The repository the workflow takes the workbook from (owner/name).")] = "OWNER/task-manager-workbook",
    ref: Annotated[str | None, typer.Option(help="The commit of that repository to grade with \\[default: this workbook's HEAD].",
                                            show_default=False)] = None,  # fmt: skip
) -> None:
    """Write the GitHub Classroom workflow that grades a part with the pristine tests."""
    original = load_part(part)
    try:
        with manifest.pristine(original) as chosen:
            written = exports.classroom(chosen, out, workbook_repo, ref, root=original.root)
    except manifest.PristineError as error:
        raise fail(str(error)) from None
    for path in written:
        console.print(Text(f"Written: {path}"))


@app.command()
def check(
    part: PartArg,
    path: Annotated[Path | None, typer.Argument(help="Your working copy \\[default: work/partN once you made it, else lessons/partN].", show_default=False)] = None,
    challenge: ChallengeOpt = None,
    lesson_only: LessonOnlyOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every test, passing or not, and every reason.")] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Check again each time you save a file (Ctrl+C stops).")] = False,
    poll: Annotated[bool, typer.Option("--poll", help="With --watch: look for saved files every 0.25 s instead of asking the system (for network drives and some containers).")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds one test may run before it is stopped.")] = student.CHECK_TIMEOUT,
) -> None:
    """Check your work: the lesson's and the challenges' tests, against your code.

    Your copy is graded with the workbook's own tests: a test file you changed
    or deleted is replaced by the workbook's copy (and `check` says so).
    One line per challenge, then what to do next; --verbose shows every test.
    Exit code: 0 all passed, 1 some failed, 2 bad input, 3 the code does not load.
    """
    chosen = load_part(part)
    slugs = load_challenges(chosen, challenge)
    folder = path or workcopy.default_copy(chosen)
    options = student.CheckOptions(challenges=slugs, lesson_only=lesson_only, verbose=verbose, timeout=timeout)
    if watch:
        raise typer.Exit(student.watch(chosen, folder, console, options, poll=poll))
    raise typer.Exit(student.check(chosen, folder, console, options))


@app.command()
def hint(
    part: PartArg,
    challenge: Annotated[str, typer.Argument(help="The challenge's name, as `workbook list` shows it (e.g. search).", show_default=False)],
    all_hints: Annotated[bool, typer.Option("--all", help="Show every hint of the challenge at once.")] = False,
    path: PathOpt = None,
) -> None:
    """Show the challenge's next hint: one more each time you ask (gentlest first)."""
    from rich.markdown import Markdown  # slow to import: only here

    chosen = load_part(part)
    try:
        slug = chosen.challenge(challenge).slug
    except CatalogError as error:
        raise fail(str(error)) from None
    hints = read_hints(chosen.folder / "challenges" / slug / "README.md")
    if not hints:
        raise fail(f"The challenge {slug} has no hints; its README says what done looks like.")
    folder = path or workcopy.default_copy(chosen)
    seen = workcopy.hints_seen(folder, chosen.name, slug)
    if all_hints:
        showing = list(enumerate(hints, start=1))
    else:
        number = min(seen + 1, len(hints))
        showing = [(number, hints[number - 1])]
        workcopy.set_hints_seen(folder, chosen.name, slug, number)
    for number, item in showing:
        console.print(f"[bold]{slug}: {item.title}[/] ({number} of {len(hints)})")
        console.print(Markdown(item.body))
    if all_hints:
        return
    if showing[0][0] < len(hints):
        console.print(f"[dim]Still stuck? `uv run workbook hint {chosen.name} {slug}` again for the next one.[/]")
    else:
        console.print(
            f"[dim]That was the last hint. `--all` shows them all again; `uv run workbook solution "
            f"{chosen.name} {slug}` shows a reference solution, for when you are done or truly stuck.[/]"
        )


@app.command()
def reset(
    part: PartArg,
    path: Annotated[Path | None, typer.Argument(help="The working copy to reset \\[default: work/partN once made, else lessons/partN].", show_default=False)] = None,
    challenge: Annotated[str | None, typer.Option("--challenge", "-c", help="Reset only this challenge: its tests, and the files its solution changes.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Put your working copy back as the workbook ships it (after a backup).

    Every file it changes is first copied to .workbook/backups/ in the copy.
    """
    chosen = load_part(part)
    slug = load_challenges(chosen, [challenge])[0] if challenge else None  # type: ignore[index]
    folder = path or workcopy.default_copy(chosen)
    if not (folder / "app").is_dir():
        raise fail(f"{folder} is not a working copy of {chosen.name} (it has no app/ folder).")
    try:
        plan = workcopy.plan_reset(chosen, folder, slug)
    except (workcopy.WorkCopyError, manifest.PristineError) as error:
        raise fail(str(error)) from None
    where = workcopy.shown(folder, chosen.root)
    if plan.empty:
        console.print(f"Nothing to reset: {where} already matches the workbook" + (f" for {slug}." if slug else "."))
        return
    console.print(f"This puts back {len(plan.restore)} file(s) and removes {len(plan.remove)} in {where}:")
    for relative in plan.restore:
        console.print(f"  put back  {relative}", highlight=False)
    for relative in plan.remove:
        console.print(f"  remove    {relative}", highlight=False)
    if not yes and not typer.confirm("Go ahead? (your versions are kept in a backup)", default=False):
        console.print("Nothing changed.")
        raise typer.Exit(NOT_ALL_PASSED)
    backup = workcopy.apply_reset(folder, plan)
    console.print(f"Done. Your previous versions are in {workcopy.shown(backup, chosen.root)}/.")


@app.command()
def progress() -> None:
    """Every part and challenge with its score from your last checks, and what to do next."""
    raise typer.Exit(student.progress(load_root(), console))


@app.command()
def init(
    part: PartArg,
    path: Annotated[Path | None, typer.Argument(help="Where to make it \\[default: work/partN in the workbook].", show_default=False)] = None,
    from_previous: Annotated[bool, typer.Option("--from-previous", help="Start from the previous part's code, to build this part yourself.")] = False,
) -> None:
    """Make your own working copy of a part, so lessons/ stays as the workbook ships it."""
    chosen = load_part(part)
    target = path or chosen.root / workcopy.WORK / chosen.name
    try:
        workcopy.init(chosen, target, from_previous=from_previous)
    except (workcopy.WorkCopyError, manifest.PristineError) as error:
        raise fail(str(error)) from None
    where = workcopy.shown(target, chosen.root)
    previous = chosen.previous()
    start = f"{previous.name}'s code" if from_previous and previous else f"{chosen.name}'s code"
    console.print(f"Made {where}: {start}, with {chosen.name}'s tests and challenges.", highlight=False)
    again = f"uv run workbook check {chosen.name}" + ("" if target.resolve() == workcopy.default_copy(chosen).resolve() else f" {where}")
    console.print(f"Change the code in {where}/app/; check it with [bold]{again}[/].", highlight=False)


@app.command("verify")
def verify_command(
    part: Annotated[list[str] | None, typer.Argument(help="Parts to verify \\[default: every part].", show_default=False)] = None,
) -> None:
    """Check the workbook's promises for every part (for maintainers).

    Each lesson scores 100% on its tests; the previous part's code does not;
    every challenge fails on the bare lesson and passes with its solution, and
    the lesson's tests still pass with the solution applied.
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


# What a solution patch may not touch: the grader always brings its own copies.
PRISTINE = ("tests/", "challenges/", "conftest.py", "pytest.ini")
DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("diff ", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def colour_patch(text: str) -> Text:
    shown = Text()
    for line in text.splitlines(keepends=True):
        style = next((style for prefix, style in DIFF_STYLES if line.startswith(prefix)), "")
        shown.append(line, style=style)
    return shown


def load_challenge(part: str, slug: str) -> Challenge:
    try:
        return load_part(part).challenge(slug)
    except CatalogError as error:
        raise fail(str(error)) from None


def read_solution(challenge: Challenge) -> str:
    if not challenge.solution.is_file():
        raise fail(f"{challenge.slug} has no reference solution yet ({challenge.solution.name} is missing).")
    return challenge.solution.read_text(encoding="utf-8")


def apply_solution(challenge: Challenge, folder: Path) -> None:
    try:
        changed = patches.apply(read_solution(challenge), folder)
    except patches.PatchError as error:
        raise fail(
            f"The solution does not apply to {folder}: {error}\n"
            f"Next: apply it to a fresh copy of lessons/{challenge.part.name}, or read it with "
            f"`workbook solution {challenge.part.name} {challenge.slug}` and make the changes by hand."
        ) from None
    console.print(f"Applied the solution of [bold]{challenge.slug}[/] to {folder}: " + ", ".join(changed))


def save_solution(challenge: Challenge, folder: Path) -> None:
    if not (folder / "app").is_dir():
        raise fail(f"{folder} has no app/ folder: give the copy you made with --edit.")
    try:
        text = patches.diff(challenge.part.folder, folder)
    except patches.PatchError as error:
        raise fail(str(error)) from None
    if not text:
        raise fail(f"{folder} is the same as lessons/{challenge.part.name}: there is no change to save.")
    pristine = [name for name in patches.touched_files(text) if name.startswith(PRISTINE)]
    if pristine:
        raise fail(
            "A solution may not change " + ", ".join(pristine) + ": the grader always uses the lesson's own "
            f"copies. Undo those changes in {folder} (or change the lesson itself), then save again."
        )
    challenge.solution.parent.mkdir(parents=True, exist_ok=True)
    challenge.solution.write_text(text, encoding="utf-8")
    where = challenge.solution.relative_to(challenge.part.root).as_posix()
    console.print(f"Saved {where}: " + ", ".join(patches.touched_files(text)))
    console.print(f"Next: [bold]uv run workbook verify {challenge.part.name}[/] to check it still passes.")


@app.command()
def solution(
    part: PartArg,
    slug: Annotated[str, typer.Argument(help="The challenge, e.g. search (see `workbook list`).", show_default=False)],
    apply_to: Annotated[Path | None, typer.Option("--apply", help="Apply the solution to this working copy of the part.")] = None,
    edit: Annotated[Path | None, typer.Option(help="Maintainers: make this new folder a copy of the lesson with the solution applied.")] = None,
    save: Annotated[Path | None, typer.Option(help="Maintainers: rewrite the solution's patch from this folder (made with --edit).")] = None,
) -> None:
    """Show a challenge's reference solution: a patch against the lesson.

    With --apply DIR, apply it to your working copy instead. Maintainers change a
    solution with --edit DIR (lesson + solution in a new folder), edit there,
    then --save DIR (the patch is rewritten from DIR against the lesson).
    """
    chosen = load_challenge(part, slug)
    if sum(option is not None for option in (apply_to, edit, save)) > 1:
        raise fail("Give only one of --apply, --edit and --save.")
    if apply_to is not None:
        if not apply_to.is_dir():
            raise fail(f"{apply_to} is not a folder: give your working copy of {chosen.part.name} (the folder holding app/).")
        apply_solution(chosen, apply_to)
    elif edit is not None:
        if edit.exists() and any(edit.iterdir()):
            raise fail(f"{edit} already exists and is not empty: give a new folder.")
        shutil.copytree(chosen.part.folder, edit, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*patches.IGNORED_DIRS))
        apply_solution(chosen, edit)
        console.print(f"Edit the files in {edit} until [bold]uv run workbook check {chosen.part.name} {edit} -c {chosen.slug}[/] passes,")
        console.print(f"then save the patch: [bold]uv run workbook solution {chosen.part.name} {chosen.slug} --save {edit}[/]")
    elif save is not None:
        save_solution(chosen, save)
    else:
        console.print(colour_patch(read_solution(chosen)), soft_wrap=True, highlight=False, end="")


def main() -> None:
    app()
