"""Fixtures shared by the lesson's tests and the challenges' tests."""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import psutil
import psycopg
import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as connect_websocket

import app.core.security as security_module
import app.db as db_module
import app.main as main_module
from app.config import Settings, get_settings
from app.core.rate_limit import AuthLimiter, get_auth_limiter
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


# To run the tests on another database, PostgreSQL for instance, name an empty
# one that they may wipe: TEST_DATABASE_URL=postgresql+psycopg://localhost/scratch
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def empty_database(sqlite_url: str, **options: Any) -> Engine:
    """An engine on a database with fresh, empty tables: TEST_DATABASE_URL's, or `sqlite_url`."""
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        SQLModel.metadata.drop_all(engine)
    else:
        engine = create_engine(sqlite_url, connect_args={"check_same_thread": False}, **options)
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def session() -> Iterator[Session]:
    """A session on a fresh in-memory database, with the tables created."""
    # StaticPool keeps one connection, so every thread sees the same in-memory database.
    engine = empty_database("sqlite://", poolclass=StaticPool)
    with Session(engine) as session:
        yield session
    engine.dispose()


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
    a recording notifier instead of the notifications log, and a fresh limiter
    on login attempts with roomy limits."""
    # Every TestClient request comes from one address, and the tests log in a
    # lot. The tests of the limits themselves put in a limiter of their own.
    limiter = AuthLimiter(per_client=10_000, per_username=10_000)
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_notifier] = lambda: notifier
    app.dependency_overrides[get_auth_limiter] = lambda: limiter
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
    engine = empty_database(f"sqlite:///{tmp_path / 'tasks.db'}")
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
    with the `notifier` fixture as its notifier and roomy login limits. A test
    may set other dependency_overrides; they are all cleared afterwards."""

    def session_per_request() -> Iterator[Session]:
        # A new session for every request: requests run at the same time, on
        # several threads, and one of them may close its session early.
        with Session(temp_database) as session:
            yield session

    limiter = AuthLimiter(per_client=10_000, per_username=10_000)  # as for `client`
    app.dependency_overrides[get_session] = session_per_request
    app.dependency_overrides[get_notifier] = lambda: notifier
    app.dependency_overrides[get_auth_limiter] = lambda: limiter
    server = LiveServer()
    yield server
    server.stop()
    app.dependency_overrides.clear()
# --8<-- [end:live-server]


# ---- real servers in processes of their own: Redis, PostgreSQL, uvicorn --workers ----
#
# The challenges about going to production run the app as it runs there: several
# worker processes started by `uvicorn --workers N`, a real redis-server, a real
# PostgreSQL, a queue worker. Each is started on a free port in a temporary folder
# and stopped afterwards. A server that is not installed skips those tests with a
# sentence saying how to install it; in CI (where CI is set) it fails them instead.

LESSON_FOLDER = Path(__file__).parent
PROCESS_DEADLINE = 90  # seconds for a server to get ready (generous: a busy machine starts Python slowly)


