"""Every output of grading, made from scorecards: for people, for programs, for platforms.

One scorecard gives a terminal table, the scorecard's own JSON, Gradescope's
`results.json`, a GitHub Classroom runner result, JUnit XML and Markdown
feedback for the student. A batch of scorecards gives a CSV gradebook and a
summary. Nothing here trusts the text inside a scorecard: the submission
chose some of it (a reason is what its code made an assertion print), so it is
printed as plain text, escaped in XML, quoted in Markdown and defused in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbook.results import LESSON, STATUS_STYLE, Scorecard, TestResult

FILE_FORMATS = {
    "json": "scorecard.json",
    "gradescope": "results.json",
    "classroom": "classroom.json",
    "junit": "junit.xml",
    "markdown": "feedback.md",
}
FORMATS = ("table", *FILE_FORMATS)


def points(value: float) -> str:
    return f"{value:g}"


def group_title(group: str) -> str:
    return "Lesson" if group == LESSON else f"Challenge: {group}"


def render(card: Scorecard, fmt: str) -> str:
    """The text of one file format."""
    if fmt == "json":
        return card.to_json()
    if fmt == "gradescope":
        return json.dumps(gradescope(card), indent=2, ensure_ascii=False) + "\n"
    if fmt == "classroom":
        return json.dumps(classroom(card), indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return junit(card)
    if fmt == "markdown":
        return markdown(card)
    raise ValueError(f"unknown format {fmt!r}; the formats are: {', '.join(FORMATS)}")


def write(card: Scorecard, formats: Sequence[str], folder: Path) -> list[Path]:
    """Write the file formats side by side in `folder`; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt in FILE_FORMATS:
            path = folder / FILE_FORMATS[fmt]
            path.write_text(render(card, fmt), encoding="utf-8")
            written.append(path)
    return written


# -- the terminal ---------------------------------------------------------------


def show_table(card: Scorecard, console: Console) -> None:
    """The instructor's view: one table per group, every test, tampering signs in red."""
    if card.problem:
        console.print(Text.assemble(("The code could not be loaded. ", "bold red"), card.problem))
    for group, (earned, possible) in card.groups().items():
        table = Table(title=f"{group_title(group)}: {points(earned)}/{points(possible)} points",
                      title_justify="left", expand=True)  # fmt: skip
        table.add_column("", no_wrap=True)
        table.add_column("test", ratio=2)
        table.add_column("pts", justify="right", no_wrap=True)
        table.add_column("why", ratio=3)
        for result in card.results:
            if result.group != group:
                continue
            label, style = STATUS_STYLE.get(result.status, (result.status, ""))
            name = (result.doc or result.name) + (" (hidden)" if result.hidden else "")
            table.add_row(
                Text(label, style=style),
                Text(name),
                Text(f"{points(result.earned)}/{points(result.points)}"),
                Text(result.reason),
            )
        console.print(table)
    for note in card.notes:
        console.print(Text(note, style="dim"))
    for flag in card.flags:
        console.print(Text.assemble(("Tampering sign: ", "bold red"), flag))
    verdict = "all tests pass" if card.complete else "some tests do not pass"
    console.print(Text.assemble(("Score: ", "bold"), f"{points(card.earned)}/{points(card.possible)} points ({verdict}, {card.seconds:g} s)."))


# -- Gradescope -----------------------------------------------------------------


def feedback_text(result: TestResult) -> str:
    if result.status == "passed":
        return ""
    lines = [f"{result.status}: {result.reason}" if result.reason else result.status]
    if result.hint:
        lines.append(f"Hint: {result.hint}")
    return "\n".join(lines)


def gradescope(card: Scorecard) -> dict[str, Any]:
    """Gradescope's results.json: a score, and each test with its own score and visibility."""
    tests = []
    for number, result in enumerate(card.results, start=1):
        counted = result.status != "skipped"
        tests.append(
            {
                "name": result.doc or result.name,
                "name_format": "text",
                "number": str(number),
                "score": result.earned if counted else 0.0,
                "max_score": result.points if counted else 0.0,
                "status": "passed" if result.status == "passed" else "failed",
                "output": feedback_text(result) if counted else f"skipped, not counted: {result.reason}",
                "output_format": "text",
                "tags": [result.group],
                "visibility": "after_published" if result.hidden else "visible",
            }
        )
    summary = [card.problem] if card.problem else []
    summary += [note for note in card.notes if not note.startswith("Sandbox")]
    return {
        "score": card.earned,
        "execution_time": round(card.seconds),
        "output": "\n".join(summary) or f"{points(card.earned)}/{points(card.possible)} points.",
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"part": card.part, "possible": card.possible, "tampering_signs": card.flags},
        "tests": tests,
    }


