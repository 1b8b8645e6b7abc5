"""The manifest of pristine graded files: kept current, and used to find changed tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from workbook import manifest
from workbook.catalog import Part
from workbook.cli import app

runner = CliRunner()


def test_the_committed_manifest_matches_every_graded_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI fails here when a test changed and `workbook manifest` was not run."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["manifest", "--check"])
    assert result.exit_code == 0, result.output


def test_graded_files_are_conftest_tests_and_challenge_tests() -> None:
    from workbook.catalog import get_part

    files = {path.as_posix() for path in manifest.graded_files(get_part(ROOT, "part1"))}
    assert "conftest.py" in files and "tests/test_update.py" in files
    assert "challenges/search/test_search.py" in files
    assert not any(name.endswith("README.md") or name.startswith("app/") or "__pycache__" in name for name in files)


def test_manifest_check_names_a_stale_file(tiny_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    assert runner.invoke(app, ["manifest", "--check"]).exit_code == 0
    test_file = tiny_workbook / "lessons/part1/tests/test_basic.py"
    test_file.write_text(test_file.read_text() + "\n# changed\n")
    (tiny_workbook / "lessons/part1/tests/test_new.py").write_text("")
    result = runner.invoke(app, ["manifest", "--check"])
    assert result.exit_code == 1
    assert "lessons/part1/tests/test_basic.py: changed since the manifest was written" in result.output
    assert "lessons/part1/tests/test_new.py: new, not in the manifest yet" in result.output
    assert runner.invoke(app, ["manifest"]).exit_code == 0
    assert runner.invoke(app, ["manifest", "--check"]).exit_code == 0


def test_compare_names_missing_changed_and_extra_test_files(tiny_part: Part, submission: Path) -> None:
    assert manifest.compare(tiny_part, submission) == []
    (submission / "tests/test_basic.py").unlink()
    (submission / "conftest.py").write_text("# mine\n")
    (submission / "challenges/echo/test_mine.py").write_text("")
    assert manifest.compare(tiny_part, submission) == [
        "conftest.py was changed; graded with the workbook's copy",
        "tests/test_basic.py is missing; graded with the workbook's copy",
        "challenges/echo/test_mine.py is not one of the workbook's tests, so it is not graded",
    ]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_changed_lesson_tests_are_recovered_from_git(tiny_workbook: Path, tiny_part: Part) -> None:
    git(tiny_workbook, "init", "-q")
    git(tiny_workbook, "add", ".")
    git(tiny_workbook, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "workbook")
    test_file = tiny_part.folder / "tests/test_basic.py"
    original = test_file.read_bytes()
    test_file.write_text("")  # a student empties the tests, and even commits that
    git(tiny_workbook, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "mine")
    with manifest.pristine(tiny_part) as pristine:
        assert pristine.folder != tiny_part.folder
        assert (pristine.folder / "tests/test_basic.py").read_bytes() == original
        assert [c.slug for c in pristine.challenges()] == ["echo"]
        assert pristine.title == tiny_part.title
    assert test_file.read_text() == ""


def test_a_changed_lesson_without_history_is_refused_with_a_sentence(tiny_part: Part) -> None:
    (tiny_part.folder / "tests/test_basic.py").write_text("")
    with pytest.raises(manifest.PristineError, match=r"git restore lessons/part1.*workbook init part1"), manifest.pristine(tiny_part):
        pass


def test_an_unchanged_lesson_is_used_as_it_is(tiny_part: Part) -> None:
    with manifest.pristine(tiny_part) as pristine:
        assert pristine == tiny_part
