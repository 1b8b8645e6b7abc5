"""The app as it really runs: a uvicorn process on a SQLite file, stopped, started again, and busy.

These tests start the server with the `serve` and `live_server` fixtures of
conftest.py, in the lesson folder, with DATABASE_URL pointing to a file in a
temporary folder.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest


def create(http, title: str, **fields) -> dict:
    response = http.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


# --8<-- [start:restart]
@pytest.mark.points(3, hint="Tables are created in the lifespan with SQLModel.metadata.create_all(engine), and rows are committed.")
def test_tasks_survive_a_restart(serve, tmp_path):
    """Tasks created before the server stops are all there, with the same ids, fields and created_at, after it starts again on the same database."""
    database = tmp_path / "tasks.db"
    first = serve(database)
    with first.client() as http:
        milk = create(http, "Buy milk", description="Two litres")
        dog = create(http, "Walk the dog")
        create(http, "Pay rent", completed=True)
        http.patch(f"/tasks/{milk['id']}", json={"completed": True})
        http.delete(f"/tasks/{dog['id']}")
        before = http.get("/tasks/").json()
    first.stop()

    assert database.exists(), "the server did not create the SQLite file named by DATABASE_URL"
    second = serve(database)
    with second.client() as http:
        after = http.get("/tasks/").json()
        newest = create(http, "Call grandma")

    assert len(before) == 2
    assert after == before, "the tasks are not the same after a restart"
    assert newest["id"] not in [task["id"] for task in before]
# --8<-- [end:restart]


@pytest.mark.points(3, hint="With `def` endpoints, FastAPI runs each request in a worker thread, each with its own session.")
def test_fifty_tasks_created_at_once(live_server):
    """Fifty POST /tasks/ sent at the same time all answer 201, with fifty different ids, and all fifty are listed afterwards."""
    titles = [f"Parallel task {n}" for n in range(50)]
    with live_server.client() as http:
        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(lambda title: http.post("/tasks/", json={"title": title}), titles))

        statuses = [response.status_code for response in responses]
        assert statuses == [201] * 50, f"not all 201: {sorted(set(statuses))}. The server said:\n{live_server.log[-2000:]}"
        ids = {response.json()["id"] for response in responses}
        assert len(ids) == 50, f"only {len(ids)} different ids for 50 new tasks"
        listed = {task["id"]: task["title"] for task in http.get("/tasks/").json()}
        assert sorted(listed[task_id] for task_id in ids if task_id in listed) == sorted(titles)


def post_in_two_steps(url: str, path: str, payload: dict) -> socket.socket:
    """Send a POST with `Expect: 100-continue`: the server answers "100 Continue"
    as soon as the app starts reading the request, and only then is the body sent.
    So when this returns, the request is in the app's hands. Read its answer
    from the returned connection with `status_of`."""
    parts = urlsplit(url)
    body = json.dumps(payload).encode()
    connection = socket.create_connection((parts.hostname, parts.port), timeout=30)
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".encode()
    )
    interim = connection.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100"), f"expected 100 Continue, the server answered {interim[:80]!r}"
    connection.sendall(body)
    return connection


def answered_yet(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return bool(connection.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        connection.setblocking(True)


def status_of(connection: socket.socket) -> int:
    """The status code of the answer on `connection` (waiting for it)."""
    with connection, connection.makefile("rb") as answer:
        return int(answer.readline().split()[1])


# --8<-- [start:slow-database]
@pytest.mark.points(2, hint="An `async def` endpoint runs on the event loop itself: a synchronous session there stops every other request. Use `def`.")
def test_a_slow_database_does_not_stop_other_requests(live_server):
    """While one request waits for a locked database, the server still answers GET /health at once, and the request finishes when the lock is gone."""
    with live_server.client() as http:
        create(http, "Make sure the table exists")
        # Another program takes the database for itself, as a long backup would.
        blocker = sqlite3.connect(live_server.database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            waiting = post_in_two_steps(live_server.url, "/tasks/", {"title": "Patient"})
            # The POST is in the app now, waiting for the database: for a second, ask for /health again and again.
            slowest, asked = 0.0, 0
            until = time.monotonic() + 1
            while time.monotonic() < until and asked < 20:
                started = time.monotonic()
                health = http.get("/health", timeout=10)
                slowest, asked = max(slowest, time.monotonic() - started), asked + 1
                assert health.status_code == 200
            still_waiting = not answered_yet(waiting)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        status = status_of(waiting)

    assert slowest < 2, f"GET /health took {slowest:.1f} s while another request waited for the database"
    assert still_waiting, f"the POST answered while the database was locked (status {status}): did it use the database?"
    assert status == 201, f"the POST that waited for the database answered {status}, not 201"
# --8<-- [end:slow-database]


@pytest.mark.points(2, hint="Catch SQLAlchemy's ArgumentError when creating the engine and raise SystemExit with a sentence that names DATABASE_URL.")
def test_a_malformed_database_url_is_explained_in_one_sentence(lesson_folder):
    """With an unusable DATABASE_URL the app refuses to start: it exits with an error code and one line naming DATABASE_URL, not a traceback."""
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "PYTHONSAFEPATH")}
    urls = ["nonsense", "nosuchdatabase://somewhere/tasks"]
    # Both at once: starting Python and importing the app takes a moment.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", "import app.main"],
            cwd=lesson_folder,
            env={**env, "DATABASE_URL": url},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    try:
        errors = [process.communicate(timeout=60)[1] for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()

    for url, process, stderr in zip(urls, processes, errors, strict=True):
        said = [line for line in stderr.splitlines() if line.strip()]
        assert process.returncode != 0, f"the app started with DATABASE_URL={url}"
        assert "Traceback" not in stderr, f"with DATABASE_URL={url} the app crashed with a traceback:\n{stderr[-2000:]}"
        assert len(said) == 1, f"with DATABASE_URL={url}, expected one line of explanation, got:\n{stderr[-2000:]}"
        assert "DATABASE_URL" in said[0]


@pytest.mark.points(2, hint="FastAPI(max_body_size=...) answers 413 as soon as a too large Content-Length arrives.")
def test_an_announced_huge_body_is_refused_before_it_is_sent(live_server):
    """A real server answers 413 to a request that announces a 200 MB body as soon as its headers arrive, without waiting for the body."""
    host, port = live_server.url.removeprefix("http://").split(":")
    head = (
        "POST /tasks/ HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + b'{"title": "')  # and not one byte more
        answer = connection.recv(4096)

    assert answer.startswith(b"HTTP/1.1 413"), f"the server answered {answer[:60]!r}"
