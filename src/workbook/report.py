"""Showing a scorecard: a Rich table for people, JSON for programs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbook.grader import Scorecard
from workbook.listing import LESSON

STATUS_STYLE = {
    "passed": ("✓ passed", "green"),
    "failed": ("✗ failed", "red"),
    "error": ("! error", "red"),
    "timeout": ("⏱ timeout", "yellow"),
    "skipped": ("- skipped", "dim"),
}


def points(value: float) -> str:
    return f"{value:g}"


def group_title(group: str) -> str:
    return "Lesson" if group == LESSON else f"Challenge: {group}"


def show(card: Scorecard, console: Console, student: bool = False) -> None:
    """Print the scorecard: a table per group for instructors, a friendly list for students."""
    if card.problem:
        console.print(Text.assemble(("Your code could not be loaded. ", "bold red"), card.problem))
        console.print()
    for group, (earned, possible) in card.groups().items():
        title = f"{group_title(group)}: {points(earned)}/{points(possible)} points"
        if student:
            show_list(card, group, title, console)
        else:
            show_table(card, group, title, console)
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


def show_list(card: Scorecard, group: str, title: str, console: Console) -> None:
    """What a student reads: what failed, why, and what to try; passing tests in one line."""
    results = [r for r in card.results if r.group == group]
    passed = sum(1 for r in results if r.status == "passed")
    console.print(Text(title, style="bold"), f"({passed} of {len(results)} tests pass)")
    for result in results:
        if result.status == "passed":
            continue
        label, style = STATUS_STYLE.get(result.status, (result.status, ""))
        if result.hidden:
            console.print(Text(f"  {label}", style=style), f"a hidden test ({points(result.points)} pts): details come after the deadline")
            continue
        console.print(Text(f"  {label}", style=style), f"{result.doc or result.name} ({points(result.points)} pts)")
        if result.reason and result.reason != card.problem:
            console.print(Text(f"      why: {result.reason}", style="dim"))
        if result.hint:
            console.print(Text(f"      hint: {result.hint}", style="cyan"))
    console.print()
