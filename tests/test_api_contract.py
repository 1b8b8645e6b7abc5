"""Each part's API does what its OpenAPI schema says: Schemathesis with all checks.

benchmarks/api_contract.py does the work: a real server per part, then
`schemathesis run --checks all`. Here it runs with a few examples per
operation and a fixed seed, so that the suite stays fast and repeatable, and
in the fuzzing and stateful phases only. The coverage phase (every boundary
value of every parameter, thousands of requests whatever the number of
examples) is two thirds of the script's time; CI runs the script whole after
the tests (.ci/run). Run it yourself for a longer, random search."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "api_contract.py"


@pytest.mark.timeout(600)
def test_every_part_passes_schemathesis_with_all_checks(tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPT), "--max-examples", "3", "--seed", "1", "--phases", "fuzzing,stateful"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540, check=False)

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert result.stdout.count(": ok in ") == 4, result.stdout[-2000:]


# Strings that Pydantic trims to nothing, so that a title of them is a 422.
BLANK = [" ", "\t\n", "\u000b", "\u0085", "\u3000"]


def openapi_schema(part: str, tmp_path: Path) -> dict[str, Any]:
    """The part's OpenAPI schema, from its app in a Python of its own (each part's package is `app`)."""
    code = "import json, sys; from app.main import app; sys.stdout.write(json.dumps(app.openapi()))"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}", "SECRET_KEY": "x" * 32}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "lessons" / part, env=env,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


@pytest.mark.parametrize("part", ["part1", "part2", "part3", "part4"])
def test_the_schema_calls_a_blank_title_invalid_as_the_app_does(part: str, tmp_path: Path) -> None:
    """The app trims a title before it checks its length, which a schema cannot
    say: without a pattern, the schema calls a title of one space valid, and a
    client that trusts it gets a 422 (Schemathesis's stateful phase found this)."""
    models = openapi_schema(part, tmp_path)["components"]["schemas"]
    titles = [models[name]["properties"]["title"] for name in ("TaskCreate", "TaskUpdate")]
    for title in titles:
        pattern = title.get("pattern")
        assert pattern is not None, f"{part}: the title's schema has no pattern: {title}"
        assert [text for text in BLANK if re.search(pattern, text)] == []
        assert all(re.search(pattern, text) for text in ("a", " a ", "Buy milk"))
