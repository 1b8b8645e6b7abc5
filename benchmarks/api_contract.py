"""Does each part's API do what its OpenAPI schema says? Schemathesis, with all checks.

Starts each part's app in a real uvicorn server (a process of its own, in a
temporary folder, with a temporary SQLite database and a strong SECRET_KEY),
logs in as the first admin where the part has users, and runs

    schemathesis run <server>/openapi.json --checks all --max-examples N

against it, in all four of Schemathesis's phases (the schema's examples; the
coverage phase's boundary values, one at a time, valid and invalid; random
fuzzing; stateful sequences that use one answer's ids in the next request):
generated requests, valid and invalid, checked for server errors,
undocumented status codes, responses that break the schema, invalid data that
is accepted, valid data that is rejected, wrong Allow headers, and the rest.
The parts run two at a time; each part's verdict and time are printed, and the
exit code is 0 only if every part reports no failure.

    uv run python benchmarks/api_contract.py                      # every part
    uv run python benchmarks/api_contract.py part3 --max-examples 200
    uv run python benchmarks/api_contract.py --phases fuzzing,stateful
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["part1", "part2", "part3", "part4"]
PHASES = ["examples", "coverage", "fuzzing", "stateful"]
ADMIN, ADMIN_PASSWORD = "chief", "the chief's own passphrase"
STARTUP_DEADLINE = 60  # seconds
# Settings a server gets only from here, never from whoever runs the script.
SETTINGS = ("DATABASE_URL", "SECRET_KEY", "FIRST_ADMIN_USERNAME", "FIRST_ADMIN_PASSWORD", "NOTIFICATIONS_LOG")


@dataclass
class Verdict:
    part: str
    ok: bool
    seconds: float
    summary: str
    output: str


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", default=PARTS, help="parts to test (default: all four)")
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation (default 50)")
    parser.add_argument("--seed", type=int, default=None, help="a seed, to repeat a run exactly")
    parser.add_argument("--jobs", type=int, default=2, help="parts tested at the same time (default 2)")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"Schemathesis's phases, comma-separated (default: all, {','.join(PHASES)})")  # fmt: skip
    args = parser.parse_args()
    unknown = sorted(set(args.phases.split(",")) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(part: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name.upper() not in SETTINGS}
    env.update(
        PYTHONUNBUFFERED="1",
        DATABASE_URL=f"sqlite:///{folder / 'tasks.db'}",
        SECRET_KEY=secrets.token_urlsafe(32),
        FIRST_ADMIN_USERNAME=ADMIN,
        FIRST_ADMIN_PASSWORD=ADMIN_PASSWORD,
        NOTIFICATIONS_LOG=str(folder / "notifications.log"),
    )
    command = [
        sys.executable, "-m", "uvicorn", "app.main:app",
        "--app-dir", str(ROOT / "lessons" / part), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1, trust_env=False).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{part} did not start; its log:\n{(folder / 'server.log').read_text(errors='replace')[-2000:]}")


def admin_headers(url: str) -> list[str]:
    """`-H` options with the first admin's token, for the parts that have users."""
    form = {"username": ADMIN, "password": ADMIN_PASSWORD}
    response = httpx.post(f"{url}/auth/token", data=form, timeout=30, trust_env=False)
    if response.status_code == 404:
        return []  # no users in this part
    response.raise_for_status()
    return ["-H", f"Authorization: Bearer {response.json()['access_token']}"]


def check(part: str, max_examples: int, seed: int | None, phases: str) -> Verdict:
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix=f"api-contract-{part}-"))
    process = None
    try:
        process, url = start_server(part, folder)
        command = [
            str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/openapi.json",
            "--checks", "all", "--phases", phases, "--max-examples", str(max_examples), "--no-color",
            *admin_headers(url), *(["--seed", str(seed)] if seed is not None else []),
        ]  # fmt: skip
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600, check=False)
        output = result.stdout + result.stderr
        last = [line for line in output.splitlines() if line.strip(" =")][-1:] or ["(no output)"]
        summary = re.sub(r"^=+ | =+$", "", last[0].strip())
        return Verdict(part, result.returncode == 0, time.monotonic() - started, summary, output)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    args = parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        print(f"Unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}.", file=sys.stderr)
        return 2
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        verdicts = list(pool.map(lambda part: check(part, args.max_examples, args.seed, args.phases), args.parts))
    for verdict in verdicts:
        if not verdict.ok:
            print(f"---- {verdict.part} ----\n{verdict.output[-6000:]}")
    for verdict in verdicts:
        print(f"{verdict.part}: {'ok' if verdict.ok else 'FAILED'} in {verdict.seconds:.1f} s ({verdict.summary})")
    print(f"all parts: {time.monotonic() - started:.1f} s, max {args.max_examples} examples per operation, "
          f"phases {args.phases}")
    return 0 if all(verdict.ok for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
