"""Run your tests against copies of the app with one bug planted in each.

Used by test_full_coverage.py:  python mutants.py PLAN.json RESULTS.json

PLAN.json lists the planted bugs ("mutants"): for each, a name, the folder
holding its copy of the app (app/, my_tests/ and conftest.py, with the bug
already written in), and which of your tests to run (the ones that ran the
changed lines). A mutant is caught when at least one of those tests fails.

The libraries are imported once, here; each mutant then runs in a forked
child of this process, so it only pays for importing app/ and for its tests.
Where fork does not exist, each mutant gets a fresh Python instead.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MUTANT_DEADLINE = 90  # seconds for one mutant's run
WORKERS = max(1, min(4, os.cpu_count() or 1))  # mutants run at the same time
PYTEST_ARGS = [
    "-x", "-q", "--no-header", "-p", "no:cacheprovider", "--import-mode=importlib",
    "-o", "addopts=", "--timeout=10", "-p", "no:randomly", "-p", "no:xdist",
    # Installed beside the workbook, not needed by your tests, and slow to load.
    "-p", "no:hypothesispytest", "-p", "no:schemathesis",
]  # fmt: skip
SHARED_LIBRARIES = (
    "pytest", "fastapi", "fastapi.testclient", "sqlmodel", "sqlalchemy", "pydantic_settings",
    "jwt", "pwdlib", "pwdlib.hashers.argon2", "httpx", "uvicorn",
    # What the lesson's conftest.py imports besides (for the production challenges).
    "psutil", "psycopg", "redis", "websockets.sync.client",
)  # fmt: skip


def verdict(returncode: int | None) -> tuple[bool, str]:
    """(caught, why) from the exit code of pytest on a mutant."""
    if returncode is None:
        return False, f"the run took more than {MUTANT_DEADLINE} s and was stopped"
    if returncode == 1:
        return True, "a test failed"
    if returncode == 0:
        return False, "every test still passed"
    if returncode == 5:
        return False, "none of your tests ran the changed code"
    return False, f"pytest could not run (exit code {returncode})"


class ForkedRun:
    """pytest on a mutant's folder, in a forked child of this process."""

    def __init__(self, folder: Path, tests: list[str], log: Path) -> None:
        self.pid = os.fork()
        if self.pid == 0:  # the child: run pytest, and never return into the parent's loop
            code = 3
            try:
                output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(output, 1)
                os.dup2(output, 2)
                os.chdir(folder)
                sys.path.insert(0, str(folder))
                import pytest

                code = int(pytest.main([*tests, *PYTEST_ARGS]))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)

    def poll(self) -> int | None:
        done, status = os.waitpid(self.pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(status) if done else None

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


class NewPythonRun:
    """pytest on a mutant's folder, in a fresh Python (where there is no fork)."""

    def __init__(self, folder: Path, tests: list[str], log: Path) -> None:
        with log.open("wb") as output:
            command = [sys.executable, "-m", "pytest", *tests, *PYTEST_ARGS]
            self.process = subprocess.Popen(command, cwd=folder, stdout=output, stderr=subprocess.STDOUT)

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def main(plan_file: str, results_file: str, fork: bool = hasattr(os, "fork")) -> None:
    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    start = ForkedRun if fork else NewPythonRun
    if start is ForkedRun:
        for name in SHARED_LIBRARIES:
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # the child imports it, or fails saying so
    results: dict[str, dict[str, object]] = {}
    waiting = list(plan)
    running: list[tuple[dict, ForkedRun | NewPythonRun, float]] = []
    while waiting or running:
        while waiting and len(running) < WORKERS:
            mutant = waiting.pop(0)
            folder = Path(mutant["folder"])
            run = start(folder, mutant["tests"], folder.parent / f"{mutant['name']}.log")
            running.append((mutant, run, time.monotonic()))
        for entry in list(running):
            mutant, run, started = entry
            returncode = run.poll()
            if returncode is None and time.monotonic() - started < MUTANT_DEADLINE:
                continue
            if returncode is None:
                run.kill()
            caught, why = verdict(returncode)
            results[mutant["name"]] = {"caught": caught, "why": why}
            running.remove(entry)
            # Written as each mutant ends, so that a run stopped early keeps what it found.
            Path(results_file).write_text(json.dumps(results, indent=1), encoding="utf-8")
        time.sleep(0.02)


if __name__ == "__main__":
    main(*sys.argv[1:3])
