"""A scratch copy of a submission, and running code there without trusting it.

Whatever the submission does (loops forever, exits, prints megabytes, deletes
files, starts processes), the caller gets control back: every run has a
deadline, its output goes to files, and its whole process group is killed at
the end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Never copied from a submission: tool caches, virtual environments, VCS data.
SKIPPED_NAMES = {".git", ".workbook", ".hg", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules", ".mypy_cache", ".ruff_cache"}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_WRITE_BYTES = 256 * 1024 * 1024  # the largest file a run may write
OUTPUT_TAIL = 20_000

# Files that would change how pytest or Python starts; the grader brings its own.
CONTROL_FILES = ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py", "sitecustomize.py", "usercustomize.py")


class SubmissionError(Exception):
    """The submission folder cannot be graded at all (missing, not a folder...)."""


def copy_submission(source: Path, target: Path) -> list[str]:
    """Copy a submission into `target`, leaving out caches, links and huge files.

    Returns what was left out and why, for the scorecard."""
    if not source.exists():
        raise SubmissionError(f"{source} does not exist.")
    if not source.is_dir():
        raise SubmissionError(f"{source} is a file; give the folder that holds app/.")
    skipped: list[str] = []
    total = 0
    for folder, dirnames, filenames in os.walk(source):
        here = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_NAMES and not (here / d).is_symlink())
        relative = here.relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in sorted(filenames):
            path = here / name
            rel = (relative / name).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(f"{rel} (a link or special file)")
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
                skipped.append(f"{rel} (too large)")
                continue
            total += size
            shutil.copyfile(path, target / relative / name)
    return skipped


def remove(path: Path) -> None:
    """Delete a file or folder, even one the submission made read-only."""

    def make_writable_and_retry(function, failed_path, _excinfo) -> None:  # type: ignore[no-untyped-def]
        os.chmod(failed_path, stat.S_IRWXU)
        function(failed_path)

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=make_writable_and_retry)
    elif path.exists() or path.is_symlink():
        path.unlink()


def manifest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file in `folder`, by relative path: a record of what ran."""
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digests[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@dataclass
class RunResult:
    returncode: int | None  # None: the deadline passed and the run was killed
    output: str  # the last part of stdout and stderr together

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def limit_resources() -> None:  # runs in the child, before the submission's code
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_WRITE_BYTES, MAX_WRITE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    die_with_parent()


def die_with_parent() -> None:
    """On Linux, have the kernel kill the run if the grader itself is killed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the grader's own clean-up still kills the group


PR_SET_PDEATHSIG = 1


def clean_environment(home: Path) -> dict[str, str]:
    """Only what a test run needs: no settings of the grader's own leak in."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "CI", "CHROMIUM_PATH", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


def run(args: list[str], cwd: Path, deadline: float, home: Path) -> RunResult:
    """Run `python args...` in `cwd`, killed with all its children after `deadline` seconds."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-P", *args],  # -P: cwd is not put first on sys.path
            cwd=cwd,
            env=clean_environment(home),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=limit_resources,
        )
        try:
            returncode: int | None = process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            kill_group(process)
        output.seek(0, os.SEEK_END)
        output.seek(max(0, output.tell() - OUTPUT_TAIL))
        text = output.read().decode("utf-8", errors="replace")
    return RunResult(returncode, text)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and anything it started (servers, browsers, forks)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
