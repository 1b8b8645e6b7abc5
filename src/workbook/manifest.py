"""The pristine graded files of every part, and a SHA-256 manifest of them.

The graded files of a part are the ones the grader puts in place of a
student's: `conftest.py`, everything in `tests/`, and everything in each
`challenges/<slug>/` folder but its README (caches aside). The workbook ships
their digests in `src/workbook/pristine.json`; `workbook manifest` writes it
and `workbook manifest --check` fails when it is stale.

A student may change `lessons/partN` itself. When a graded file there no
longer matches the manifest, its pristine bytes are found again in the
repository's git history (any stored version whose SHA-256 is the one in the
manifest); if none is found, grading stops with a sentence saying how to get
the workbook's copy back, rather than grade against the changed tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbook.catalog import Part, parts

MANIFEST = Path("src") / "workbook" / "pristine.json"
NOT_GRADED = {"README.md"}
CACHES = {"__pycache__", ".pytest_cache"}
GIT_TIMEOUT = 20


class PristineError(Exception):
    """A graded file has changed and the workbook's own copy cannot be found."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def graded_files(part: Part) -> list[Path]:
    """Every graded file of the part as it is on disk, relative to the part's folder."""
    folder = part.folder
    found = [Path("conftest.py")] if (folder / "conftest.py").is_file() else []
    tops = [folder / "tests", *(challenge.folder for challenge in part.challenges())]
    for top in tops:
        for path in sorted(top.rglob("*")) if top.is_dir() else []:
            relative = path.relative_to(folder)
            if path.is_file() and path.name not in NOT_GRADED and not CACHES & set(relative.parts) and path.suffix != ".pyc":
                found.append(relative)
    return found


def build(root: Path) -> dict[str, dict[str, str]]:
    """part name -> {relative path: sha256} for every graded file of every part."""
    return {
        part.name: {path.as_posix(): sha256((part.folder / path).read_bytes()) for path in graded_files(part)}
        for part in parts(root)
    }


def manifest_file(root: Path) -> Path:
    return root / MANIFEST


def write(root: Path) -> Path:
    path = manifest_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build(root), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load(root: Path) -> dict[str, dict[str, str]]:
    """The committed manifest ({} when there is none)."""
    path = manifest_file(root)
    if not path.is_file():
        return {}
    digests: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return digests


def expected(part: Part) -> dict[str, str]:
    """The part's graded files by relative path, with their pristine SHA-256."""
    return load(part.root).get(part.name, {})


def stale(root: Path) -> list[str]:
    """What differs between the committed manifest and the lessons, one line each."""
    committed, current = load(root), build(root)
    lines = []
    for name in sorted(set(committed) | set(current)):
        before, after = committed.get(name, {}), current.get(name, {})
        for path in sorted(set(before) | set(after)):
            if path not in after:
                lines.append(f"lessons/{name}/{path}: in the manifest, but no longer in the lesson")
            elif path not in before:
                lines.append(f"lessons/{name}/{path}: new, not in the manifest yet")
            elif before[path] != after[path]:
                lines.append(f"lessons/{name}/{path}: changed since the manifest was written")
    return lines


def compare(part: Part, folder: Path) -> list[str]:
    """One line per graded file that is missing or changed in `folder` (a student's copy),
    or a test file there that the workbook does not grade."""
    warnings = []
    digests = expected(part)
    for relative, digest in sorted(digests.items()):
        path = folder / relative
        if not path.is_file():
            warnings.append(f"{relative} is missing; graded with the workbook's copy")
        elif sha256(path.read_bytes()) != digest:
            warnings.append(f"{relative} was changed; graded with the workbook's copy")
    challenge_folders = {"/".join(Path(relative).parts[:2]) for relative in digests if relative.startswith("challenges/")}
    for top in ["tests", *sorted(challenge_folders)]:
        for path in sorted((folder / top).rglob("test_*.py")):
            relative = path.relative_to(folder).as_posix()
            if relative not in digests:
                warnings.append(f"{relative} is not one of the workbook's tests, so it is not graded")
    return warnings


def git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """Run git in the workbook's folder; None when there is no git to run."""
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_versions(root: Path, path: str) -> Iterator[bytes]:
    """Every version of `path` (relative to the repository) that git has: staged, then newest first."""
    commits = git(root, "log", "--all", "--format=%H", "--", path)
    if commits is None or commits.returncode != 0:
        return
    for spec in [f":{path}", *(f"{commit}:{path}" for commit in commits.stdout.decode().split())]:
        shown = git(root, "cat-file", "blob", spec)
        if shown is not None and shown.returncode == 0:
            yield shown.stdout


def pristine_bytes(part: Part, relative: str) -> bytes:
    """The workbook's own bytes of one graded file, from the lesson or from git."""
    digest = expected(part).get(relative)
    path = part.folder / relative
    if digest is None:
        raise PristineError(f"{relative} is not a graded file of {part.name}.")
    if path.is_file() and sha256(data := path.read_bytes()) == digest:
        return data
    for version in git_versions(part.root, f"lessons/{part.name}/{relative}"):
        if sha256(version) == digest:
            return version
    raise PristineError(
        f"lessons/{part.name}/{relative} has been changed, and the workbook's own copy could not be found "
        f"to grade with. Put it back (`git restore lessons/{part.name}`, or a fresh download of the workbook) "
        f"and work in a copy of your own: `uv run workbook init {part.name}`."
    )


@contextmanager
def pristine(part: Part) -> Iterator[Part]:
    """The part, with graded files the workbook vouches for.

    When lessons/partN matches the manifest (or the workbook has no manifest
    for it), that is the part itself. Otherwise it is a temporary copy whose
    graded files come from git, READMEs from the lesson."""
    digests = expected(part)
    unchanged = all(
        (part.folder / relative).is_file() and sha256((part.folder / relative).read_bytes()) == digest
        for relative, digest in digests.items()
    )
    if unchanged:
        yield part
        return
    scratch = Path(tempfile.mkdtemp(prefix="workbook-pristine-"))
    try:
        copy = Part(scratch, part.number)
        for relative in digests:
            target = copy.folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pristine_bytes(part, relative))
        # The READMEs give the part and its challenges their titles.
        for readme in [part.folder / "README.md", *part.folder.glob("challenges/*/README.md")]:
            target = copy.folder / readme.relative_to(part.folder)
            if readme.is_file() and target.parent.is_dir():
                shutil.copyfile(readme, target)
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
