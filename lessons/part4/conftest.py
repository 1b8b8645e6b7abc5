"""Fixtures shared by the lesson's tests and the challenges' tests."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import app.core.security as security_module
import app.db as db_module
import app.main as main_module
from app.config import Settings, get_settings
from app.db import get_session
from app.main import app
from app.notifications import get_notifier
from app.users import create_user


# --8<-- [start:quick-hashing]
@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """Hash passwords with a cheap argon2 setting while the tests run.

    The real setting is slow on purpose (up to half a second per password on a
    small machine): that is what makes stolen hashes hard to crack. Hundreds of
    tests each register and log in, so they use a cheap one instead."""
    if not isinstance(getattr(security_module, "password_hash", None), PasswordHash):
        yield  # hashing is done some other way: leave it alone
        return
    quick = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security_module, "password_hash", quick)
        if hasattr(security_module, "DUMMY_HASH"):
            patch.setattr(security_module, "DUMMY_HASH", quick.hash("not anybody's password"))
        yield
# --8<-- [end:quick-hashing]


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


# --8<-- [start:recording-notifier]
class RecordingNotifier:
    """A notifier that remembers what it was asked to send, instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def notify(self, username: str, message: str) -> None:
        self.sent.append((username, message))
# --8<-- [end:recording-notifier]


@pytest.fixture
def notifier() -> RecordingNotifier:
    """The notifier every request of the test uses (see the `client` fixture)."""
    return RecordingNotifier()


# --8<-- [start:client]
@pytest.fixture
def client(session: Session, notifier: RecordingNotifier) -> Iterator[TestClient]:
    """A client whose requests use the in-memory database instead of the real one,
    and a recording notifier instead of the notifications log."""
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_notifier] = lambda: notifier
    # No `with`: the lifespan (which creates tables in the real database) does not run.
    yield TestClient(app)
    app.dependency_overrides.clear()
# --8<-- [end:client]


PASSWORD = "correct horse battery"


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


@pytest.fixture
def auth_headers(login: Callable[..., dict[str, str]]) -> dict[str, str]:
    """The Authorization header of a freshly registered user, "alice"."""
    return login("alice")


@pytest.fixture
def admin_headers(client: TestClient, session: Session) -> dict[str, str]:
    """The Authorization header of an admin, "root", made directly in the database."""
    create_user(session, "root", PASSWORD, is_admin=True)
    response = client.post("/auth/token", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# ---- settings ----------------------------------------------------------------


@pytest.fixture
def settings_env() -> Iterator[Callable[..., Settings]]:
    """A function that sets environment variables (None removes one) and makes
    the app read its settings again, as a fresh process would.

    The SECRET_KEY stays the one already in use unless the call names it, so
    tokens issued earlier in the test keep working. Afterwards the environment
    is put back and the cached settings are dropped, to be read again."""
    with pytest.MonkeyPatch.context() as patch:

        def read_again(**env: str | None) -> Settings:
            if "SECRET_KEY" not in env:
                env["SECRET_KEY"] = get_settings().secret_key.get_secret_value()
            for name, value in env.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            get_settings.cache_clear()
            return get_settings()

        yield read_again
    get_settings.cache_clear()


# ---- a real server, on a thread of the test process -------------------------------


@pytest.fixture
def temp_database(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh SQLite file in tmp_path, used by the app in place
    of its own, so that its lifespan never touches a database in the lesson folder."""
    engine = create_engine(
        f"sqlite:///{tmp_path / 'tasks.db'}", connect_args={"check_same_thread": False}
    )
    SQLModel.metadata.create_all(engine)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db_module, "engine", engine)
        patch.setattr(main_module, "engine", engine, raising=False)
        yield engine
    engine.dispose()


STARTUP_DEADLINE = 30  # seconds


class LiveServer:
    """The app served by a real uvicorn server on a thread of this process.

    Being in the same process, it sees `app.dependency_overrides`, and coverage
    counts the lines it runs."""

    def __init__(self, log_level: str = "info") -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # a free port, held until the server takes it
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        self.ws_url = f"ws://{host}:{port}"
        # log_config=None: uvicorn's records go to the root logger, where `caplog` sees them.
        config = uvicorn.Config(
            app, log_config=None, log_level=log_level, timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                pytest.fail("the app did not start in a real server (see the log above)")
            time.sleep(0.01)

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def login(self, http: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Register `username`, log in, and return their auth header."""
        response = http.post("/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        response = http.post("/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)
        self._socket.close()


# --8<-- [start:live-server]
@pytest.fixture
def live_server(temp_database: Engine, notifier: RecordingNotifier) -> Iterator[LiveServer]:
    """The app in a real uvicorn server (see LiveServer) on a fresh SQLite file,
    with the `notifier` fixture as its notifier. A test may set other
    dependency_overrides; they are all cleared afterwards."""

    def session_per_request() -> Iterator[Session]:
        # A new session for every request: requests run at the same time, on
        # several threads, and one of them may close its session early.
        with Session(temp_database) as session:
            yield session

    app.dependency_overrides[get_session] = session_per_request
    app.dependency_overrides[get_notifier] = lambda: notifier
    server = LiveServer()
    yield server
    server.stop()
    app.dependency_overrides.clear()
# --8<-- [end:live-server]
