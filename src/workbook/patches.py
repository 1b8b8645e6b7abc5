"""Unified diffs in pure Python: read them, apply them, write them.

A reference solution is a patch against its lesson (`solutions/partN/<slug>.patch`).
Applying follows `git apply --check`: every context and removed line of every
hunk must match the file exactly; a hunk may be found a few lines away from
where it says (the lesson grew or shrank above it), but never with fuzz. All
files are checked before any is written, so a patch that does not apply leaves
the folder untouched and says which file and which hunk stopped it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

DEV_NULL = "/dev/null"
CONTEXT = 3
NO_NEWLINE = "\\ No newline at end of file"

# Left out when comparing two folders: what running the app or its tests makes.
IGNORED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", ".git", "htmlcov", ".workbook"}
IGNORED_SUFFIXES = (".pyc", ".pyo", ".db", ".sqlite", ".sqlite3", ".log")
IGNORED_PREFIXES = (".coverage",)

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(Exception):
    """A patch that cannot be read or does not apply; the message says where and why."""


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" ", "-" or "+", text without newline)
    old_ends_without_newline: bool = False
    new_ends_without_newline: bool = False

    @property
    def header(self) -> str:
        return f"@@ -{span(self.old_start, self.old_count)} +{span(self.new_start, self.new_count)} @@"

    @property
    def old_lines(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "-"]


@dataclass
class FilePatch:
    old_path: str | None  # None: the patch creates the file
    new_path: str | None  # None: the patch deletes the file
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or "?"


def split_lines(content: str) -> list[str]:
    """Lines without their "\\n" (a "\\r" stays part of its line, so CRLF must match exactly)."""
    lines = content.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def span(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


# Reading


def strip_prefix(name: str, prefix: str) -> str | None:
    name = name.split("\t", 1)[0].strip()
    if name == DEV_NULL:
        return None
    if name.startswith(prefix):
        name = name[len(prefix) :]
    if not name or name.startswith("/") or ".." in Path(name).parts:
        raise PatchError(f"The patch names a file outside the folder it applies to: {name!r}.")
    return name


def parse(text: str) -> list[FilePatch]:
    """The files of a unified diff; git's headers are understood (an empty new file has only those)."""
    lines = split_lines(text)
    files: list[FilePatch] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("diff --git "):
            patch, index = parse_git_header(lines, index)
            if patch is not None:
                files.append(patch)
                continue
        if not line.startswith("--- ") or index + 1 >= len(lines) or not lines[index + 1].startswith("+++ "):
            index += 1  # free text before the diff, or a header line of another tool
            continue
        patch = FilePatch(strip_prefix(line[4:], "a/"), strip_prefix(lines[index + 1][4:], "b/"))
        if patch.old_path is None and patch.new_path is None:
            raise PatchError(f"Line {index + 1} of the patch compares /dev/null with itself.")
        index += 2
        while index < len(lines) and lines[index].startswith("@@"):
            hunk, index = parse_hunk(lines, index, patch.path)
            patch.hunks.append(hunk)
        if not patch.hunks:
            raise PatchError(f"The patch of {patch.path} has no hunks (no @@ line after its ---/+++ lines).")
        files.append(patch)
    if not files and text.strip():
        raise PatchError("This is not a unified diff: no ---/+++ file headers found.")
    return files


def parse_git_header(lines: list[str], index: int) -> tuple[FilePatch | None, int]:
    """A `diff --git` block with no ---/+++ lines (an empty file made or removed), else None."""
    match = re.match(r"^diff --git a/(\S+) b/(\S+)$", lines[index])
    following = index + 1
    created = deleted = False
    while following < len(lines) and not lines[following].startswith(("diff --git ", "--- ", "@@")):
        created = created or lines[following].startswith("new file mode")
        deleted = deleted or lines[following].startswith("deleted file mode")
        following += 1
    at_next_file = following >= len(lines) or lines[following].startswith("diff --git ")
    if match is None or not at_next_file or not (created or deleted):
        return None, index
    name = strip_prefix(match.group(2), "")
    return FilePatch(None if created else name, None if deleted else name), following


