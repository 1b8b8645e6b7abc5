"""A scratch copy of a submission, and running code there without trusting it.

Whatever the submission does (loops forever, exits, prints megabytes, deletes
files, starts processes that start their own session, fills the disk, asks
for all the memory), the caller gets control back by its deadline: every run
is started by `launcher.py` in a sandbox, its output is read through pipes with
the deadline on every read, and the whole run is killed at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from workbook import launcher

# Never copied from a submission: tool caches, virtual environments, VCS data.
SKIPPED_NAMES = {".git", ".workbook", ".hg", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules", ".mypy_cache", ".ruff_cache"}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_FILES = 5000
OUTPUT_TAIL = 20_000
MAX_LINE = 64 * 1024  # the longest line the results channel accepts
MAX_CHANNEL_BYTES = 64 * 1024 * 1024

# Limits of one run. Memory is bounded with RLIMIT_DATA (what a process
# actually allocates), not RLIMIT_AS: Chromium, which Part 4's browser test
# starts, reserves far more address space than it uses and dies under RLIMIT_AS.
LIMITS = {
    "data": 2 * 1024**3,  # per process
    "fsize": 256 * 1024**2,  # per file
    "nofile": 4096,
    "core": 0,
    "nproc": 1024,  # per run, when the run has a user id of its own (counts threads)
}
DISK_BYTES = 384 * 1024**2  # everything a run may write: its scratch copy, HOME and /tmp together
RUN_UID_BASE = 0x40000000  # user ids of runs (as root): above any real account, unique per run

# Files that would change how pytest or Python starts; the grader brings its own.
CONTROL_FILES = ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py", "__init__.py",
                 "sitecustomize.py", "usercustomize.py")  # fmt: skip
# What the grader puts into the scratch folder: read-only to the run.
PRISTINE = ("tests", "challenges", "conftest.py", "pytest.ini")


class SubmissionError(Exception):
    """The submission cannot be graded at all (missing, not a folder, a bad zip...)."""


def shadows_a_library(name: str) -> bool:
    """Would a top-level `name.py` or `name/` package hide an installed module from the tests?"""
    module = name.removesuffix(".py")
    if module == "app" or name in CONTROL_FILES or not module.isidentifier():
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def copy_submission(source: Path, target: Path) -> list[str]:
    """Copy a submission into `target`, leaving out caches, links, huge files and impostors.

    Returns what was left out and why, for the scorecard."""
    if not source.exists():
        raise SubmissionError(f"{source} does not exist.")
    if not source.is_dir():
        raise SubmissionError(f"{source} is neither a folder nor a .zip file: give the folder that holds app/, or a zip of it.")
    skipped: list[str] = []
    total = count = 0
    for folder, dirnames, filenames in os.walk(source):
        here = Path(folder)
        relative = here.relative_to(source)
        kept = []
        for name in sorted(dirnames):
            if name in SKIPPED_NAMES:
                continue
            if (here / name).is_symlink():
                skipped.append(f"{(relative / name).as_posix()} (a link)")
            elif relative == Path(".") and (here / name / "__init__.py").exists() and shadows_a_library(name):
                skipped.append(f"{name}/ (it would hide the installed {name} package from the tests)")
            else:
                kept.append(name)
        dirnames[:] = kept
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in sorted(filenames):
            path = here / name
            rel = (relative / name).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(f"{rel} (a link or special file)")
                continue
            if relative == Path(".") and name.endswith(".py") and shadows_a_library(name):
                skipped.append(f"{rel} (it would hide the installed {name[:-3]} module from the tests)")
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES or count >= MAX_FILES:
                skipped.append(f"{rel} (too large)")
                continue
            total, count = total + size, count + 1
            shutil.copyfile(path, target / relative / name)
    return skipped


def extract_zip(archive: Path, target: Path) -> Path:
    """Unpack a submitted zip safely; return the folder to grade (a single top folder is unwrapped).

    Refuses absolute paths, `..`, links, and archives that unpack to too much."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.filename.startswith("__MACOSX/")]
            if len(members) > MAX_FILES:
                raise SubmissionError(f"{archive.name} holds {len(members)} files; at most {MAX_FILES} are accepted.")
            total = 0
            for member in members:
                path = PurePosixPath(member.filename.replace("\\", "/"))
                if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                    raise SubmissionError(f"{archive.name} was refused: it holds an unsafe path ({member.filename}).")
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise SubmissionError(f"{archive.name} was refused: it holds a link ({member.filename}).")
                total += member.file_size
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB.")
            written = 0
            for member in members:
                destination = target.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source, destination.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_TOTAL_BYTES:  # the sizes in the archive lied
                            raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB.")
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        raise SubmissionError(f"{archive.name} is not a zip file that can be read ({error}).") from None
    except OSError as error:
        raise SubmissionError(f"{archive.name} could not be unpacked ({error.strerror or error}).") from None
    return target


