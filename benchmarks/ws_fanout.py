"""How fast do live updates reach many sockets of one user, and are any lost?

Starts the Part 4 app with uvicorn in a process of its own, on a temporary
SQLite database, registers one user and opens N WebSockets for that user from
this process (asyncio and the `websockets` library). One of them never reads
what it is sent, like a browser tab that froze. Then it creates tasks one at a
time and measures, for every live socket, the time from sending
POST /tasks/ to receiving "Task created: ...". It prints the percentiles of
that delay and how many messages never reached a live socket.

With --workers 2 the app runs as `uvicorn --workers 2`, with the scale-out
challenge's solution applied to a temporary copy of the lesson: every event
goes through Redis pub/sub (BROADCAST_URL) to both workers, and each worker
sends it to the sockets it holds. The sockets spread over the workers as the
system hands out connections; the report says how many each one got. Give a
Redis with --broadcast redis://HOST:PORT/0, or the script starts a
redis-server of its own.

The first few tasks after the sockets connect are a warm-up, reported apart.
Watch for one effect in both rows: now and then a server's Python process runs
a full garbage collection over every object it holds (several hundred per open
connection), which pauses it for a moment, about 0.1-0.2 s for 500 sockets on
a small machine. One comes soon after hundreds of connections arrive at once
(the warm-up takes it), and then roughly one every few dozen tasks. That pause
is the interpreter's, not the connection manager's; several workers split it.

Targets: p99 at most 100 ms, no message lost.

    uv run python benchmarks/ws_fanout.py
    uv run python benchmarks/ws_fanout.py --clients 1000 --tasks 50
    uv run python benchmarks/ws_fanout.py --clients 1000 --workers 2 --broadcast redis://localhost:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "part4"
TARGET_P99_MS = 100
PASSWORD = "benchmark passphrase"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500, help="WebSockets of the one user (default 500)")
    parser.add_argument("--tasks", type=int, default=20, help="tasks created, one at a time (default 20)")
    parser.add_argument(
        "--ws",
        default="auto",
        choices=["auto", "websockets", "websockets-sansio"],
        help="uvicorn's WebSocket implementation (default auto)",
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="tasks created first and reported apart (default 10)"
    )
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to wait for a message to arrive (default 5)")
    parser.add_argument(
        "--deflate",
        default="on",
        choices=["on", "off"],
        help="uvicorn's per-message compression of WebSocket messages, which browsers ask for (default on)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes; more than 1 sends events through Redis (default 1)"
    )
    parser.add_argument(
        "--broadcast",
        metavar="URL",
        help="the Redis for the live updates, redis://HOST:PORT/0 (default: with --workers above 1, a redis-server of its own)",
    )
    return parser.parse_args()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def allow_open_files(needed: int) -> None:
    """Each socket is an open file, in this process and in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        sys.exit(f"{needed} open files are needed but the limit is {soft}: try fewer --clients, or raise `ulimit -n`")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(work: Path) -> Iterator[str]:
    """A redis-server of our own, on a free port, keeping nothing on disk; its URL."""
    program = shutil.which("redis-server")
    if program is None:
        sys.exit("--workers above 1 needs Redis: install redis-server, or give one with --broadcast redis://HOST:PORT/0")
    port = free_port()
    command = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


@contextmanager
def scaled_out_lesson() -> Iterator[Path]:
    """A temporary copy of the lesson with the scale-out challenge's solution applied."""
    sys.path.insert(0, str(ROOT / "src"))
    from workbook.catalog import get_part
    from workbook.verify import with_solution

    with with_solution(get_part(ROOT, "part4").challenge("scale-out")) as copy:
        yield copy


def start_server(work: Path, args: argparse.Namespace, app_dir: Path, broadcast: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'tasks.db'}",
        "NOTIFICATIONS_LOG": str(work / "notifications.log"),
        "SECRET_KEY": secrets.token_urlsafe(32),
    }
    if broadcast:
        env["BROADCAST_URL"] = broadcast
    command = [
        sys.executable, "-m", "uvicorn", "app.main:app", "--app-dir", str(app_dir),
        "--host", "127.0.0.1", "--port", str(port), "--ws", args.ws, "--workers", str(args.workers), "--no-access-log",
        "--ws-per-message-deflate", "true" if args.deflate == "on" else "false",
    ]  # fmt: skip
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped:\n" + log_path.read_text())
        # Every worker says so once its lifespan has run (and, with Redis, once it has subscribed).
        if log_path.read_text().count("Application startup complete") >= args.workers:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return server, url
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    server.kill()
    sys.exit("the server did not start within 60 s:\n" + log_path.read_text()[-2000:])