def parse_hunk(lines: list[str], index: int, path: str) -> tuple[Hunk, int]:
    match = HUNK_HEADER.match(lines[index])
    if match is None:
        raise PatchError(f"{path}: line {index + 1} of the patch is not a hunk header: {lines[index]!r}.")
    old_start, old_count, new_start, new_count = (
        int(value) if value is not None else 1 for value in match.groups()
    )
    hunk = Hunk(old_start, old_count, new_start, new_count)
    index += 1
    old_seen = new_seen = 0
    while (old_seen < old_count or new_seen < new_count) and index < len(lines):
        line = lines[index]
        tag, text = (line[:1] or " "), line[1:]  # an empty line: context some editor stripped
        if tag not in " -+":
            break
        hunk.lines.append((tag, text))
        old_seen += tag != "+"
        new_seen += tag != "-"
        index += 1
        index = note_missing_newline(lines, index, hunk, tag)
    if (old_seen, new_seen) != (old_count, new_count):
        raise PatchError(
            f"{path}: hunk {hunk.header} is cut short (it promises {old_count} old and {new_count} new lines, "
            f"the patch has {old_seen} and {new_seen}). Was the patch edited by hand?"
        )
    return hunk, index


def note_missing_newline(lines: list[str], index: int, hunk: Hunk, tag: str) -> int:
    if index < len(lines) and lines[index].startswith("\\"):
        if tag in " -":
            hunk.old_ends_without_newline = True
        if tag in " +":
            hunk.new_ends_without_newline = True
        return index + 1
    return index


# Applying


@dataclass
class Text:
    """A file as lines without their endings, and whether its last line ends with one."""

    lines: list[str]
    final_newline: bool = True

    @classmethod
    def of(cls, content: str) -> Text:
        return cls(split_lines(content), content == "" or content.endswith("\n"))

    def render(self) -> str:
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.final_newline else "")


def positions(expected: int, highest: int) -> Iterator[int]:
    """Where to look for a hunk, as git does: where it says, then one line after, one before..."""
    expected = min(max(expected, 0), highest)
    yield expected
    for distance in range(1, highest + 1):
        for candidate in (expected + distance, expected - distance):
            if 0 <= candidate <= highest:
                yield candidate


def find_hunk(lines: list[str], hunk: Hunk, expected: int) -> int | None:
    """Where the hunk's old lines are in the file, or None.

    Like git, a hunk at the very start of the file must match there, and one
    without trailing context must match at the very end."""
    old = hunk.old_lines
    highest = len(lines) - len(old)
    trailing = next((i for i, (tag, _) in enumerate(reversed(hunk.lines)) if tag != " "), len(hunk.lines))
    must_start = hunk.old_start <= 1
    must_end = trailing == 0
    for at in positions(expected, highest):
        if (must_start and at != 0) or (must_end and at != highest):
            continue
        if lines[at : at + len(old)] == old:
            return at
    return None


def mismatch(lines: list[str], hunk: Hunk, expected: int) -> str:
    """The first line where the file differs from what the hunk expects, at the hunk's own place."""
    old = hunk.old_lines
    for offset, wanted in enumerate(old):
        number = expected + offset
        found = lines[number] if number < len(lines) else None
        if found != wanted:
            got = "the file ends there" if found is None else f"the file has {found!r}"
            return f"line {number + 1} should be {wanted!r}, but {got}"
    return "its lines are in the file, but not where a hunk at the start or end of the file must be"


def apply_to_text(content: str | None, patch: FilePatch) -> str | None:
    """The file after the patch (None: deleted); PatchError naming the hunk when it does not apply."""
    if patch.old_path is None:
        if content is not None:
            raise PatchError(f"{patch.path}: the patch creates this file, but it already exists.")
        content = ""
    elif content is None:
        raise PatchError(f"{patch.path}: the patch changes this file, but there is no such file.")
    text = Text.of(content)
    lines = list(text.lines)
    for number, hunk in enumerate(patch.hunks, start=1):
        expected = max(hunk.new_start - 1, 0)  # where it goes once the hunks before it are in
        at = find_hunk(lines, hunk, expected)
        if at is None:
            raise PatchError(
                f"{patch.path}: hunk {number} of {len(patch.hunks)} ({hunk.header}) does not apply: "
                f"{mismatch(lines, hunk, min(expected, max(len(lines) - 1, 0)))}."
            )
        old, new = hunk.old_lines, hunk.new_lines
        reaches_end = at + len(old) == len(lines)
        if old and reaches_end and hunk.old_ends_without_newline == text.final_newline:
            ending = "without" if hunk.old_ends_without_newline else "with"
            raise PatchError(
                f"{patch.path}: hunk {number} of {len(patch.hunks)} ({hunk.header}) does not apply: "
                f"it expects the file to end {ending} a newline, and it does not."
            )
        lines[at : at + len(old)] = new
        if reaches_end:  # the hunk reaches the end: it says how the file ends
            text.final_newline = not hunk.new_ends_without_newline
    if patch.new_path is None:
        if lines:
            raise PatchError(f"{patch.path}: the patch deletes this file, but the file has more in it than the patch.")
        return None
    return Text(lines, text.final_newline).render()


