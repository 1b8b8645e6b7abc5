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

Wall-clock times grow with the machine's load (printed first); the CPU
seconds printed beside them do not, and are close to the wall time the same
work takes on an idle machine, since it runs mostly on one core.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = Path(sys.executable).parent / "workbook"
IGNORED = shutil.ignore_patterns("__pycache__", ".workbook", ".pytest_cache", "*.db", "notifications.log")


def copy_of(part: str, into: Path) -> Path:
    target = into / part
    shutil.copytree(ROOT / "lessons" / part, target, ignore=IGNORED)
    return target


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and everything it ran)."""
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, children_cpu() - cpu


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a running process, and of the children it has waited for."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def check_against_pytest(scratch: Path, rounds: int) -> None:
    copy = copy_of("part1", scratch)
    tests = ["tests", *sorted(str(p.relative_to(copy)) for p in (copy / "challenges").iterdir() if p.is_dir())]
    check = [str(WORKBOOK), "check", "part1", str(copy)]
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    timed(pytest, copy)  # warm the disk cache for both
    check_runs, pytest_runs = [], []
    for _ in range(rounds):
        check_runs.append(timed(check, ROOT))
        pytest_runs.append(timed(pytest, copy))
    c, p = (statistics.median(wall for wall, _ in runs) for runs in (check_runs, pytest_runs))
    c_cpu, p_cpu = (statistics.median(cpu for _, cpu in runs) for runs in (check_runs, pytest_runs))
    print(f"check part1 vs pytest on the same tests ({rounds} rounds each, medians):")
    print(f"  workbook check part1     {c:6.2f} s wall  {c_cpu:6.2f} s CPU")
    print(f"  pytest tests challenges  {p:6.2f} s wall  {p_cpu:6.2f} s CPU")
    print(f"  ratio                    {c / p:6.2f}x     {c_cpu / p_cpu:6.2f}x (target: at most 1.3x)")


def watch_latency(scratch: Path, part: str, options: list[str], saves: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds from each save to the end of the scorecard it causes."""
    copy = copy_of(part, scratch / f"watch-{part}-{len(options)}")
    command = [str(WORKBOOK), "check", part, str(copy), "--watch", *options]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    watcher = psutil.Process(process.pid)
    latencies = []
    try:
        wait_for(process, "Watching", 600)
        main = copy / "app" / "main.py"
        for number in range(saves):
            time.sleep(1.0)  # as a person would: save, look, save again
            saved, cpu = time.perf_counter(), tree_cpu(watcher)
            main.write_text(main.read_text() + f"\n# save {number}\n")
            wait_for(process, "Next:", 600)
            latencies.append((time.perf_counter() - saved, tree_cpu(watcher) - cpu))
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
    seconds, cpu = timed([str(WORKBOOK), "check", "part1", str(copy)], ROOT)
    # The two tests that hang wait 10 s and 3 s, busy or not; the rest is work.
    print(f"endless loop in GET /tasks/ (part 1, 10 s per test): check took {seconds:.1f} s wall, {cpu:.1f} s CPU (target: under 30 s)")


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
            wall, cpu = statistics.median(w for w, _ in latencies), statistics.median(c for _, c in latencies)
            print(f"  {label:36} {wall:6.2f} s wall  {cpu:6.2f} s CPU  (wall of each: {', '.join(f'{w:.2f}' for w, _ in latencies)})")
        endless_loop(scratch)


if __name__ == "__main__":
    main()
