"""created_at: when a task was created, in UTC, set by the server once and never changed."""

from datetime import UTC, datetime, timedelta

import pytest

# How far created_at may be from the test's own clock (the test and the app run on the same machine).
SLACK = timedelta(seconds=5)


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def parse_utc(value: object) -> datetime:
    """created_at as a datetime, after checking it is ISO 8601 text with a UTC offset."""
    assert isinstance(value, str), f"created_at should be text, not {value!r}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pytest.fail(f"created_at {value!r} is not an ISO 8601 date and time")
    assert moment.tzinfo is not None, f"created_at {value!r} has no time zone: add Z or +00:00"
    assert moment.utcoffset() == timedelta(0), f"created_at {value!r} is not in UTC"
    return moment


@pytest.mark.points(2, hint="Give the table model Task a `created_at: datetime` field, and TaskPublic too.")
def test_every_task_has_a_created_at(client):
    """Every task has a `created_at`, in the answer of POST, of GET /tasks/{id} and of GET /tasks/, always the same value."""
    task = create(client, "Buy milk")

    assert "created_at" in task, "POST /tasks/ answered a task without created_at"
    assert client.get(f"/tasks/{task['id']}").json()["created_at"] == task["created_at"]
    assert [t["created_at"] for t in client.get("/tasks/").json()] == [task["created_at"]]


@pytest.mark.points(3, hint="Field(default_factory=lambda: datetime.now(UTC)) gives each new row the current time, with its time zone, in UTC.")
def test_created_at_is_now_in_utc(client):
    """created_at is ISO 8601 text with a UTC offset (Z or +00:00), and it is the moment the task was created."""
    before = datetime.now(UTC)
    task = create(client, "Buy milk")
    after = datetime.now(UTC)

    for answer in (task, client.get(f"/tasks/{task['id']}").json(), client.get("/tasks/").json()[0]):
        created_at = parse_utc(answer["created_at"])
        assert before - SLACK <= created_at <= after + SLACK, f"created_at {created_at} is not now ({before})"


@pytest.mark.points(1, hint="A default_factory runs for every new row; a plain default is computed once, when the module is imported.")
def test_later_tasks_have_later_created_at(client):
    """A task created after another has a created_at that is the same or later, never earlier."""
    moments = [parse_utc(create(client, f"Task {n}")["created_at"]) for n in range(5)]

    assert moments == sorted(moments)
    assert moments[-1] - moments[0] < SLACK


@pytest.mark.points(2, hint="TaskCreate has no created_at field, so a created_at in the body is never read.")
def test_the_client_cannot_choose_created_at(client):
    """A created_at sent with POST /tasks/ is not used: the task still gets the current time."""
    response = client.post("/tasks/", json={"title": "Buy milk", "created_at": "2001-02-03T04:05:06Z"})

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    assert response.status_code == 201
    stored = client.get(f"/tasks/{response.json()['id']}").json()
    for answer in (response.json(), stored):
        created_at = parse_utc(answer["created_at"])
        assert abs(datetime.now(UTC) - created_at) < SLACK, "the task kept the created_at the client sent"


@pytest.mark.points(2, hint="TaskUpdate has no created_at field, and exclude_unset leaves the others alone.")
def test_patch_keeps_created_at(client):
    """PATCH never changes created_at, whether it changes other fields or tries to send a created_at of its own."""
    task = create(client, "Buy milk")

    client.patch(f"/tasks/{task['id']}", json={"title": "Buy oat milk", "completed": True})
    response = client.patch(f"/tasks/{task['id']}", json={"created_at": "2001-02-03T04:05:06Z"})

    if response.status_code != 422:  # refusing unknown fields outright is fine too
        assert response.status_code == 200
        assert response.json()["created_at"] == task["created_at"]
    assert client.get(f"/tasks/{task['id']}").json()["created_at"] == task["created_at"]
