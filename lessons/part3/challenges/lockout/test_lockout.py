"""Challenge: five wrong passwords in a row lock an account for 15 minutes.

The tests that need time to pass do not wait: they replace the app's clock,
the `get_now` dependency of app/deps.py, with one they move by hand.
"""

from datetime import UTC, datetime, timedelta

import pytest

PASSWORD = "correct horse battery"
WRONG = "a wrong guess"


class Clock:
    """A clock that only moves when a test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def advance(self, **duration: float) -> None:
        self.now += timedelta(**duration)


@pytest.fixture
def clock(client) -> Clock:
    """The app's clock, replaced with one the test moves (see `get_now` in the brief)."""
    try:
        from app.deps import get_now
    except ImportError:
        pytest.fail("app/deps.py has no get_now() dependency yet: the brief says what it should be")
    clock = Clock()
    client.app.dependency_overrides[get_now] = lambda: clock.now
    return clock


def register(client, username: str = "alice") -> None:
    response = client.post("/auth/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text


def log_in(client, password: str, username: str = "alice"):
    return client.post("/auth/token", data={"username": username, "password": password})


def fail(client, times: int, username: str = "alice") -> None:
    for attempt in range(1, times + 1):
        response = log_in(client, WRONG, username)
        assert response.status_code == 401, f"wrong password number {attempt} answered {response.status_code}"


@pytest.mark.points(3, hint="Count failures on the user (failed_logins) and remember until when it is locked.")
def test_five_wrong_passwords_lock_the_account(client):
    """After five wrong passwords in a row (each answering 401), even the right password answers 429."""
    register(client)

    fail(client, 5)

    assert log_in(client, PASSWORD).status_code == 429


@pytest.mark.points(1, hint="HTTPException(429, detail=..., headers={'Retry-After': str(seconds)}).")
def test_a_locked_account_says_when_to_come_back(client):
    """A 429 for a locked account explains itself in "detail" and tells in a Retry-After header how many seconds are left (at most 900)."""
    register(client)
    fail(client, 5)

    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


@pytest.mark.points(2, hint="Set the count back to 0 when the right password comes.")
def test_a_successful_login_starts_the_count_again(client):
    """Only failures in a row count: four wrong, one right, four wrong still lets the right password in, and five wrong in a row then lock."""
    register(client)

    for _ in range(2):
        fail(client, 4)
        assert log_in(client, PASSWORD).status_code == 200
    fail(client, 5)

    assert log_in(client, PASSWORD).status_code == 429


@pytest.mark.points(2, hint="Compare locked_until with the time from the Now dependency, never with datetime.now().")
def test_the_lock_lifts_after_15_minutes(client, clock):
    """The account stays locked for 15 minutes, right password or not, and then the right password logs in again."""
    register(client)
    fail(client, 5)

    clock.advance(minutes=14, seconds=59)
    assert log_in(client, PASSWORD).status_code == 429
    assert log_in(client, WRONG).status_code == 429

    clock.advance(seconds=2)
    assert log_in(client, PASSWORD).status_code == 200


@pytest.mark.points(1, hint="When you lock the account, set the count back to 0.")
def test_after_a_lock_the_count_starts_from_zero(client, clock):
    """Once a lock is over, one wrong password answers 401 and is not enough to lock the account again."""
    register(client)
    fail(client, 5)
    clock.advance(minutes=15, seconds=1)

    fail(client, 1)

    assert log_in(client, PASSWORD).status_code == 200


@pytest.mark.points(1)
def test_a_lock_is_per_account(client):
    """Locking Alice's account does not lock Bob's."""
    register(client, "alice")
    register(client, "bob")
    fail(client, 5, "alice")
    assert log_in(client, PASSWORD, "alice").status_code == 429

    assert log_in(client, PASSWORD, "bob").status_code == 200
