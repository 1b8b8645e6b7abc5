"""How long a student waits for `workbook check`, measured side by side in one run.

1. `workbook check part1` against raw `pytest` on the same tests, alternating
   the two so a busy machine slows both alike: the grader's overhead as a ratio
   (the target is at most 1.3x).
2. With `check --watch` running, the time from saving a file to the end of the
   new scorecard on screen, for Part 1 and for Part 4.
3. An endless loop in a Part 1 route: how long `check` takes with its default
   10 s per test (the target is under 30 s).

Every run works on a temporary copy of a lesson. Run it with
`uv run python benchmarks/check_latency.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = Path(sys.executable).parent / "workbook"
IGNORED = shutil.ignore_patterns("__pycache__", ".workbook", ".pytest_cache", "*.db", "notifications.log")


def copy_of(part: str, into: Path) -> Path:
    target = into / part
    shutil.copytree(ROOT / "lessons" / part, target, ignore=IGNORED)
    return target


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def check_against_pytest(scratch: Path, rounds: int) -> None:
    copy = copy_of("part1", scratch)
    tests = ["tests", *sorted(str(p.relative_to(copy)) for p in (copy / "challenges").iterdir() if p.is_dir())]
    check = [str(WORKBOOK), "check", "part1", str(copy)]
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    timed(pytest, copy)  # warm the disk cache for both
    check_times, pytest_times = [], []
    for _ in range(rounds):
        check_times.append(timed(check, ROOT))
        pytest_times.append(timed(pytest, copy))
    c, p = statistics.median(check_times), statistics.median(pytest_times)
    print(f"check part1 vs pytest on the same tests ({rounds} rounds each, medians):")
    print(f"  workbook check part1   {c:6.2f} s")
    print(f"  pytest tests challenges {p:5.2f} s")
    print(f"  ratio                  {c / p:6.2f}x (target: at most 1.3x)")


def watch_latency(scratch: Path, part: str, options: list[str], saves: int) -> list[float]:
    """Seconds from each save to the end of the scorecard it causes."""
    copy = copy_of(part, scratch / f"watch-{part}-{len(options)}")
    command = [str(WORKBOOK), "check", part, str(copy), "--watch", *options]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    latencies = []
    try:
        wait_for(process, "Watching", 600)
        main = copy / "app" / "main.py"
        for number in range(saves):
            time.sleep(1.0)  # as a person would: save, look, save again
            saved = time.perf_counter()
            main.write_text(main.read_text() + f"\n# save {number}\n")
            wait_for(process, "Next:", 600)
            latencies.append(time.perf_counter() - saved)
            wait_for(process, "Watching", 60)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return latencies


def wait_for(process: subprocess.Popen[str], text: str, seconds: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    for line in process.stdout:
        if text in line:
            return
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"the watcher did not print {text!r} in time")


def endless_loop(scratch: Path) -> None:
    copy = copy_of("part1", scratch / "loop")
    tasks = copy / "app" / "routers" / "tasks.py"
    body = "    return store.list(completed=completed, offset=offset, limit=limit)"
    tasks.write_text(tasks.read_text().replace(body, "    while True:\n        pass\n" + body))
    seconds = timed([str(WORKBOOK), "check", "part1", str(copy)], ROOT)
    print(f"endless loop in GET /tasks/ (part 1, 10 s per test): check took {seconds:.1f} s (target: under 30 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command, and saves per watcher")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as folder:
        scratch = Path(folder)
        check_against_pytest(scratch, args.rounds)
        print("save -> scorecard with check --watch (medians):")
        for part, options, label in (
            ("part1", [], "part1, lesson and every challenge"),
            ("part1", ["-c", "search"], "part1, lesson and one challenge"),
            ("part4", ["--lesson-only"], "part4, the lesson"),
        ):
            latencies = watch_latency(scratch, part, options, args.rounds)
            print(f"  {label:36} {statistics.median(latencies):6.2f} s  (each: {', '.join(f'{s:.2f}' for s in latencies)})")
        endless_loop(scratch)


if __name__ == "__main__":
    main()
