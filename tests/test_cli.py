"""The `workbook` command as a person meets it: help, list, run, friendly errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import ROOT, free_port, served
from workbook.cli import app

runner = CliRunner()
WORKBOOK = Path(sys.executable).parent / "workbook"


@pytest.mark.parametrize("command", ["list", "run", "grade", "check", "verify", "solution"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_help_lists_the_commands_and_documents_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("list", "run", "grade", "check", "verify", "solution"):
        assert command in result.output
    grade_help = " ".join(runner.invoke(app, ["grade", "--help"]).output.split())
    assert "3 the code does not load" in grade_help


def test_list_shows_every_part_and_its_challenges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for part in sorted((ROOT / "lessons").glob("part*")):
        assert part.name in result.output
        for challenge in (part / "challenges").glob("*/"):
            assert challenge.name in result.output


def test_an_unknown_part_is_a_friendly_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["run", "part42"])
    assert result.exit_code == 2
    assert "There is no part called 'part42'; the parts are: part1" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("part", ["part1", "part4"])
def test_run_serves_the_part(part: str, tmp_path: Path) -> None:
    port = free_port()
    # Keep the part's data files out of the repository during the test.
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
        "NOTIFICATIONS_LOG": str(tmp_path / "notifications.log"),
    }
    command = [str(WORKBOOK), "run", part, "--port", str(port)]
    with served(command, port, tmp_path, env, tmp_path / "server.log") as url:
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{url}/docs").status_code == 200
        home = httpx.get(f"{url}/")
        if part == "part1":  # parts 1-3 have no page of their own: / leads to the docs
            assert home.status_code == 307 and home.headers["location"] == "/docs"
        else:  # part 4's dashboard
            assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    assert f"Try the API in your browser: http://127.0.0.1:{port}/docs" in (tmp_path / "server.log").read_text()
    # The app ran from the part's folder (where `app` is), yet used the database it was given.
    assert (tmp_path / "tasks.db").exists() == (part == "part4")
