"""Each part's API does what its OpenAPI schema says: Schemathesis with all checks.

benchmarks/api_contract.py does the work: a real server per part, then
`schemathesis run --checks all`. Here it runs with a few examples per
operation and a fixed seed, so that the suite stays fast and repeatable; run
the script itself for a longer, random search."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "api_contract.py"


@pytest.mark.timeout(600)
def test_every_part_passes_schemathesis_with_all_checks(tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPT), "--max-examples", "3", "--seed", "1"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540, check=False)

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert result.stdout.count(": ok in ") == 4, result.stdout[-2000:]