def find_program(name: str, how_to_install: str, folders: Iterable[Path] = ()) -> str:
    """The path of a program, or a skip (a failure in CI) saying how to install it."""
    found = shutil.which(name) or next(
        (str(folder / name) for folder in folders if (folder / name).is_file()), None
    )
    if found is None:
        message = f"needs {name}, which is not installed here: {how_to_install}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run these tests, not skip them
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_environment() -> dict[str, str]:
    """What a server process needs from ours, and none of the app's settings."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "SYSTEMROOT")
    return {name: os.environ[name] for name in keep if name in os.environ} | {"PYTHONUNBUFFERED": "1"}


class PortTaken(Exception):
    """A server could not listen on its port: something else took it after free_port() chose it."""


def on_a_free_port(start: Callable[[int], None], tries: int = 3) -> None:
    """Call `start(port)` with a free port, and with another one if that one was taken meanwhile."""
    for attempt in range(tries):
        try:
            start(free_port())
            return
        except PortTaken:
            if attempt == tries - 1:
                raise


class Process:
    """A program running in the background, its output going to a log file."""

    def __init__(self, name: str, command: list[str], log: Path, **popen: Any) -> None:
        self.name, self.command, self.log, self.popen = name, command, log, popen
        self.process: subprocess.Popen[bytes] | None = None
        self.log_start = 0

    def start(self) -> None:
        self.log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **self.popen
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_until(self, ready: Callable[[], bool], what: str, deadline: float = PROCESS_DEADLINE) -> None:
        """Wait until `ready()` is true; fail with the end of the log if the process stops or time runs out."""
        give_up = time.monotonic() + deadline
        while not ready():
            if self.process is None or self.process.poll() is not None:
                if "already in use" in self.output().lower():
                    self.process = None
                    raise PortTaken(self.name)
                self.fail(f"{self.name} stopped before {what}")
            if time.monotonic() > give_up:
                self.fail(f"{self.name} was not {what} after {deadline} s")
            time.sleep(0.05)

    def output(self) -> str:
        """What the process has written to its log since it was last started."""
        with self.log.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def fail(self, sentence: str) -> NoReturn:
        lines = self.output().strip().splitlines() if self.log.exists() else []
        self.stop()
        pytest.fail(sentence + ". The end of its log:\n" + "\n".join(lines[-25:]), pytrace=False)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def eventually(condition: Callable[[], bool], deadline: float) -> bool:
    """Whether `condition()` becomes true within `deadline` seconds (checked every 50 ms)."""
    give_up = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.05)
    return True


def answers(check: Callable[[], object]) -> Callable[[], bool]:
    """`check` turned into a test of readiness: true once it runs without an OSError-like error."""

    def ready() -> bool:
        try:
            check()
        except (OSError, httpx.HTTPError, redis.RedisError, psycopg.Error):
            return False
        return True

    return ready


class RedisServer:
    """A redis-server on a free port, keeping nothing on disk."""

    def __init__(self, folder: Path) -> None:
        self.program = find_program("redis-server", "apt-get install redis-server (or brew install redis)")
        self.folder = folder
        on_a_free_port(self.start_on)

    def start_on(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        command = [self.program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = Process("redis-server", command, self.folder / "redis.log", cwd=self.folder)
        self.client = redis.Redis(port=port, socket_timeout=5)
        self.start()

    def start(self) -> None:
        self.process.start()
        self.process.wait_until(answers(self.client.ping), "answering")

    def stop(self) -> None:
        self.client.close()
        self.process.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole run. Tests that need a clean one call `client.flushall()`."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def postgres_folders() -> list[Path]:
    # Debian and Ubuntu keep PostgreSQL's programs out of PATH, one folder per version.
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)


class PostgresServer:
    """A PostgreSQL server of its own: a fresh cluster in a temporary folder, on a free port.

    PostgreSQL refuses to run as root, so when the tests run as root its programs
    run as the unprivileged user `nobody`, in a folder that user owns."""

    def __init__(self) -> None:
        how = "apt-get install postgresql (or brew install postgresql)"
        initdb = find_program("initdb", how, postgres_folders())
        postgres = str(Path(initdb).with_name("postgres"))
        as_root = os.geteuid() == 0
        # Outside the tests' own temporary folder, which `nobody` may not enter.
        self.folder = Path(tempfile.mkdtemp(prefix="workbook-postgres-", dir="/tmp" if as_root else None))
        run_as: dict[str, Any] = {}
        if as_root:
            import pwd  # Unix only, like running as root

            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
            run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        data = self.folder / "data"
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
        setup = [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
        done = subprocess.run(setup, env=env, cwd=self.folder, capture_output=True, text=True, **run_as)
        if done.returncode != 0:
            pytest.fail(f"initdb could not make a database cluster:\n{done.stdout}{done.stderr}")

        def start_on(port: int) -> None:
            self.port = port
            command = [
                postgres, "-D", str(data), "-p", str(port), "-k", str(self.folder),
                "-c", "listen_addresses=127.0.0.1",
                # Durability is not what these tests are about: skip the waits for the disk.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ]  # fmt: skip
            # The log goes in its own folder, which `nobody` may write to.
            log = self.folder / "postgres.log"
            self.process = Process("PostgreSQL", command, log, env=env, cwd=self.folder, **run_as)
            self.process.start()
            self.process.wait_until(answers(lambda: psycopg.connect(self.address("postgres")).close()), "answering")

        on_a_free_port(start_on)

    def address(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Make an empty database; its SQLAlchemy URL, the kind DATABASE_URL takes."""
        with psycopg.connect(self.address("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.address(name).replace("postgresql://", "postgresql+psycopg://")

    def stop(self) -> None:
        self.process.stop(signal.SIGINT)  # SIGINT: PostgreSQL's "fast" shutdown
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run; each test module makes its own database."""
    server = PostgresServer()
    yield server
    server.stop()


class AppProcesses:
    """The app served by `uvicorn --workers N`, in processes of its own, as in production.

    uvicorn's main process listens on one port and hands each new connection to
    whichever worker takes it first: a client cannot choose. These tests need to
    know which worker they reached, so they ask the system which worker process
    holds the other end of their connection (`worker_of`)."""

    def __init__(self, folder: Path, env: dict[str, str], workers: int = 2) -> None:
        self.folder = folder
        self.workers = workers
        self.env = base_environment() | {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": f"sqlite:///{folder / 'tasks.db'}",
            "NOTIFICATIONS_LOG": str(folder / "notifications.log"),
        } | env
        self.port = 0
        self.url = ""
        self.process = Process(f"uvicorn --workers {workers}", [], folder / "app.log")

    def start(self) -> None:
        """Start the app: on a free port the first time, on the same port again after a stop."""
        if self.port:
            self.start_on(self.port)
        else:
            on_a_free_port(self.start_on)

    def start_on(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "uvicorn", "app.main:app", "--app-dir", str(LESSON_FOLDER),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers),
            "--timeout-keep-alive", "60", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        # cwd: the temporary folder, so that no .env of the lesson folder is read.
        name = f"uvicorn --workers {self.workers}"
        self.process = Process(name, command, self.folder / "app.log", env=self.env, cwd=self.folder)
        self.prepare_database()
        self.process.start()
        self.process.wait_until(lambda: len(self.worker_pids()) == self.workers, "running its workers")
        # A worker takes connections once its lifespan has run: wait until each one answers.
        self.process.wait_until(self._every_worker_answers, "answering on every worker")
        if "Application startup failed" in self.process.output():
            self.process.fail("a worker failed to start")

    def prepare_database(self) -> None:
        """Create the app's tables before its workers start, as a deployment runs its
        migrations first: workers that all find an empty database race to create them."""
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            SQLModel.metadata.create_all(engine)
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        """Kill the main process and its workers at once, as a crash would."""
        workers = self.worker_pids()
        self.process.stop(signal.SIGKILL)
        for pid in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()

    def worker_pids(self) -> list[int]:
        """The worker processes: those that listen on the app's port (with one
        worker, uvicorn's main process serves; with more, its children do)."""
        if self.process.process is None:
            return []
        try:
            main = psutil.Process(self.process.pid)
            candidates = [main] if self.workers == 1 else main.children()
        except psutil.NoSuchProcess:
            return []
        return [process.pid for process in candidates if self._listens(process)]

    def _listens(self, child: psutil.Process) -> bool:
        with contextlib.suppress(psutil.Error):
            return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in child.net_connections("tcp"))
        return False

    def worker_of(self, client_port: int) -> int | None:
        """The worker holding the server's end of the connection that has `client_port` on our end."""
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.Error):
                for connection in psutil.Process(pid).net_connections("tcp"):
                    if connection.laddr.port == self.port and connection.raddr and connection.raddr.port == client_port:
                        return pid
        return None

    def client_on(self, worker: int, tries: int = 50) -> httpx.Client:
        """An HTTP client whose one kept-alive connection is served by `worker`."""
        http = self._connect_to(worker, tries)
        if http is None:
            pytest.fail(f"{tries} connections in a row went to other workers than {worker}")
        return http

    def _connect_to(self, worker: int, tries: int) -> httpx.Client | None:
        for _ in range(tries):
            http = httpx.Client(base_url=self.url, timeout=10, limits=httpx.Limits(max_connections=1))
            try:
                with http.stream("GET", "/health") as response:
                    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
                    response.read()
            except httpx.HTTPError:
                http.close()
                return None
            if self.worker_of(client_port) == worker:
                return http
            http.close()
        return None

    def _every_worker_answers(self) -> bool:
        clients = [self._connect_to(pid, tries=10) for pid in self.worker_pids()]
        for http in clients:
            if http is not None:
                http.close()
        return bool(clients) and None not in clients

    def new_user(self, http: httpx.Client, username: str) -> str:
        """A new user's access token. The user is written straight into the app's
        database with the tests' quick password hash (the app's own takes up to a
        second on a small machine), then logs in through `http`."""
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with Session(engine) as session:
                create_user(session, username, PASSWORD)
        finally:
            engine.dispose()
        response = http.post("/auth/token", data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def websocket(self, path: str) -> tuple[ClientConnection, int | None]:
        """Open a WebSocket on `path`; the socket and the worker that serves it."""
        url = self.url.replace("http", "ws", 1) + path
        websocket = connect_websocket(url, open_timeout=10, close_timeout=1, proxy=None, legacy=True)
        return websocket, self.worker_of(websocket.socket.getsockname()[1])

    def websockets_on_every_worker(self, path: str, most: int = 40) -> dict[int, list[ClientConnection]]:
        """Open WebSockets on `path` until every worker serves at least one of them."""
        opened: dict[int, list[ClientConnection]] = {}
        for _ in range(most):
            websocket, worker = self.websocket(path)
            opened.setdefault(worker or 0, []).append(websocket)
            if all(pid in opened for pid in self.worker_pids()):
                return opened
        pytest.fail(f"{most} WebSockets did not reach every worker (they reached {len(opened)})")


class QueueWorker:
    """The job queue's worker, `arq app.worker.WorkerSettings`, in a process of its own."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "arq", "app.worker.WorkerSettings"]
        env = env | {"PYTHONPATH": str(LESSON_FOLDER)}
        self.process = Process("The queue worker", command, folder / "queue-worker.log", env=env, cwd=folder)

    def start(self) -> None:
        self.process.start()
        self.process.wait_until(lambda: "Starting worker" in self.process.output(), "running")

    def stop(self) -> None:
        self.process.stop()


def require_settings(*names: str) -> None:
    """Fail at once, with a sentence, unless the app's Settings has these fields."""
    missing = [name for name in names if name not in Settings.model_fields]
    if missing:
        pytest.fail(f"app/config.py: Settings has no {', '.join(missing)} yet", pytrace=False)
