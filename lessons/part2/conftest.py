"""Fixtures shared by the lesson's tests and the challenges' tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.db import get_session
from app.main import app


# --8<-- [start:session]
@pytest.fixture
def session() -> Iterator[Session]:
    """A session on a fresh in-memory database, with the tables created."""
    # StaticPool keeps one connection, so every thread sees the same in-memory database.
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
# --8<-- [end:session]


# --8<-- [start:client]
@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    """A client whose requests use the in-memory database instead of the real one."""
    app.dependency_overrides[get_session] = lambda: session
    # No `with`: the lifespan (which creates tables in the real database) does not run.
    yield TestClient(app)
    app.dependency_overrides.clear()
# --8<-- [end:client]


# ---- a real server ----------------------------------------------------------

LESSON = Path(__file__).parent
STARTUP_DEADLINE = 30  # seconds


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(database_url: str) -> dict[str, str]:
    """The environment of a process running the app: ours, with DATABASE_URL replaced."""
    inherited = {name: value for name, value in os.environ.items() if name.upper() != "DATABASE_URL"}
    return {**inherited, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url}


class Server:
    """The app in its own `uvicorn` process, started in the lesson folder.

    Everything the server prints goes to a log file, so a test that fails can
    show it. The process stays in the test run's process group: whatever ends
    the run ends the server too."""

    def __init__(self, database: Path, log_file: Path) -> None:
        self.database = database
        self.log_file = log_file
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
        with log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=LESSON,
                env=app_environment(f"sqlite:///{database.as_posix()}"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def client(self) -> httpx.Client:
        # trust_env=False: never send requests for 127.0.0.1 through a proxy.
        return httpx.Client(base_url=self.url, timeout=30, trust_env=False)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE
        with self.client() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"The server stopped while starting. What it printed:\n{self.log[-3000:]}")
                try:
                    if http.get("/health", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass  # not listening yet
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"No answer from /health within {STARTUP_DEADLINE} s. What the server printed:\n{self.log[-3000:]}")

    def stop(self) -> None:
        """Stop the server (politely first), and wait until it is gone."""
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn shuts down cleanly on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """A function that starts the app in a real uvicorn process on a SQLite file
    (`tasks.db` in the test's temporary folder unless another is given).
    Every server it started is stopped when the test ends, pass or fail."""
    servers: list[Server] = []

    def start(database: Path | None = None) -> Server:
        log_file = tmp_path / f"server-{len(servers) + 1}.log"
        server = Server(database or tmp_path / "tasks.db", log_file)
        servers.append(server)  # first, so that it is stopped even if it never gets ready
        server.wait_until_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server on a fresh SQLite file, shared by the tests of one module
    (starting a server takes a moment), and stopped after them, pass or fail."""
    folder = tmp_path_factory.mktemp("live-server")
    server = Server(folder / "tasks.db", folder / "server.log")
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def lesson_folder() -> Path:
    """The folder that holds `app/`: where the app is started from."""
    return LESSON
