"""The graded tests of a part, read from the pristine test files without running them.

Reading the files (instead of asking pytest) means the grader knows every test
it should report, even when a submission is so broken that pytest cannot start.

This module is the one source of truth for test metadata: which folder holds
which group (`group_folder`), and what a `points` marker is worth
(`marker_points`, used here on the source and by the plugin on live markers).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from workbook.results import LESSON

__all__ = ["LESSON", "GradedTest", "graded_tests", "group_folder", "marker_points", "test_files"]


@dataclass(frozen=True)
class GradedTest:
    id: str  # pytest node id of the test function, relative to the part folder
    group: str  # "lesson" or a challenge slug
    name: str
    doc: str
    points: float
    hint: str | None = None
    hidden: bool = False


def group_folder(group: str) -> PurePosixPath:
    """Where a group's tests live in a part: `tests` for the lesson, `challenges/<slug>` otherwise."""
    return PurePosixPath("tests") if group == LESSON else PurePosixPath("challenges") / group


def marker_points(args: Sequence[Any], kwargs: Mapping[str, Any]) -> float:
    """What `@pytest.mark.points(...)` is worth: `points(2)`, `points(n=2)` -> 2; `points()` -> 1.

    Anything that is not a finite, non-negative number is worth 0 (and
    `workbook verify` reports a test worth 0 points)."""
    value = args[0] if args else kwargs.get("n", 1)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if 0 <= number < float("inf") else 0.0


class NotLiteral(Exception):
    pass


def literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise NotLiteral from None


def marker(decorator: ast.expr) -> tuple[str, ast.Call | None] | None:
    """`@pytest.mark.points(2)` -> ("points", <call>); `@pytest.mark.hidden` -> ("hidden", None)."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call else decorator
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "mark":
        return target.attr, call
    return None


def points_marker(call: ast.Call | None) -> tuple[float, str | None]:
    """(points, hint) of a `points` marker written in the source."""
    if call is None:  # `@pytest.mark.points` without parentheses is pytest's points() too
        return marker_points((), {}), None
    try:
        args = [literal(arg) for arg in call.args]
        kwargs = {keyword.arg: literal(keyword.value) for keyword in call.keywords if keyword.arg}
    except NotLiteral:
        return 0.0, None
    hint = kwargs.get("hint")
    return marker_points(args, kwargs), None if hint is None else str(hint)


def read_tests(path: Path, part_folder: Path, group: str) -> list[GradedTest]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = path.relative_to(part_folder).as_posix()
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.name.startswith("test"):
            continue
        points, hint, hidden = 0.0, None, False
        for decorator in node.decorator_list:
            name_and_call = marker(decorator)
            if name_and_call is None:
                continue
            name, call = name_and_call
            if name == "hidden":
                hidden = True
            elif name == "points":
                points, hint = points_marker(call)
        found.append(
            GradedTest(
                id=f"{relative}::{node.name}",
                group=group,
                name=node.name,
                doc=" ".join((ast.get_docstring(node) or "").split()),
                points=points,
                hint=hint,
                hidden=hidden,
            )
        )
    return found


def test_files(part_folder: Path, groups: list[str]) -> dict[str, list[Path]]:
    """The pristine test files of each group, by group."""
    files: dict[str, list[Path]] = {}
    for group in groups:
        folder = part_folder / group_folder(group)
        files[group] = sorted(folder.rglob("test_*.py")) if group == LESSON else sorted(folder.glob("test_*.py"))
    return files


def graded_tests(part_folder: Path, groups: list[str]) -> list[GradedTest]:
    tests = []
    for group, paths in test_files(part_folder, groups).items():
        for path in paths:
            tests.extend(read_tests(path, part_folder, group))
    return tests
