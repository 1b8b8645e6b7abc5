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


def show(card: Scorecard, console: Console, student: bool = False, failures_only: bool = False) -> None:
    """Print the scorecard. `student` hides the details of hidden tests and shows hints."""
    if card.problem:
        console.print(Text.assemble(("Your code could not be loaded. ", "bold red"), card.problem))
        console.print()
    for group, (earned, possible) in card.groups().items():
        table = Table(title=f"{group_title(group)}: {points(earned)}/{points(possible)} points", title_justify="left", expand=True)
        table.add_column("", no_wrap=True)
        table.add_column("test", ratio=2)
        table.add_column("pts", justify="right", no_wrap=True)
        table.add_column("why", ratio=3)
        for result in card.results:
            if result.group != group or (failures_only and result.status == "passed"):
                continue
            label, style = STATUS_STYLE.get(result.status, (result.status, ""))
            what = result.doc or result.name
            why = result.reason
            if result.hidden and student:
                what, why = f"(hidden test {result.name})", "details are shown after the deadline" if why else ""
            elif result.status != "passed" and result.hint and student:
                why = f"{why}\nHint: {result.hint}" if why else f"Hint: {result.hint}"
            table.add_row(
                Text(label, style=style),
                what,
                f"{points(result.earned)}/{points(result.points)}",
                why,
            )
        if table.row_count:
            console.print(table)
    for note in card.notes:
        console.print(Text(note, style="dim"))
    verdict = "all tests pass" if card.complete else "some tests do not pass yet"
    console.print(
        Text.assemble(
            ("Score: ", "bold"),
            f"{points(card.earned)}/{points(card.possible)} points ({verdict}, {card.seconds:g} s).",
        )
    )
