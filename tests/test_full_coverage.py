"""Part 4's full-coverage challenge grades tests, not just coverage.

The reference solution's my_tests/ with every assert turned into a bare
expression (the same requests, nothing checked) still passes and covers every
router; the planted bugs are what keep it from scoring more than a quarter.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT
from workbook import patches
from workbook.catalog import get_part
from workbook.grader import grade

PART = get_part(ROOT, "part4")
CHALLENGE = PART.challenge("full-coverage")


def challenge_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("full_coverage", CHALLENGE.folder / "test_full_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AssertsToExpressions(ast.NodeTransformer):
    """`assert x == y, why` -> `x == y`: the test still does everything, and checks nothing."""

    count = 0

    def visit_Assert(self, node: ast.Assert) -> ast.Expr:
        self.count += 1
        return ast.copy_location(ast.Expr(node.test), node)


def strip_asserts(folder: Path) -> int:
    stripped = 0
    for path in sorted(folder.glob("test_*.py")):
        transformer = AssertsToExpressions()
        tree = transformer.visit(ast.parse(path.read_text(encoding="utf-8")))
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n", encoding="utf-8")
        stripped += transformer.count
    return stripped


def test_every_planted_bug_fits_the_lesson() -> None:
    """Each bug's code is in the lesson exactly once, so each can be planted."""
    module = challenge_module()
    for bug in module.BUGS:
        source = (PART.folder / bug.file).read_text(encoding="utf-8")
        planted = module.plant(bug, source)
        assert planted is not None, f"{bug.name}: its code is no longer in lessons/part4/{bug.file} exactly once"
        changed, lines = planted
        assert changed != source and lines, bug.name
    assert {bug.router for bug in module.BUGS} == {
        "app/routers/auth.py", "app/routers/tasks.py", "app/routers/admin.py", "app/routers/ws.py"
    }  # fmt: skip


@pytest.mark.timeout(900)
def test_tests_without_asserts_score_at_most_a_quarter(tmp_path: Path) -> None:
    copy = tmp_path / "part4"
    shutil.copytree(PART.folder, copy, ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.log"))
    patches.apply(CHALLENGE.solution.read_text(encoding="utf-8"), copy)
    assert strip_asserts(copy / "my_tests") > 20

    card = grade(PART, copy, challenges=[CHALLENGE.slug], include_lesson=False)

    results = {result.name: result for result in card.results}
    # The tests still run and pass: it is the missing checks that cost the points.
    assert results["test_your_tests_pass"].status == "passed"
    earned, possible = card.groups()[CHALLENGE.slug]
    assert earned <= possible / 4, {name: (r.earned, r.reason) for name, r in results.items()}
    assert "did not notice these bugs planted in it" in results["test_your_tests_cover_the_tasks_router"].reason