def read_file(folder: Path, relative: str) -> str | None:
    path = folder / relative
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def patched(patch_text: str, folder: Path) -> dict[str, str | None]:
    """What the patch would make of each file it touches (None: deleted), without writing."""
    results: dict[str, str | None] = {}
    for patch in parse(patch_text):
        source = patch.old_path or patch.new_path
        assert source is not None
        current = results[source] if source in results else read_file(folder, source)
        if patch.old_path and patch.new_path and patch.old_path != patch.new_path:
            results[patch.old_path] = None
        results[patch.path] = apply_to_text(current, patch)
    return results


def apply(patch_text: str, folder: Path, check: bool = False) -> list[str]:
    """Apply a patch to `folder` (all or nothing); return the files it touches.

    With `check=True` only find out whether it applies (like `git apply --check`)."""
    results = patched(patch_text, folder)
    if not check:
        for relative, content in results.items():
            path = folder / relative
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8", newline="")
    return sorted(results)


# Writing


def ignored(relative: Path) -> bool:
    return (
        any(part in IGNORED_DIRS for part in relative.parts[:-1])
        or relative.name.endswith(IGNORED_SUFFIXES)
        or relative.name.startswith(IGNORED_PREFIXES)
    )


def text_files(folder: Path) -> dict[str, Path]:
    found = {}
    for current, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in filenames:
            path = Path(current) / name
            relative = path.relative_to(folder)
            if not ignored(relative) and path.is_file() and not path.is_symlink():
                found[relative.as_posix()] = path
    return found


def read_text(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise PatchError(f"{path} is not a UTF-8 text file; a patch can only carry text.") from None


def diff(lesson_folder: Path, edited_folder: Path) -> str:
    """The patch that turns `lesson_folder` into `edited_folder` (empty when they are the same)."""
    before, after = text_files(lesson_folder), text_files(edited_folder)
    chunks = []
    for relative in sorted(set(before) | set(after)):
        old = read_text(before[relative]) if relative in before else None
        new = read_text(after[relative]) if relative in after else None
        if old != new:
            chunks.append(diff_file(relative, old, new))
    return "".join(chunks)


def diff_file(relative: str, old: str | None, new: str | None) -> str:
    """One file's part of a patch, git style, so `git apply` reads it too."""
    header = [f"diff --git a/{relative} b/{relative}\n"]
    if old is None:
        header.append("new file mode 100644\n")
    if new is None:
        header.append("deleted file mode 100644\n")
    if not old and not new:
        return "".join(header)  # an empty file made or removed: git writes no ---/+++ lines
    header.append(f"--- {'a/' + relative if old is not None else DEV_NULL}\n")
    header.append(f"+++ {'b/' + relative if new is not None else DEV_NULL}\n")
    return "".join(header) + "".join(hunk_text(hunk) for hunk in hunks(Text.of(old or ""), Text.of(new or "")))


def hunks(old: Text, new: Text) -> list[Hunk]:
    # A last line without its newline differs from the same line with one.
    a = old.lines if old.final_newline or not old.lines else [*old.lines[:-1], old.lines[-1] + "\0"]
    b = new.lines if new.final_newline or not new.lines else [*new.lines[:-1], new.lines[-1] + "\0"]
    result = []
    for group in SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT):
        first, last = group[0], group[-1]
        old_start, old_end, new_start, new_end = first[1], last[2], first[3], last[4]
        hunk = Hunk(
            old_start + 1 if old_end > old_start else old_start,
            old_end - old_start,
            new_start + 1 if new_end > new_start else new_start,
            new_end - new_start,
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk.lines += [(" ", line) for line in a[i1:i2]]
                continue
            hunk.lines += [("-", line) for line in a[i1:i2]]
            hunk.lines += [("+", line) for line in b[j1:j2]]
        result.append(hunk)
    return result


def hunk_text(hunk: Hunk) -> str:
    out = [hunk.header + "\n"]
    for tag, line in hunk.lines:
        if line.endswith("\0"):
            out.append(f"{tag}{line[:-1]}\n{NO_NEWLINE}\n")
        else:
            out.append(f"{tag}{line}\n")
    return "".join(out)


def touched_files(patch_text: str) -> list[str]:
    """The files a patch changes, creates or deletes."""
    return sorted({patch.path for patch in parse(patch_text)})


def added_lines(patch_text: str) -> list[str]:
    """Every line the patch adds, in order (for checks of what a solution teaches)."""
    return [text for patch in parse(patch_text) for hunk in patch.hunks for tag, text in hunk.lines if tag == "+"]
