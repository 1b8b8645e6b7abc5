"""The graded tests of a part, read from the pristine test files without running them.

Reading the files (instead of asking pytest) means the grader knows every test
it should report, even when a submission is so broken that pytest cannot start.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

LESSON = "lesson"


@dataclass(frozen=True)
class GradedTest:
    id: str  # pytest node id of the test function, relative to the part folder
    group: str  # "lesson" or a challenge slug
    name: str
    doc: str
    points: float
    hint: str | None = None
    hidden: bool = False


def marker(decorator: ast.expr) -> tuple[str, ast.Call | None] | None:
    """`@pytest.mark.points(2)` -> ("points", <call>); `@pytest.mark.hidden` -> ("hidden", None)."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call else decorator
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute):
        if target.value.attr == "mark":
            return target.attr, call
    return None


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
            elif name == "points" and call is not None:
                if call.args and isinstance(call.args[0], ast.Constant):
                    points = float(call.args[0].value)
                for keyword in call.keywords:
                    if keyword.arg == "hint" and isinstance(keyword.value, ast.Constant):
                        hint = str(keyword.value.value)
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
        folder = part_folder / "tests" if group == LESSON else part_folder / "challenges" / group
        files[group] = sorted(folder.rglob("test_*.py")) if group == LESSON else sorted(folder.glob("test_*.py"))
    return files


def graded_tests(part_folder: Path, groups: list[str]) -> list[GradedTest]:
    tests = []
    for group, paths in test_files(part_folder, groups).items():
        for path in paths:
            tests.extend(read_tests(path, part_folder, group))
    return tests
