"""Fixtures shared by the lesson's tests and the challenges' tests."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.db import get_session
from app.main import app
from app.notifications import get_notifier
from app.users import create_user


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


class RecordingNotifier:
    """A notifier that remembers what it was asked to send, instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def notify(self, username: str, message: str) -> None:
        self.sent.append((username, message))


@pytest.fixture
def notifier() -> RecordingNotifier:
    """The notifier every request of the test uses (see the `client` fixture)."""
    return RecordingNotifier()


@pytest.fixture
def client(session: Session, notifier: RecordingNotifier) -> Iterator[TestClient]:
    """A client whose requests use the in-memory database instead of the real one,
    and a recording notifier instead of the notifications log."""
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_notifier] = lambda: notifier
    # No `with`: the lifespan (which creates tables in the real database) does not run.
    yield TestClient(app)
    app.dependency_overrides.clear()


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
