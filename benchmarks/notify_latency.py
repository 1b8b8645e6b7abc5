"""Does a slow notifier slow down POST /tasks/? It should not: it runs after the response.

Starts the Part 4 app in a real uvicorn server, on a thread of this process and
on a temporary SQLite database, logs in, and times POST /tasks/ with two
notifiers, side by side in one run:

- a no-op notifier, which returns at once;
- a slow notifier, which takes a second (`await asyncio.sleep(1)`) per task.

The notifier is chosen exactly as the tests choose it, with
`app.dependency_overrides[get_notifier]`. The two kinds of request take turns in
small batches, so that whatever else the machine does weighs on both alike.
If notifications run after the response, both columns are the same and the
ratio is close to 1 (target: at most 1.2).

    uv run python benchmarks/notify_latency.py
    uv run python benchmarks/notify_latency.py --requests 500 --delay 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "part4"
TARGET_RATIO = 1.2
PASSWORD = "benchmark passphrase"


class NoOpNotifier:
    async def notify(self, username: str, message: str) -> None:
        return None


class SlowNotifier:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def notify(self, username: str, message: str) -> None:
        await asyncio.sleep(self.delay)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="POST /tasks/ per notifier (default 200)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the slow notifier takes (default 1)")
    parser.add_argument("--batch", type=int, default=10, help="requests in a row before switching notifier (default 10)")
    return parser.parse_args()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_server(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sys.exit("the server did not start")
        time.sleep(0.01)
    return server, thread, f"http://{host}:{port}"


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="notify-latency-") as folder:
        timings = measure(args, Path(folder))
    report(args, timings)
    return 0


def measure(args: argparse.Namespace, work: Path) -> dict[str, list[float]]:
    # The app reads its settings when it is imported: set them first.
    os.environ.update(
        DATABASE_URL=f"sqlite:///{work / 'tasks.db'}",
        NOTIFICATIONS_LOG=str(work / "notifications.log"),
        SECRET_KEY=secrets.token_urlsafe(32),
    )
    sys.path.insert(0, str(LESSON))
    from app.main import app
    from app.notifications import get_notifier

    notifiers = {"no-op notifier": NoOpNotifier(), f"notifier taking {args.delay:g} s": SlowNotifier(args.delay)}
    timings: dict[str, list[float]] = {name: [] for name in notifiers}

    server, thread, url = start_server(app)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            http.post("/auth/register", json={"username": "bench", "password": PASSWORD}).raise_for_status()
            token = http.post("/auth/token", data={"username": "bench", "password": PASSWORD}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}

            def create(title: str) -> float:
                started = time.perf_counter()
                response = http.post("/tasks/", json={"title": title}, headers=headers)
                elapsed = time.perf_counter() - started
                if response.status_code != 201:
                    sys.exit(f"POST /tasks/ answered {response.status_code}: {response.text}")
                return elapsed

            app.dependency_overrides[get_notifier] = lambda: notifiers["no-op notifier"]
            for n in range(20):  # warm up: first requests pay for imports and caches
                create(f"warm-up {n}")

            done = 0
            while done < args.requests:
                batch = min(args.batch, args.requests - done)
                for name, notifier in notifiers.items():
                    app.dependency_overrides[get_notifier] = lambda notifier=notifier: notifier
                    timings[name] += [create(f"{name} {done + n}") for n in range(batch)]
                done += batch
            # Let the last slow notifications finish before the server stops.
            time.sleep(args.delay + 0.5)
    finally:
        app.dependency_overrides.clear()
        server.should_exit = True
        thread.join(timeout=30)
    return timings


def report(args: argparse.Namespace, timings: dict[str, list[float]]) -> None:
    rows = {
        name: {
            "p50": percentile(values, 0.50) * 1000,
            "p95": percentile(values, 0.95) * 1000,
            "mean": statistics.fmean(values) * 1000,
            "max": max(values) * 1000,
        }
        for name, values in timings.items()
    }
    fast, slow = rows.values()
    ratio = {key: slow[key] / fast[key] for key in ("p50", "p95", "mean")}

    print(f"POST /tasks/ latency, {args.requests} requests per notifier, in milliseconds")
    print()
    print(f"{'':28}{'p50':>9}{'p95':>9}{'mean':>9}{'max':>9}")
    for name, row in rows.items():
        print(f"{name:28}" + "".join(f"{row[key]:9.2f}" for key in ("p50", "p95", "mean", "max")))
    print(f"{'ratio (slow / no-op)':28}" + "".join(f"{ratio[key]:9.2f}" for key in ("p50", "p95", "mean")))
    print()
    verdict = "met" if max(ratio["p50"], ratio["p95"]) <= TARGET_RATIO else "MISSED"
    print(f"target: p50 and p95 ratios at most {TARGET_RATIO}: {verdict}")
    print(
        f"(had the response waited for the notifier, every request would take "
        f"{args.delay * 1000:.0f} ms more)"
    )


if __name__ == "__main__":
    sys.exit(main())
