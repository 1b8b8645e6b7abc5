"""How much do forked runs and test selection save when hunting planted bugs?

Part 4's full-coverage challenge runs the student's my_tests/ against copies of
the app with one bug planted in each (challenges/full-coverage/mutants.py). This
script takes the reference solution's my_tests/, with its asserts kept and with
every assert turned into a bare expression (so that no bug is caught and every
selected test runs), and times, side by side in one run, three ways of doing
the same runs:

- naive: a fresh Python per bug, running all of my_tests/ (what a simple
  mutation runner would do);
- selected: a fresh Python per bug, running only the tests that ran the
  changed lines (coverage's per-test contexts);
- forked + selected: what the challenge does: the libraries imported once, a
  forked child per bug, only the selected tests.

It prints the seconds of each, wall clock and CPU (this process and its
children; the steadier number on a busy machine), the best of --repeat, and
the CPU ratio of naive to forked; and checks that all three agree on which
bugs were caught.

    uv run python benchmarks/planted_bugs.py
    uv run python benchmarks/planted_bugs.py --repeat 3
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from workbook import patches  # noqa: E402

CHALLENGE = ROOT / "lessons" / "part4" / "challenges" / "full-coverage"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class AssertsToExpressions(ast.NodeTransformer):
    def visit_Assert(self, node: ast.Assert) -> ast.Expr:
        return ast.copy_location(ast.Expr(node.test), node)


def reference_copy(work: Path, asserts: bool) -> Path:
    lesson = work / "part4"
    shutil.copytree(ROOT / "lessons" / "part4", lesson, ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.log"))
    patches.apply((ROOT / "solutions" / "part4" / "full-coverage.patch").read_text(encoding="utf-8"), lesson)
    if not asserts:
        for path in (lesson / "my_tests").glob("test_*.py"):
            tree = AssertsToExpressions().visit(ast.parse(path.read_text(encoding="utf-8")))
            path.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n", encoding="utf-8")
    return lesson


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the runs)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(mutants: ModuleType, plan: list[dict[str, Any]], work: Path, fork: bool, repeat: int) -> tuple[float, float, dict[str, str]]:
    """(wall seconds, CPU seconds, which bugs were caught), the best of `repeat` runs."""
    wall = cpu = float("inf")
    results: dict[str, Any] = {}
    for attempt in range(repeat):
        (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        started, started_cpu = time.perf_counter(), cpu_seconds()
        mutants.main(str(work / "plan.json"), str(work / f"results-{attempt}.json"), fork=fork)
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, cpu_seconds() - started_cpu)
        results = json.loads((work / f"results-{attempt}.json").read_text(encoding="utf-8"))
    return wall, cpu, {name: f"{'caught' if result['caught'] else 'missed'}: {result['why']}" for name, result in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each way; the best is kept")
    args = parser.parse_args()
    challenge = load(CHALLENGE / "test_full_coverage.py", "full_coverage")
    mutants = load(CHALLENGE / "mutants.py", "mutants")
    print(f"{len(challenge.BUGS)} planted bugs, {mutants.WORKERS} at a time; seconds of wall clock and of CPU")
    print(f"{'my_tests':<18}{'naive':>16}{'selected':>16}{'forked+selected':>18}   naive/forked (CPU)")
    for asserts in (True, False):
        with tempfile.TemporaryDirectory() as temporary:
            work = Path(temporary)
            lesson = reference_copy(work, asserts)
            run = challenge.run_under_coverage(lesson, work)
            assert run.returncode == 0, run.output[-2000:]
            plan, missed = challenge.plant_bugs(run, lesson, work / "bugs")
            assert not missed, missed
            everything = [{**entry, "tests": ["my_tests"]} for entry in plan]
            ways = [(everything, False), (plan, False), (plan, True)]
            measured = [timed(mutants, chosen, work, fork, args.repeat) for chosen, fork in ways]
            caught = [found for _, _, found in measured]
            assert caught[0] == caught[1] == caught[2], caught
            cells = "".join(f"{wall:>8.1f} /{cpu:>6.1f}" for wall, cpu, _ in measured)
            label = "with asserts" if asserts else "asserts stripped"
            ratio = measured[0][1] / measured[2][1]
            found = sum(verdict.startswith("caught") for verdict in caught[2].values())
            print(f"{label:<18}{cells}   {ratio:.1f}x   caught {found} of {len(caught[2])}")

if __name__ == "__main__":
    main()