def unwrap(folder: Path) -> Path:
    """A submission that is one folder around the real one (a zipped folder, say) is the folder inside."""
    if not folder.is_dir() or (folder / "app").exists():
        return folder
    entries = [p for p in folder.iterdir() if p.name not in SKIPPED_NAMES and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return folder


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
    returncode: int | None  # None: the run was stopped (deadline, or the caller's limit)
    output: str  # the last part of stdout and stderr together
    lines: list[bytes] = field(default_factory=list)  # what arrived on the results channel
    isolation: str = "none"  # root, user, uid-only or none: how the run was sandboxed
    notes: list[str] = field(default_factory=list)  # about the sandbox, for the scorecard
    stopped: str | None = None  # "deadline" or "limit" when the grader stopped the run
    garbage: int = 0  # channel bytes that were not lines the grader could take
    cwd: str = ""  # where the run ran, as the run saw it

    def relative_output(self) -> str:
        """The output with the run's folder taken out of paths, so a student reads app/main.py."""
        return self.output.replace(f"{self.cwd}/", "") if self.cwd else self.output

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


_uids = itertools.count()
_uid_lock = threading.Lock()


def run_uid() -> int:
    """A user id no other run on this machine has right now: the grader's pid and a counter."""
    with _uid_lock:
        serial = next(_uids) % 256
    return RUN_UID_BASE + ((os.getpid() % (1 << 22)) << 8) + serial


def clean_environment(home: Path) -> dict[str, str]:
    """Only what a test run needs: no settings of the grader's own leak in."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "CI", "CHROMIUM_PATH", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        USER="workbook-run",
        LOGNAME="workbook-run",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


def needed_paths() -> list[str]:
    """What a run must be able to read: the interpreter, its packages, the workbook, a browser."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(sys.executable), os.path.dirname(launcher.__file__)}
    paths |= {entry for entry in sys.path if entry and os.path.isdir(entry)}
    if os.environ.get("CHROMIUM_PATH"):
        paths.add(os.path.dirname(os.environ["CHROMIUM_PATH"]))
    return sorted(os.path.realpath(path) for path in paths)


def isolation_wanted() -> str:
    """`auto` unless WORKBOOK_ISOLATION=none turns the sandbox off (for debugging a run)."""
    return "none" if os.environ.get("WORKBOOK_ISOLATION", "auto") == "none" else "auto"


def run(
    args: list[str],
    work: Path,
    deadline: float,
    *,
    secret: bytes = b"",
    env: dict[str, str] | None = None,
    limit: Callable[[list[bytes]], float] | None = None,
    isolation: str | None = None,
    hide: list[Path] | None = None,
    cpus: list[int] | None = None,
) -> RunResult:
    """Run `python -P -s args...` on the scratch copy `work/submission`, for at most `deadline` seconds.

    Lines the run writes to its results channel are collected; `limit(lines)`,
    asked after each one and every tenth of a second, may give an earlier time
    (time.monotonic()) at which the run is stopped (a test that hangs, say). The folders
    in `hide` (the workbook, the original submission) are empty for the run.
    With `cpus`, the run and everything it starts stay on those cores."""
    isolation = isolation or isolation_wanted()
    hidden = [str(path) for path in hide or []]
    result = _run_once(args, work, deadline, secret, env, limit, isolation, hidden, cpus)
    if result.isolation == "failed" and isolation != "none":
        notes = result.notes
        result = _run_once(args, work, deadline, secret, env, limit, "none", hidden, cpus)
        result.notes = [*notes, *result.notes]
    return result


def _run_once(
    args: list[str],
    work: Path,
    deadline: float,
    secret: bytes,
    env: dict[str, str] | None,
    limit: Callable[[list[bytes]], float] | None,
    isolation: str,
    hidden: list[str],
    cpus: list[int] | None,
) -> RunResult:
    started = time.monotonic()
    (work / "run").mkdir(exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    os.chmod(work, 0o711)  # a run with its own user id must be able to reach its folders
    channel_read, channel_write = os.pipe()
    secret_read, secret_write = os.pipe()
    output_read, output_write = os.pipe()
    os.write(secret_write, secret)  # far below a pipe's buffer: never blocks
    os.close(secret_write)
    child_env = {**clean_environment(work / "home"), **(env or {})}
    child_env["WORKBOOK_CHANNEL"] = f"{channel_write},{secret_read}"
    config = {
        "parent": os.getpid(),
        "isolation": isolation,
        "argv": [sys.executable, "-P", "-s", *args],
        "cwd": str(work / "submission"),
        "prepared": str(work / "submission"),
        "area": str(work / "run"),
        "env": child_env,
        "uid": run_uid(),
        "limits": LIMITS,
        "disk_bytes": DISK_BYTES,
        "pristine": list(PRISTINE),
        "channel": channel_write,
        "expose": needed_paths(),
        "hide": hidden,
        "cpus": cpus or [],
    }
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", launcher.__file__, json.dumps(config)],
            stdin=subprocess.DEVNULL,
            stdout=output_write,
            stderr=output_write,
            pass_fds=(channel_write, secret_read),
            process_group=0,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    finally:
        for fd in (channel_write, secret_read, output_write):
            os.close(fd)
    reader = _Reader(channel_read, output_read)
    stopped = None
    try:
        stopped = reader.follow(process, started + deadline, limit)
    finally:
        if process.poll() is None:
            stop(process)
        reader.close()
    result = RunResult(None if stopped else process.returncode, reader.output(), reader.lines, garbage=reader.garbage)
    result.stopped = stopped
    first = reader.lines[0] if reader.lines else b""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        data = json.loads(first)
        if data.get("kind") == "sandbox":  # the launcher writes the first line, before any of the run's code
            result.isolation = str(data["mode"])
            result.notes = [str(note) for note in data.get("notes", [])]
            result.cwd = str(data.get("cwd", ""))
            reader.lines.pop(0)
    return result


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the launcher to kill the run and everything it started; insist if it does not."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class _Reader:
    """Reads the results channel and the output pipe together, never past a deadline."""

    def __init__(self, channel: int, output: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.selector.register(channel, selectors.EVENT_READ, "channel")
        self.selector.register(output, selectors.EVENT_READ, "output")
        self.fds = [channel, output]
        self.lines: list[bytes] = []
        self.partial = b""
        self.tail = bytearray()
        self.channel_bytes = 0
        self.garbage = 0

    def follow(
        self, process: subprocess.Popen[bytes], deadline: float, limit: Callable[[list[bytes]], float] | None
    ) -> str | None:
        """Read until the run ends; return "deadline" or "limit" if it had to be stopped."""
        next_limit = deadline
        exited_at: float | None = None
        while self.selector.get_map():
            if limit is not None:  # asked every turn, not only after a new line: a stop may come any time
                next_limit = min(deadline, limit(self.lines))
            now = time.monotonic()
            if now >= deadline:
                return "deadline"
            if now >= next_limit:
                return "limit"
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > 0.5:
                return None  # something the run left holds the pipes open; the run is over
            wait = min(deadline, next_limit) - now
            for key, _ in self.selector.select(timeout=min(wait, 0.1 if exited_at is None else 0.05)):
                fd = key.fd
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self.selector.unregister(fd)
                elif key.data == "output":
                    self.tail += chunk
                    del self.tail[:-OUTPUT_TAIL]
                else:
                    self.take(chunk)
        process.wait()
        return None

    def take(self, chunk: bytes) -> None:
        self.channel_bytes += len(chunk)
        if self.channel_bytes > MAX_CHANNEL_BYTES:
            self.garbage += len(chunk)
            return
        data = self.partial + chunk
        *complete, self.partial = data.split(b"\n")
        for line in complete:
            if len(line) <= MAX_LINE:
                self.lines.append(line)
            else:
                self.garbage += len(line)
        if len(self.partial) > MAX_LINE:
            self.garbage += len(self.partial)
            self.partial = b""

    def output(self) -> str:
        return bytes(self.tail).decode("utf-8", errors="replace")

    def close(self) -> None:
        self.selector.close()
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
