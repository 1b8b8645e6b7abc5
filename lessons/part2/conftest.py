"""Fixtures shared by the lesson's tests and the challenges' tests."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.db import get_session
from app.main import app


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
    """A client whose requests use the in-memory database instead of the real one."""
    app.dependency_overrides[get_session] = lambda: session
    # No `with`: the lifespan (which creates tables in the real database) does not run.
    yield TestClient(app)
    app.dependency_overrides.clear()
