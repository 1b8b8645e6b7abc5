"""ruff and mypy find nothing, with the settings in pyproject.toml.

They check the workbook (src/, tests/, benchmarks/) and the lessons' apps.
Each lesson's `app` package is checked from its own folder, since all four
share the name `app`. mypy keeps its cache outside the repository, so a
second run takes seconds.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT

WORKBOOK = ["src", "tests", "benchmarks"]
LESSONS = ["part1", "part2", "part3", "part4"]
CONFIG = ROOT / "pyproject.toml"


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    lessons = [f"lessons/{part}/app" for part in LESSONS]
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", *WORKBOOK, *lessons], ROOT)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


@pytest.mark.timeout(900)
def test_mypy_finds_nothing() -> None:
    # One cache per checkout, shared by the runs below (one at a time), outside the repository.
    cache = Path(tempfile.gettempdir()) / f"workbook-mypy-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
    mypy = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--cache-dir", str(cache)]
    runs = [(ROOT, WORKBOOK)] + [(ROOT / "lessons" / part, ["app"]) for part in LESSONS]
    problems = []
    for folder, targets in runs:
        result = run([*mypy, *targets], folder)
        if result.returncode != 0:
            where = folder.relative_to(ROOT).as_posix() if folder != ROOT else "the workbook"
            problems.append(f"mypy in {where}:\n{result.stdout}{result.stderr}")
    assert not problems, "\n".join(problems)

