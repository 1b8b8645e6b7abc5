"""Showing a scorecard: a table per group for instructors, a short list for students."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbook.catalog import Part
from workbook.grader import Scorecard, TestResult
from workbook.listing import LESSON
from workbook.reasons import without_case
from workbook.results import STATUS_STYLE
from workbook.workcopy import GroupScore

# Tests that crash or cannot run the same way share one cause, however many.
# Wrong answers are each a different sentence to read, unless many give the
# same answer (a missing route answers 404 to all of them).
COLLAPSE_WRONG_ANSWERS = 3


def points(value: float) -> str:
    return f"{value:g}"


def group_title(group: str) -> str:
    return "Lesson" if group == LESSON else f"Challenge: {group}"


def show(card: Scorecard, console: Console) -> None:
    """Print the scorecard for an instructor: a table per group, every test in it."""
    if card.problem:
        console.print(Text.assemble(("Your code could not be loaded. ", "bold red"), card.problem))
        console.print()
    for group, (earned, possible) in card.groups().items():
        show_table(card, group, f"{group_title(group)}: {points(earned)}/{points(possible)} points", console)
    for note in card.notes:
        console.print(Text(note, style="dim"))
    verdict = "all tests pass" if card.complete else "some tests do not pass yet"
    console.print(
        Text.assemble(
            ("Score: ", "bold"),
            f"{points(card.earned)}/{points(card.possible)} points ({verdict}, {card.seconds:g} s).",
        )
    )


def show_table(card: Scorecard, group: str, title: str, console: Console) -> None:
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("", no_wrap=True)
    table.add_column("test", ratio=2)
    table.add_column("pts", justify="right", no_wrap=True)
    table.add_column("why", ratio=3)
    for result in card.results:
        if result.group == group:
            label, style = STATUS_STYLE.get(result.status, (result.status, ""))
            table.add_row(
                Text(label, style=style),
                result.doc or result.name,
                f"{points(result.earned)}/{points(result.points)}",
                result.reason,
            )
    console.print(table)


@dataclass
class CheckView:
    """What the student view of a check needs besides the scorecard."""

    part: Part
    folder: str  # the working copy, as the student would type it
    base_command: str  # the command that checks this copy: `uv run workbook check part1 [FOLDER]`
    selected: list[str] | None = None  # challenges named with --challenge
    verbose: bool = False
    warnings: list[str] = field(default_factory=list)
    next_part: str | None = None
    order: list[str] = field(default_factory=list)  # the challenges, gentlest first

    def in_order(self, groups: dict[str, GroupScore]) -> list[str]:
        """The challenges among `groups`, in the order the part's README gives them."""
        ordered = [group for group in self.order if group in groups]
        return ordered + [group for group in groups if group != LESSON and group not in ordered]

    @property
    def command(self) -> str:
        """The command that runs this same check again."""
        return self.base_command + "".join(f" -c {slug}" for slug in self.selected or [])


def group_scores(card: Scorecard) -> dict[str, GroupScore]:
    """Each group's score and the first sentence that does not pass yet."""
    scores = {}
    for group, (earned, possible) in card.groups().items():
        failing = [r for r in card.results if r.group == group and r.status not in ("passed", "skipped")]
        scores[group] = GroupScore(earned, possible, next_sentence(failing[0]) if failing else "")
    return scores


def next_sentence(result: TestResult) -> str:
    return "a hidden test" if result.hidden else result.doc or result.name


def show_check(card: Scorecard, view: CheckView, console: Console) -> None:
    """What a student reads after `check`: one line per group, details where the work is."""
    if card.problem:
        show_problem(card, view, console)
        return
    for warning in view.warnings:
        console.print(Text(f"! {warning}", style="yellow"))
    scores = group_scores(card)
    lesson = scores.get(LESSON)
    console.print(Text.assemble((view.part.title, "bold"), (f" ({view.folder})", "dim")))
    challenges = view.in_order(scores)
    if lesson is not None:
        if lesson.complete and not view.verbose:
            tests = sum(1 for r in card.results if r.group == LESSON)
            todo = [group for group in challenges if not scores[group].complete]
            note = "; the challenges are your work" if todo else ""
            console.print(Text.assemble(("✓ ", "green"), f"Lesson: {points(lesson.earned)}/{points(lesson.possible)} points, all {tests} tests pass{note}."))
        else:
            show_group(card, LESSON, f"Lesson: {points(lesson.earned)}/{points(lesson.possible)} points", view.verbose, console)
    detailed = [group for group in challenges if view.verbose or (view.selected and group in view.selected)]
    if challenges:
        console.print(Text("Challenges:", style="bold"))
        width = max(len(group) for group in challenges)
        for group in challenges:
            score = scores[group]
            mark = ("  ✓ ", "green") if score.complete else ("  ✗ ", "red")
            result = f"{points(score.earned)}/{points(score.possible)}"
            rest = "done" if score.complete else f"next: {score.next}"
            console.print(Text.assemble(mark, f"{group.ljust(width)}  {result.rjust(5)}  {rest}"))
    for group in detailed:
        console.print()
        earned, possible = scores[group].earned, scores[group].possible
        show_group(card, group, f"Challenge {group}: {points(earned)}/{points(possible)} points", view.verbose, console)
    for note in card.notes:
        console.print(Text(note, style="dim"))
    console.print(Text.assemble(("Next: ", "bold"), next_step(view, scores)))