def sockets_per_worker(server: subprocess.Popen[bytes], port: int, sockets: list[ClientConnection]) -> list[int]:
    """How many of `sockets` each worker process holds (asking the system who holds their other ends)."""
    main = psutil.Process(server.pid)
    workers = main.children() or [main]
    ours = {websocket.transport.get_extra_info("sockname")[1] for websocket in sockets}
    counts = []
    for worker in workers:
        served = {c.raddr.port for c in worker.net_connections("tcp") if c.raddr and c.laddr.port == port}
        if served & ours or len(workers) == 1:
            counts.append(len(served & ours))
    return sorted(counts, reverse=True)


class Listener:
    """One live socket: notes when each message arrives."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.arrivals: dict[str, float] = {}
        self.closed = False

    async def listen(self, everybody_has: dict[str, asyncio.Event], counts: dict[str, int], live: int) -> None:
        try:
            async for received in self.websocket:
                message = received if isinstance(received, str) else received.decode()
                self.arrivals[message] = time.perf_counter()
                counts[message] = counts.get(message, 0) + 1
                if counts[message] == live and message in everybody_has:
                    everybody_has[message].set()
        except ConnectionClosed:
            pass
        self.closed = True


async def open_sockets(url: str, count: int, **options: Any) -> list[ClientConnection]:
    """Open `count` sockets, a few dozen at a time (a burst of thousands of handshakes overflows queues)."""
    sockets: list[ClientConnection] = []
    while len(sockets) < count:
        batch = min(50, count - len(sockets))
        sockets += await asyncio.gather(*(connect(url, **options) for _ in range(batch)))
    return sockets


async def run(args: argparse.Namespace, url: str, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        (await http.post("/auth/register", json={"username": "bench", "password": PASSWORD})).raise_for_status()
        token = (await http.post("/auth/token", data={"username": "bench", "password": PASSWORD})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ws_url = url.replace("http://", "ws://") + f"/ws/tasks?token={token}"

        # The frozen tab: never reads. max_queue=1 makes the library stop reading
        # from the network too, so that the server's messages pile up on the way.
        frozen = await connect(ws_url, max_queue=1, ping_interval=None)
        sockets = await open_sockets(ws_url, args.clients - 1, ping_interval=None)
        listeners = [Listener(websocket) for websocket in sockets]
        spread = sockets_per_worker(server, int(url.rsplit(":", 1)[1]), [frozen, *sockets])
        live = len(listeners)
        everybody_has: dict[str, asyncio.Event] = {}
        counts: dict[str, int] = {}
        listening = [asyncio.create_task(listener.listen(everybody_has, counts, live)) for listener in listeners]

        # The server registers a socket as it accepts it, and connect() returns
        # after that: every socket is listening.
        sent_at: dict[str, float] = {}
        answered_at: dict[str, float] = {}
        cpu_before = (0.0, 0.0, 0.0)
        for n in range(args.warmup + args.tasks):
            if n == args.warmup:
                cpu_before = cpu_seconds(server)
            message = f"Task created: fan-out {n}"
            everybody_has[message] = asyncio.Event()
            sent_at[message] = time.perf_counter()
            response = await http.post("/tasks/", json={"title": f"fan-out {n}"}, headers=headers)
            answered_at[message] = time.perf_counter()
            response.raise_for_status()
            try:
                await asyncio.wait_for(everybody_has[message].wait(), args.wait)
            except TimeoutError:
                pass  # counted as lost below

        cpu_after = cpu_seconds(server)
        await asyncio.sleep(0.5)  # stragglers
        warmup = dict(list(sent_at.items())[: args.warmup])
        measured = dict(list(sent_at.items())[args.warmup :])

        def delays(sent_at: dict[str, float]) -> list[float]:
            return [
                (listener.arrivals[message] - sent) * 1000
                for listener in listeners
                for message, sent in sent_at.items()
                if message in listener.arrivals
            ]

        latencies, warmup_latencies = delays(measured), delays(warmup)

        def median_ms(values: list[float]) -> float:
            return percentile(values, 0.5) * 1000 if values else float("nan")

        arrivals = {m: [lr.arrivals[m] for lr in listeners if m in lr.arrivals] for m in measured}
        breakdown = {
            "answered": median_ms([answered_at[m] - sent for m, sent in measured.items()]),
            "first": median_ms([min(arrivals[m]) - sent for m, sent in measured.items() if arrivals[m]]),
            "last": median_ms([max(arrivals[m]) - sent for m, sent in measured.items() if arrivals[m]]),
        }
        cpu = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
        lost = live * len(measured) - len(latencies)
        warmup_lost = live * len(warmup) - len(warmup_latencies)
        dropped = sum(listener.closed for listener in listeners)
        frozen_open = frozen.close_code is None

        for websocket in [frozen, *sockets]:
            await websocket.close()
        await asyncio.gather(*listening, return_exceptions=True)
    return {
        "live": live,
        "messages": live * len(measured),
        "latencies": latencies,
        "lost": lost,
        "warmup_latencies": warmup_latencies,
        "warmup_lost": warmup_lost,
        "dropped": dropped,
        "frozen_open": frozen_open,
        "spread": spread,
        "breakdown": breakdown,
        "cpu": cpu,
    }


def cpu_seconds(server: subprocess.Popen[bytes]) -> tuple[float, float, float]:
    """CPU time used so far: by this process, by the server's processes, and the wall clock."""
    mine = time.process_time()
    theirs = 0.0
    main = psutil.Process(server.pid)
    for process in [main, *main.children()]:
        try:
            times = process.cpu_times()
            theirs += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return mine, theirs, time.perf_counter()


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    latencies = result["latencies"]
    print(
        f"WebSocket fan-out: {args.clients} sockets of one user "
        f"({result['live']} reading, 1 never reading), {args.tasks} tasks, uvicorn --ws {args.ws}"
    )
    through = "through Redis pub/sub" if args.broadcast_url else "in memory"
    print(
        f"uvicorn --workers {args.workers}, live updates {through}, per-message deflate {args.deflate}; "
        f"sockets per worker: {result['spread']}"
    )
    print()
    print("delivery delay, from sending POST /tasks/ to a live socket receiving the message (ms)")
    print(f"{'':22}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'lost':>9}")
    rows = [
        (f"{args.tasks} tasks", latencies, result["lost"]),
        (f"warm-up ({args.warmup} tasks)", result["warmup_latencies"], result["warmup_lost"]),
    ]
    for name, values, lost in rows:
        if values:
            cells = [percentile(values, q) for q in (0.50, 0.90, 0.99)] + [max(values)]
            print(f"{name:22}" + "".join(f"{cell:9.1f}" for cell in cells) + f"{lost:9d}")
    print()
    breakdown = result["breakdown"]
    print(
        f"where the time goes, median per task: POST answered after {breakdown['answered']:.1f} ms, "
        f"first socket heard after {breakdown['first']:.1f} ms, last after {breakdown['last']:.1f} ms"
    )
    client_cpu, server_cpu, wall = result["cpu"]
    print(
        f"CPU used while measuring: {client_cpu:.1f} s by this client (it reads every socket), "
        f"{server_cpu:.1f} s by the server, in {wall:.1f} s, on {os.cpu_count()} cores"
    )
    print()
    print(f"messages to live sockets:  {result['messages']} (after the warm-up)")
    print(f"lost:                      {result['lost']}")
    print(f"live sockets closed:       {result['dropped']}")
    print(f"the frozen socket:         {'still open' if result['frozen_open'] else 'closed by the server'}")
    print()
    p99 = percentile(latencies, 0.99) if latencies else float("inf")
    verdict = "met" if p99 <= TARGET_P99_MS and result["lost"] == 0 else "MISSED"
    print(f"target: p99 at most {TARGET_P99_MS} ms and nothing lost: {verdict}")


def main() -> int:
    args = parse_args()
    if args.workers < 1:
        sys.exit("--workers takes 1 or more")
    allow_open_files(args.clients + 200)
    with tempfile.TemporaryDirectory(prefix="ws-fanout-") as folder, ExitStack() as servers:
        work = Path(folder)
        args.broadcast_url = args.broadcast
        if args.workers > 1 and not args.broadcast_url:
            args.broadcast_url = servers.enter_context(redis_server(work))
        app_dir = servers.enter_context(scaled_out_lesson()) if args.broadcast_url else LESSON
        server, url = start_server(work, args, app_dir, args.broadcast_url)
        try:
            result = asyncio.run(run(args, url, server))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    report(args, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
