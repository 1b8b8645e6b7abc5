"""Solutions as patches: reading, applying (git apply --check rules) and writing unified diffs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ECHO_PATCH, ROOT, TINY_APP, write
from workbook import patches
from workbook.catalog import Part, parts
from workbook.cli import app

runner = CliRunner()

LESSON = "".join(f"line {n}\n" for n in range(1, 21))
CHANGE_LINE_10 = """\
--- a/notes.txt
+++ b/notes.txt
@@ -7,7 +7,7 @@
 line 7
 line 8
 line 9
-line 10
+line ten
 line 11
 line 12
 line 13
"""


def folder_with(tmp_path: Path, files: dict[str, str], name: str = "lesson") -> Path:
    folder = tmp_path / name
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    folder.mkdir(exist_ok=True)
    return folder


def contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_hunk_applies_where_it_says(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"notes.txt": LESSON})
    assert patches.apply(CHANGE_LINE_10, folder) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == LESSON.replace("line 10\n", "line ten\n")


def test_a_hunk_is_found_when_the_lesson_grew_above_it(tmp_path: Path) -> None:
    grown = "a new first line\nand a second\n" + LESSON
    folder = folder_with(tmp_path, {"notes.txt": grown})
    patches.apply(CHANGE_LINE_10, folder)
    assert (folder / "notes.txt").read_text() == grown.replace("line 10\n", "line ten\n")


def test_a_hunk_whose_context_changed_does_not_apply_and_nothing_is_written(tmp_path: Path) -> None:
    changed = LESSON.replace("line 12\n", "line twelve\n")
    folder = folder_with(tmp_path, {"notes.txt": changed, "other.txt": "old\n"})
    two_files = CHANGE_LINE_10 + "--- a/other.txt\n+++ b/other.txt\n@@ -1 +1 @@\n-old\n+new\n"
    with pytest.raises(patches.PatchError) as error:
        patches.apply(two_files, folder)
    assert str(error.value) == (
        "notes.txt: hunk 1 of 1 (@@ -7,7 +7,7 @@) does not apply: "
        "line 12 should be 'line 12', but the file has 'line twelve'."
    )
    # All or nothing: the file that would have applied is untouched too.
    assert contents(folder) == {"notes.txt": changed, "other.txt": "old\n"}


def test_a_changed_line_is_never_matched_with_fuzz(tmp_path: Path) -> None:
    """One differing whitespace character is enough to refuse, as git does."""
    folder = folder_with(tmp_path, {"notes.txt": LESSON.replace("line 9\n", "line 9 \n")})
    with pytest.raises(patches.PatchError, match="line 9 should be 'line 9', but the file has 'line 9 '"):
        patches.apply(CHANGE_LINE_10, folder, check=True)


def test_check_only_reports_and_writes_nothing(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"notes.txt": LESSON})
    assert patches.apply(CHANGE_LINE_10, folder, check=True) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == LESSON


def test_new_and_deleted_files(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"app/old.py": "x = 1\ny = 2\n"})
    patch = (
        "diff --git a/app/new.py b/app/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/app/new.py\n"
        "@@ -0,0 +1,2 @@\n+def hello():\n+    return 'hi'\n"
        "diff --git a/app/old.py b/app/old.py\ndeleted file mode 100644\n--- a/app/old.py\n+++ /dev/null\n"
        "@@ -1,2 +0,0 @@\n-x = 1\n-y = 2\n"
    )
    patches.apply(patch, folder)
    assert contents(folder) == {"app/new.py": "def hello():\n    return 'hi'\n"}
    with pytest.raises(patches.PatchError, match=r"app/new\.py: the patch creates this file, but it already exists"):
        patches.apply(patch, folder)


def test_a_patch_for_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(patches.PatchError, match=r"notes\.txt: the patch changes this file, but there is no such file"):
        patches.apply(CHANGE_LINE_10, folder_with(tmp_path, {}))


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/passwd"])
def test_a_patch_cannot_reach_outside_its_folder(tmp_path: Path, name: str) -> None:
    patch = f"--- /dev/null\n+++ {name}\n@@ -0,0 +1 @@\n+x\n"
    with pytest.raises(patches.PatchError, match="outside the folder"):
        patches.apply(patch, folder_with(tmp_path, {}))


def test_a_truncated_hunk_is_an_error_not_a_partial_change(tmp_path: Path) -> None:
    with pytest.raises(patches.PatchError, match="is cut short"):
        patches.apply(CHANGE_LINE_10.rsplit(" line 12", 1)[0], folder_with(tmp_path, {"notes.txt": LESSON}))


EDITS = {
    "changed.py": ("a\nb\nc\n" * 5, "a\nb\nC\n" * 5),
    "created.py": (None, "print('new')\n"),
    "deleted.py": ("gone = True\n", None),
    "no_newline.txt": ("one\ntwo", "one\ntwo\nthree"),
    "gains_newline.txt": ("last", "last\n"),
    "empty_new.txt": (None, ""),
    "app/deep/file.py": ("x = 1\n", "x = 2\n"),
}


def test_diff_then_apply_gives_the_edited_folder(tmp_path: Path) -> None:
    lesson = folder_with(tmp_path, {k: old for k, (old, _) in EDITS.items() if old is not None}, "lesson")
    edited = folder_with(tmp_path, {k: new for k, (_, new) in EDITS.items() if new is not None}, "edited")
    (edited / "__pycache__").mkdir()
    (edited / "__pycache__" / "x.pyc").write_bytes(b"\0\1")  # what running the app leaves: not part of the patch
    (edited / "tasks.db").write_bytes(b"\0")
    patch = patches.diff(lesson, edited)
    assert patches.touched_files(patch) == sorted(EDITS)
    copy = tmp_path / "copy"
    shutil.copytree(lesson, copy)
    patches.apply(patch, copy)
    assert contents(copy) == {k: new for k, (_, new) in EDITS.items() if new is not None}
    assert patches.diff(lesson, lesson) == ""


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (only used as a second opinion)")
def test_git_reads_the_patches_the_workbook_writes(tmp_path: Path) -> None:
    lesson = folder_with(tmp_path, {k: old for k, (old, _) in EDITS.items() if old is not None}, "lesson")
    edited = folder_with(tmp_path, {k: new for k, (_, new) in EDITS.items() if new is not None}, "edited")
    (tmp_path / "p.patch").write_text(patches.diff(lesson, edited))
    result = subprocess.run(["git", "apply", str(tmp_path / "p.patch")], cwd=lesson, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert contents(lesson) == contents(edited)


@pytest.mark.parametrize("part", parts(ROOT), ids=lambda part: part.name)
def test_every_solution_is_a_patch_that_applies_to_its_lesson(part: Part) -> None:
    """The quick half of what `workbook verify` checks (it also grades the result)."""
    for challenge in part.challenges():
        assert challenge.solution.is_file(), f"{challenge.slug} has no {challenge.solution.name}"
        touched = patches.apply(challenge.solution.read_text(), part.folder, check=True)
        assert touched, challenge.slug
    overlays = [p.name for p in (ROOT / "solutions" / part.name).iterdir() if p.is_dir()]
    assert overlays == [], "solutions are patches now, not overlay folders"


def test_solution_shows_the_patch(in_workbook: Path) -> None:
    result = runner.invoke(app, ["solution", "part1", "echo"])
    assert result.exit_code == 0
    assert result.output == ECHO_PATCH


def test_solution_applies_to_a_working_copy_and_says_when_it_cannot(in_workbook: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mine"
    shutil.copytree(in_workbook / "lessons/part1", copy)
    result = runner.invoke(app, ["solution", "part1", "echo", "--apply", str(copy)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert '@app.get("/echo/{word}")' in (copy / "app/main.py").read_text()
    again = runner.invoke(app, ["solution", "part1", "echo", "--apply", str(copy)], env={"COLUMNS": "200"})
    assert again.exit_code == 2
    assert "The solution does not apply to" in again.output and "hunk 1 of 1" in again.output
    assert "Traceback" not in again.output


def test_the_maintainers_round_trip_edit_then_save(in_workbook: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert runner.invoke(app, ["solution", "part1", "echo", "--edit", str(work)]).exit_code == 0
    main = work / "app/main.py"
    assert main.read_text().startswith(TINY_APP.lstrip())  # lesson + solution
    main.write_text(main.read_text().replace('{"word": word}', '{"word": word.upper()}'))
    (work / "app/extra.py").write_text("LOUD = True\n")
    saved = runner.invoke(app, ["solution", "part1", "echo", "--save", str(work)])
    assert saved.exit_code == 0, saved.output
    patch = (in_workbook / "solutions/part1/echo.patch").read_text()
    assert '+    return {"word": word.upper()}' in patch
    assert "+++ b/app/extra.py" in patch
    # Saving again without a change rewrites the same patch.
    assert runner.invoke(app, ["solution", "part1", "echo", "--save", str(work)]).exit_code == 0
    assert (in_workbook / "solutions/part1/echo.patch").read_text() == patch
    # The tests are the lesson's own: a solution may not change them.
    write(work / "tests/test_basic.py", "# emptied\n")
    refused = runner.invoke(app, ["solution", "part1", "echo", "--save", str(work)], env={"COLUMNS": "200"})
    assert refused.exit_code == 2
    assert "A solution may not change tests/test_basic.py" in refused.output


def test_edit_refuses_a_folder_that_is_not_empty(in_workbook: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["solution", "part1", "echo", "--edit", str(tmp_path / "busy")], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
