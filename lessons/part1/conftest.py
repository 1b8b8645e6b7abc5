"""Fixtures shared by the lesson's tests and the challenges' tests."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.store import TaskStore, get_store


# --8<-- [start:client]
@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client talking to the app, with a fresh empty store for every test."""
    fresh = TaskStore()
    app.dependency_overrides[get_store] = lambda: fresh
    yield TestClient(app)
    app.dependency_overrides.clear()
# --8<-- [end:client]
