"""What every file of the workbook promises: current idioms, no leftovers."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT
from workbook import patches


def taught() -> dict[str, str]:
    """Every Python file a student reads: the lessons, and the lessons as each solution patch leaves them."""
    sources = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in ROOT.glob("lessons/**/*.py")}
    for patch in sorted(ROOT.glob("solutions/*/*.patch")):
        lesson = ROOT / "lessons" / patch.parent.name
        try:
            changed = patches.patched(patch.read_text(encoding="utf-8"), lesson)
        except patches.PatchError:
            continue  # tests/test_patches.py says which patch and why
        for relative, text in changed.items():
            if text is not None and relative.endswith(".py"):
                sources[f"{patch.relative_to(ROOT)}: {relative}"] = text
    return sources


TAUGHT = taught()

FORBIDDEN = {
    "passlib": re.compile(r"\bpasslib\b"),
    "python-jose": re.compile(r"\bjose\b"),
    "on_event": re.compile(r"\.on_event\("),
    "pytest.mark.asyncio": re.compile(r"mark\.asyncio"),
}


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_no_outdated_pattern_is_taught(name: str) -> None:
    offenders = [where for where, text in TAUGHT.items() if FORBIDDEN[name].search(text)]
    assert offenders == []


def test_no_bare_except_anywhere() -> None:
    offenders = []
    tool_files = [*ROOT.glob("src/**/*.py"), *ROOT.glob("benchmarks/*.py")]
    tools = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in tool_files}
    for where, text in {**TAUGHT, **tools}.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and node.type is None:
                offenders.append(f"{where}:{node.lineno}")
    assert offenders == []


def test_challenge_tests_do_not_import_the_app_at_module_level() -> None:
    """So the grader can list a challenge's tests even when the app is broken."""
    offenders = []
    for path in ROOT.glob("lessons/*/challenges/*/test_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick_start, flags=re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["uv run workbook check part1", "uv run pytest"]


# What each part's app adds to the one before it: the modules its walkthrough
# teaches (see each part's README, "What is here"). They also change files they share.
ADDED_MODULES = {
    "part2": {"app/config.py", "app/db.py"},
    "part3": {"app/core/security.py", "app/deps.py", "app/users.py", "app/routers/auth.py", "app/routers/admin.py"},
    "part4": {"app/notifications.py", "app/live.py", "app/routers/ws.py", "app/static/index.html"},
}


def app_files(part: str) -> dict[str, str]:
    folder = ROOT / "lessons" / part
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((folder / "app").rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("part", sorted(ADDED_MODULES))
def test_each_part_adds_what_it_teaches_to_the_part_before(part: str) -> None:
    before, after = app_files(f"part{int(part[-1]) - 1}"), app_files(part)
    missing = ADDED_MODULES[part] - (set(after) - set(before))
    assert not missing, f"{part} should add {sorted(missing)} to the app of the part before"
    # More than the version number changes in what both parts have.
    changed = [name for name in set(before) & set(after) if strip_version(before[name]) != strip_version(after[name])]
    assert "app/main.py" in changed, f"{part}'s app/main.py differs from the part before only in its version"


def strip_version(source: str) -> str:
    return re.sub(r'version="[^"]*"', "", source)

