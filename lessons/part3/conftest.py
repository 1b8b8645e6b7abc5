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
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import app.core.security as security_module
from app.core.rate_limit import AuthLimiter, get_auth_limiter
from app.db import get_session
from app.main import app
from app.users import create_user


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """Hash passwords with a cheap argon2 setting while the tests run.

    The real setting is slow on purpose (up to half a second per password on a
    small machine): that is what makes stolen hashes hard to crack. Most tests
    register and log in, so they use a cheap one instead. (The servers that
    some tests start in a process of their own keep the real setting.)"""
    if not isinstance(getattr(security_module, "password_hash", None), PasswordHash):
        yield  # hashing is done some other way: leave it alone
        return
    quick = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security_module, "password_hash", quick)
        if hasattr(security_module, "DUMMY_HASH"):
            patch.setattr(security_module, "DUMMY_HASH", quick.hash("not anybody's password"))
        yield


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


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    """A client whose requests use the in-memory database instead of the real one,
    and a fresh limiter on login attempts with roomy limits."""
    # Every TestClient request comes from one address, and the tests log in a
    # lot. The tests of the limits themselves put in a limiter of their own.
    limiter = AuthLimiter(per_client=10_000, per_username=10_000)
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_auth_limiter] = lambda: limiter
    # No `with`: the lifespan (which creates tables in the real database) does not run.
    yield TestClient(app)
    app.dependency_overrides.clear()


PASSWORD = "correct horse battery"


# --8<-- [start:login]
@pytest.fixture
def login(client: TestClient) -> Callable[..., dict[str, str]]:
    """A function that registers a user, logs in, and returns their auth header."""

    def register_and_login(username: str, password: str = PASSWORD) -> dict[str, str]:
        response = client.post("/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        response = client.post("/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return register_and_login
# --8<-- [end:login]


@pytest.fixture
def auth_headers(login: Callable[..., dict[str, str]]) -> dict[str, str]:
    """The Authorization header of a freshly registered user, "alice"."""
    return login("alice")


# --8<-- [start:admin-headers]
@pytest.fixture
def admin_headers(client: TestClient, session: Session) -> dict[str, str]:
    """The Authorization header of an admin, "root", made directly in the database."""
    create_user(session, "root", PASSWORD, is_admin=True)
    response = client.post("/auth/token", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
# --8<-- [end:admin-headers]


# ---- a real server --------------------------------------------------------

LESSON = Path(__file__).parent
# The settings the app reads from the environment: a server started by a test
# gets only the ones the test gives it, never the ones of whoever runs the tests.
SETTINGS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "FIRST_ADMIN_USERNAME",
    "FIRST_ADMIN_PASSWORD",
    "AUTH_ATTEMPTS_PER_CLIENT",
    "AUTH_ATTEMPTS_PER_USERNAME",
)
STARTUP_DEADLINE = 40  # seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The app in its own uvicorn process, with its output captured in a log file.

    The process stays in the test run's process group, so that whatever ends
    the run (a grader's time limit, say) ends the server too."""

    def __init__(self, folder: Path, settings: dict[str, str]) -> None:
        self.folder = folder  # the working directory: no .env file, a place for the database
        self.settings = settings
        self.log_file = folder / "server.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        inherited = {name: value for name, value in os.environ.items() if name.upper() not in SETTINGS}
        command = [
            sys.executable, "-m", "uvicorn", "app.main:app",
            "--app-dir", str(LESSON), "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
        ]  # fmt: skip
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=folder,
                env={**inherited, "PYTHONUNBUFFERED": "1", **settings},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server stopped while starting. Its log:\n{self.log[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"no answer from /health within {STARTUP_DEADLINE} s. The server's log:\n{self.log[-3000:]}")

    @property
    def log(self) -> str:
        """Everything the server has printed or logged so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn shuts down cleanly on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """A function that starts the app in a real uvicorn process with the given
    settings (DATABASE_URL: a fresh SQLite file unless `database` is given).
    Every server it started is stopped at the end of the test run."""
    servers: list[Server] = []

    def start(database: Path | None = None, **settings: str) -> Server:
        folder = tmp_path_factory.mktemp("server")
        database = database or folder / "tasks.db"
        server = Server(folder, {"DATABASE_URL": f"sqlite:///{database}", **settings})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def live_server(serve: Callable[..., Server]) -> Server:
    """One real server for the tests that need one: no SECRET_KEY, a first admin
    ("chief", see `live_server.settings`), 5-minute tokens, and login limits of
    5 tries per username and 1000 per client (all the tests share one address)."""
    return serve(
        FIRST_ADMIN_USERNAME="chief",
        FIRST_ADMIN_PASSWORD="the chief's own passphrase",
        ACCESS_TOKEN_EXPIRE_MINUTES="5",
        AUTH_ATTEMPTS_PER_CLIENT="1000",
        AUTH_ATTEMPTS_PER_USERNAME="5",
    )
