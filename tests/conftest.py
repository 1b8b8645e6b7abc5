"""Fixtures for the workbook's own tests: the real workbook, and small fake ones."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from workbook import manifest
from workbook.catalog import Part, find_root, get_part
from workbook.grader import SLOW_PLUGINS, without_plugins

ROOT = find_root(Path(__file__).parent)

# No bytecode in the repository from these tests or what they start: parallel
# workers import the lessons while another checks that the book's build left
# nothing behind.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"

# Hypothesis's and Schemathesis's pytest plugins take seconds of CPU to load in
# every pytest these tests start (xdist's workers, pytester's runs), and no test
# here uses them (the contract test runs Schemathesis's own command).
QUICK_PYTEST = " ".join(without_plugins(SLOW_PLUGINS))
if QUICK_PYTEST not in os.environ.get("PYTEST_ADDOPTS", ""):
    os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} {QUICK_PYTEST}".strip()


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, whose runs also leave the slow plugins out: pytester clears
    PYTEST_ADDOPTS for its runs (so that the outer run's options do not leak
    in), so it is set again here to that one setting."""
    monkeypatch.setenv("PYTEST_ADDOPTS", QUICK_PYTEST)
    return pytester


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than there are cores. Many tests spend a while
    waiting (a server starting, a browser, a run stopped at its time limit),
    and a third worker keeps two cores busy meanwhile."""
    return (os.cpu_count() or 1) + 1


TINY_APP = '''
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
'''

TINY_CONFTEST = '''
import pytest
from fastapi.testclient import TestClient

from app.main import app


@pytest.fixture
def client():
    return TestClient(app)
'''

TINY_TESTS = '''
import pytest


@pytest.mark.points(2)
def test_health(client):
    """The health check answers ok."""
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.points(3, hint="Look at the path.")
def test_missing_route_is_404(client):
    """An unknown path answers 404."""
    assert client.get("/nowhere").status_code == 404
'''

ECHO_TEST = '''
import pytest


@pytest.mark.points(4)
def test_echo(client):
    """GET /echo/{word} answers the word back."""
    assert client.get("/echo/hi").json() == {"word": "hi"}
'''

ECHO_SOLUTION = TINY_APP + '''

@app.get("/echo/{word}")
def echo(word: str) -> dict[str, str]:
    return {"word": word}
'''

# app/main.py as the echo solution leaves it.
ECHO_MAIN = ECHO_SOLUTION.lstrip()

# The echo challenge's reference solution, as a patch against the tiny lesson.
ECHO_PATCH = '''\
diff --git a/app/main.py b/app/main.py
--- a/app/main.py
+++ b/app/main.py
@@ -6,3 +6,8 @@
 @app.get("/health")
 def health() -> dict[str, str]:
     return {"status": "ok"}
+
+
+@app.get("/echo/{word}")
+def echo(word: str) -> dict[str, str]:
+    return {"word": word}
'''

BRIEF = "# Echo\n\n## Goal\n\nx\n\n## What done looks like\n\nx\n\n## Hints\n\nx\n\n## Going further\n\nx\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def make_tiny_workbook(root: Path) -> Path:
    """A minimal workbook with one part: two lesson tests and one challenge with its solution."""
    write(root / "pyproject.toml", "[project]\nname = 'tiny'\n")
    lesson = root / "lessons" / "part1"
    write(lesson / "README.md", "# Tiny part\n")
    write(lesson / "app" / "__init__.py", "")
    write(lesson / "app" / "main.py", TINY_APP)
    write(lesson / "conftest.py", TINY_CONFTEST)
    write(lesson / "tests" / "test_basic.py", TINY_TESTS)
    write(lesson / "challenges" / "echo" / "README.md", BRIEF)
    write(lesson / "challenges" / "echo" / "test_echo.py", ECHO_TEST)
    (root / "solutions" / "part1").mkdir(parents=True)
    (root / "solutions" / "part1" / "echo.patch").write_text(ECHO_PATCH, encoding="utf-8")
    manifest.write(root)
    return root


@pytest.fixture
def tiny_workbook(tmp_path: Path) -> Path:
    return make_tiny_workbook(tmp_path / "workbook")


@pytest.fixture
def in_workbook(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny workbook, as the current folder (where the `workbook` command looks for it)."""
    monkeypatch.chdir(tiny_workbook)
    return tiny_workbook


@pytest.fixture
def tiny_part(tiny_workbook: Path) -> Part:
    return get_part(tiny_workbook, "part1")


@pytest.fixture
def submission(tiny_part: Part, tmp_path: Path) -> Path:
    """A student's copy of the tiny lesson, to break in the test."""
    import shutil

    copy = tmp_path / "submission"
    shutil.copytree(tiny_part.folder, copy)
    return copy


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(command: list[str], port: int, cwd: Path, env: dict[str, str], log_file: Path, seconds: float = 30) -> Iterator[str]:
    """Run `command`, a server that listens on `port`, and give its URL once GET /health answers.

    What it prints goes to `log_file`; it is stopped afterwards, pass or fail."""
    url = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + seconds
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=1)
                    break
                except httpx.TransportError:
                    printed = log_file.read_text(errors="replace")[-3000:]
                    if process.poll() is not None:
                        pytest.fail(f"the server stopped while starting; it printed:\n{printed}")
                    if time.monotonic() > deadline:
                        pytest.fail(f"the server did not answer within {seconds:g} s; it printed:\n{printed}")
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