def show_problem(card: Scorecard, view: CheckView, console: Console) -> None:
    """A load problem: one headline, first and last, and nothing else."""
    problem = card.problem or ""
    headline = problem if problem.startswith("The tests") else f"Your code could not be loaded: {problem}"
    console.print(Text.assemble(("✗ ", "bold red"), headline), soft_wrap=True)
    console.print(f"  No test could run, so {view.part.name} scores 0/{points(card.possible)} for now. Check again with: {view.command}", soft_wrap=True, highlight=False)
    console.print(Text.assemble(("✗ ", "bold red"), problem), soft_wrap=True)


def show_group(card: Scorecard, group: str, title: str, verbose: bool, console: Console) -> None:
    """The tests of one group that do not pass: one line per distinct cause."""
    results = [r for r in card.results if r.group == group]
    passed = [r for r in results if r.status == "passed"]
    console.print(Text.assemble((title, "bold"), f" ({len(passed)} of {len(results)} tests pass)"))
    if verbose:
        for result in passed:
            console.print(Text.assemble(("  ✓ passed ", "green"), result.doc or result.name))
    causes: dict[tuple[str, str], list[TestResult]] = {}
    for result in results:
        if result.status != "passed":
            key = (result.status, "hidden" if result.hidden else without_case(result.reason))
            causes.setdefault(key, []).append(result)
    for (status, _), same in causes.items():
        if not verbose and len(same) >= (COLLAPSE_WRONG_ANSWERS if status == "failed" else 2):
            show_cause(status, same, console)
        else:
            for result in same:
                show_result(result, console)


def show_result(result: TestResult, console: Console) -> None:
    label, style = STATUS_STYLE.get(result.status, (result.status, ""))
    if result.hidden:
        console.print(Text.assemble((f"  {label} ", style), f"a hidden test ({points(result.points)} pts): details come after the deadline"))
        return
    console.print(Text.assemble((f"  {label} ", style), f"{result.doc or result.name} ({points(result.points)} pts)"))
    if result.reason:
        console.print(Text(f"      why: {result.reason}", style="dim"))
    if result.hint and result.status == "failed":  # a hint helps with a wrong answer, not with a crash
        console.print(Text(f"      hint: {result.hint}", style="cyan"))


def show_cause(status: str, same: list[TestResult], console: Console) -> None:
    """Several tests that did not pass for the same reason, in one line."""
    label, style = STATUS_STYLE.get(status, (status, ""))
    worth = sum(r.points for r in same)
    if same[0].hidden:
        console.print(Text.assemble((f"  {label} ", style), f"{len(same)} hidden tests ({points(worth)} pts): details come after the deadline"))
        return
    not_run = same[0].reason.startswith("not run: ")
    verb = "could not run" if not_run else {"failed": "fail", "timeout": "were stopped", "skipped": "were skipped"}.get(status, "hit an error")
    reason = without_case(same[0].reason).removeprefix("not run: ")
    console.print(Text.assemble((f"  {label} ", style), f"{len(same)} tests {verb} ({points(worth)} pts): {reason}"))
    console.print(Text(f"      first: {same[0].doc or same[0].name} (--verbose lists them all)", style="dim"))
    if same[0].hint and status == "failed":
        console.print(Text(f"      hint: {same[0].hint}", style="cyan"))


def next_step(view: CheckView, scores: dict[str, GroupScore]) -> str:
    """The one thing to do now, with the command for it."""
    lesson = scores.get(LESSON)
    if lesson is not None and not lesson.complete:
        return f"make the lesson's tests pass first, then run `{view.command}` again."
    open_ones = [group for group in view.in_order(scores) if not scores[group].complete]
    if open_ones:
        started = [group for group in open_ones if scores[group].earned > 0]
        group = (started or open_ones)[0]
        if view.selected and group in view.selected:
            return f"make this pass: {scores[group].next} (`uv run workbook hint {view.part.name} {group}` gives a hint)."
        return f"read {view.folder}/challenges/{group}/README.md, then run `{view.base_command} -c {group}`."
    if view.selected or lesson is None:
        return f"everything you checked passes; run `{view.base_command}` for the whole part."
    if view.next_part:
        return f"{view.part.name} is complete! Go on with `uv run workbook check {view.next_part}`."
    return "the whole workbook is complete. Well done!"