# -- GitHub Classroom -----------------------------------------------------------


def classroom(card: Scorecard) -> dict[str, Any]:
    """The result a GitHub Classroom runner step hands to the grading reporter (base64 of this JSON)."""
    tests = []
    hidden = 0
    for result in card.results:
        if result.status == "skipped":
            continue
        if result.hidden:
            hidden += 1
        tests.append(
            {
                "name": f"hidden test {hidden}" if result.hidden else (result.doc or result.name),
                "status": "pass" if result.status == "passed" else ("error" if result.status == "error" else "fail"),
                "score": result.earned,
                "message": "" if result.hidden else feedback_text(result),
                "filename": result.id.split("::")[0],
                "execution_time": f"{result.seconds:g}s",
            }
        )
    status = "error" if card.problem else ("pass" if card.complete else "fail")
    return {"version": 1, "status": status, "max_score": card.possible, "tests": tests}


# -- JUnit XML ------------------------------------------------------------------


def junit(card: Scorecard) -> str:
    """JUnit XML: one testsuite per group, a failure, error or skipped element for each test that did not pass."""
    root = ET.Element("testsuites", name=card.part)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for group, (earned, possible) in card.groups().items():
        results = [r for r in card.results if r.group == group]
        counts = {
            "tests": len(results),
            "failures": sum(r.status == "failed" for r in results),
            "errors": sum(r.status in ("error", "timeout") for r in results),
            "skipped": sum(r.status == "skipped" for r in results),
        }
        seconds = sum(r.seconds for r in results)
        attributes = {"name": group, "time": f"{seconds:.3f}", **{key: str(value) for key, value in counts.items()}}
        suite = ET.SubElement(root, "testsuite", attributes)
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="points", value=f"{earned:g}/{possible:g}")
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"{card.part}.{group}", name=result.name,
                                 file=result.id.split("::")[0], time=f"{result.seconds:.3f}")  # fmt: skip
            case_properties = ET.SubElement(case, "properties")
            ET.SubElement(case_properties, "property", name="points", value=f"{result.points:g}")
            ET.SubElement(case_properties, "property", name="earned", value=f"{result.earned:g}")
            message = clean_xml(result.reason)
            if result.status == "failed":
                ET.SubElement(case, "failure", message=message, type="AssertionError").text = clean_xml(feedback_text(result))
            elif result.status in ("error", "timeout"):
                ET.SubElement(case, "error", message=message, type=result.status).text = clean_xml(feedback_text(result))
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=message)
        for key in totals:
            totals[key] += counts[key]
        total_time += seconds
    root.attrib.update({key: str(value) for key, value in totals.items()}, time=f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def clean_xml(text: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped: drop them."""
    return "".join(ch for ch in text if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))


# -- Markdown feedback ----------------------------------------------------------


def code_span(text: str) -> str:
    """`text` as a Markdown code span, so that nothing in it is read as Markdown or HTML."""
    text = " ".join(text.split())
    fence = "`"
    while fence in text:
        fence += "`"
    return f"{fence} {text} {fence}"


def markdown(card: Scorecard) -> str:
    """What a student reads: what passed, what did not and why, hints; hidden tests counted, not named."""
    passing = sum(r.status == "passed" for r in card.results)
    lines = [
        f"# {card.part}: your results",
        "",
        f"**Score: {points(card.earned)}/{points(card.possible)} points** ({passing} of {len(card.results)} tests pass)",
        "",
    ]
    if card.problem:
        lines += ["Your code could not be loaded: " + code_span(card.problem), ""]
    for group, (earned, possible) in card.groups().items():
        results = [r for r in card.results if r.group == group]
        lines += [f"## {group_title(group)}: {points(earned)}/{points(possible)} points", ""]
        visible = [r for r in results if not r.hidden]
        for result in visible:
            label = "✓" if result.status == "passed" else "✗"
            lines.append(f"- {label} {result.doc or result.name} ({points(result.earned)}/{points(result.points)} points)")
            if result.status != "passed" and result.reason and result.reason != card.problem:
                lines.append(f"  - why ({result.status}): {code_span(result.reason)}")
            if result.status != "passed" and result.hint:
                lines.append(f"  - hint: {result.hint}")
        hidden = [r for r in results if r.hidden]
        if hidden:
            passed = sum(r.status == "passed" for r in hidden)
            earned_hidden = sum(r.earned for r in hidden)
            possible_hidden = sum(r.points for r in hidden if r.status != "skipped")
            lines.append(f"- {len(hidden)} hidden tests: {passed} pass, {points(earned_hidden)}/{points(possible_hidden)} "
                         "points; their details come after the deadline")  # fmt: skip
        lines.append("")
    notes = [note for note in card.notes if not note.startswith("Sandbox")]
    if notes:
        lines += ["## Notes", "", *(f"- {code_span(note)}" for note in notes), ""]
    return "\n".join(lines)


# -- a batch: gradebook and summary ---------------------------------------------


def defuse(cell: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula; make it text."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def gradebook(cards: Sequence[tuple[str, Scorecard]]) -> str:
    """CSV: one row per submission; a total, then a column per group and per test (points earned)."""
    groups: list[str] = []
    tests: list[str] = []
    for _, card in cards:
        for group in card.groups():
            if group not in groups:
                groups.append(group)
        for result in card.results:
            if result.id not in tests:
                tests.append(result.id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "score", "possible", "problem", "tampering_signs", *groups, *tests])
    for name, card in cards:
        by_group = card.groups()
        by_test = {r.id: r for r in card.results}
        writer.writerow(
            [
                defuse(name),
                f"{card.earned:g}",
                f"{card.possible:g}",
                defuse(card.problem or ""),
                str(len(card.flags)),
                *(f"{by_group[g][0]:g}" if g in by_group else "" for g in groups),
                *(f"{by_test[t].earned:g}" if t in by_test and by_test[t].status != "skipped" else "" for t in tests),
            ]
        )
    return out.getvalue()


@dataclass
class Summary:
    submissions: int
    mean: float
    median: float
    possible: float
    pass_rates: dict[str, float]  # test id -> share of submissions where it passed
    hardest: list[tuple[str, str, float]]  # (test id, what it checks, pass rate), hardest first
    problems: list[str]  # submissions whose code could not be loaded
    flagged: list[str]  # submissions with signs of tampering

    def as_dict(self) -> dict[str, Any]:
        return {
            "submissions": self.submissions,
            "mean": self.mean,
            "median": self.median,
            "possible": self.possible,
            "pass_rates": self.pass_rates,
            "hardest": [{"test": t, "doc": d, "pass_rate": r} for t, d, r in self.hardest],
            "problems": self.problems,
            "flagged": self.flagged,
        }


def summarize(cards: Sequence[tuple[str, Scorecard]], hardest: int = 5) -> Summary:
    scores = [card.earned for _, card in cards]
    passed: dict[str, int] = {}
    counted: dict[str, int] = {}
    docs: dict[str, str] = {}
    for _, card in cards:
        for result in card.results:
            if result.status == "skipped":
                continue
            docs[result.id] = result.doc or result.name
            counted[result.id] = counted.get(result.id, 0) + 1
            passed[result.id] = passed.get(result.id, 0) + (result.status == "passed")
    rates = {test: round(passed[test] / counted[test], 3) for test in counted}
    ordered = sorted(rates, key=lambda test: (rates[test], test))
    return Summary(
        submissions=len(cards),
        mean=round(statistics.fmean(scores), 2) if scores else 0.0,
        median=round(statistics.median(scores), 2) if scores else 0.0,
        possible=max((card.possible for _, card in cards), default=0.0),
        pass_rates=rates,
        hardest=[(test, docs[test], rates[test]) for test in ordered[:hardest]],
        problems=[name for name, card in cards if card.problem],
        flagged=[name for name, card in cards if card.flags],
    )


def summary_markdown(summary: Summary) -> str:
    lines = [
        "# Class summary",
        "",
        f"- submissions: {summary.submissions}",
        f"- mean: {points(summary.mean)}/{points(summary.possible)} points",
        f"- median: {points(summary.median)}/{points(summary.possible)} points",
        f"- code that could not be loaded: {len(summary.problems)}",
        f"- with signs of tampering (review these): {len(summary.flagged)}"
        + (f" ({', '.join(code_span(name) for name in summary.flagged)})" if summary.flagged else ""),
        "",
        "## Hardest tests",
        "",
        "| pass rate | test | what it checks |",
        "|---:|---|---|",
        *(f"| {rate:.0%} | {code_span(test)} | {doc.replace('|', '/')} |" for test, doc, rate in summary.hardest),
        "",
        "## Pass rate of every test",
        "",
        "| pass rate | test |",
        "|---:|---|",
        *(f"| {rate:.0%} | {code_span(test)} |" for test, rate in sorted(summary.pass_rates.items())),
        "",
    ]
    return "\n".join(lines)
