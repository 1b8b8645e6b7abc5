"""Challenge: DELETE puts a task in the bin instead of erasing it, and POST /tasks/{id}/restore takes it out again."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

SLACK = timedelta(seconds=5)


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def delete(client, task: dict) -> None:
    response = client.delete(f"/tasks/{task['id']}")
    assert response.status_code == 204, response.text


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()]


def row(session: Session, task_id: int):
    """The task's row, read with a session of its own (so nothing comes from a cache)."""
    from app.models import Task

    with Session(session.get_bind()) as fresh:
        return fresh.get(Task, task_id)


def is_now_in_utc(value: object) -> bool:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # SQLite keeps no time zone; the app stores UTC
    return abs(datetime.now(UTC) - moment) < SLACK


@pytest.mark.points(1, hint="A `deleted_at: datetime | None = None` field on the table model Task and on TaskPublic.")
def test_every_task_has_a_deleted_at_of_null(client):
    """A task that was never deleted has `"deleted_at": null` in the answers of POST, GET /tasks/{id} and GET /tasks/."""
    task = create(client, "Buy milk")
    answers = [task, client.get(f"/tasks/{task['id']}").json(), client.get("/tasks/").json()[0]]

    for answer in answers:
        assert "deleted_at" in answer, "the task has no deleted_at field"
        assert answer["deleted_at"] is None


@pytest.mark.points(2, hint="In delete_task, set task.deleted_at = utc_now() and commit, instead of session.delete(task).")
def test_delete_keeps_the_row_and_stamps_it(client, session):
    """DELETE /tasks/{id} still answers 204 with no body, but the row stays in the database with deleted_at set to now, in UTC."""
    task = create(client, "Buy milk")

    response = client.delete(f"/tasks/{task['id']}")

    assert response.status_code == 204
    assert response.content == b""
    stored = row(session, task["id"])
    assert stored is not None, "the row was erased from the database"
    assert stored.title == "Buy milk"
    assert is_now_in_utc(stored.deleted_at), f"deleted_at is {stored.deleted_at!r}, not the moment of the DELETE"


@pytest.mark.points(3, hint="One helper that answers 404 for a missing task and for a deleted one, used by GET, PATCH and DELETE.")
def test_a_deleted_task_is_hidden(client, session):
    """A deleted task answers 404 "Task not found" to GET, PATCH and DELETE, and is not in the list, yet its row is kept."""
    task = create(client, "Buy milk")
    other = create(client, "Walk the dog")
    delete(client, task)

    for method, body in (("GET", None), ("PATCH", {"completed": True}), ("DELETE", None)):
        response = client.request(method, f"/tasks/{task['id']}", json=body)
        assert response.status_code == 404, f"{method} of a deleted task answered {response.status_code}"
        assert response.json() == {"detail": "Task not found"}
    assert ids_of(client.get("/tasks/")) == [other["id"]]
    assert row(session, task["id"]) is not None, "the row was erased from the database"
    assert row(session, task["id"]).completed is False, "PATCH changed a deleted task"


@pytest.mark.points(2, hint="A query parameter `include_deleted: bool = False`; filter on deleted_at only when it is false.")
def test_include_deleted_lists_deleted_tasks_too(client):
    """GET /tasks/?include_deleted=true lists deleted tasks as well, by id, each with its deleted_at; include_deleted=false is the usual list."""
    tasks = [create(client, f"Task {n}") for n in range(3)]
    delete(client, tasks[1])

    everything = client.get("/tasks/", params={"include_deleted": "true"}).json()

    assert [task["id"] for task in everything] == [task["id"] for task in tasks]
    assert everything[0]["deleted_at"] is None and everything[2]["deleted_at"] is None
    assert is_now_in_utc(everything[1]["deleted_at"])
    assert everything[1]["deleted_at"].endswith(("Z", "+00:00")), "deleted_at is not written in UTC"
    usual = [tasks[0]["id"], tasks[2]["id"]]
    assert ids_of(client.get("/tasks/", params={"include_deleted": "false"})) == usual
    assert ids_of(client.get("/tasks/")) == usual


@pytest.mark.points(1, hint="Leave deleted tasks out with .where(...) before .offset() and .limit().")
def test_pages_and_filters_count_only_the_tasks_shown(client):
    """offset, limit and completed count only the tasks in the list: without include_deleted, deleted tasks take no room on a page."""
    tasks = [create(client, f"Task {n}", completed=n % 2 == 0) for n in range(5)]
    ids = [task["id"] for task in tasks]
    delete(client, tasks[1])
    delete(client, tasks[2])

    assert ids_of(client.get("/tasks/", params={"limit": 2})) == [ids[0], ids[3]]
    assert ids_of(client.get("/tasks/", params={"offset": 2})) == [ids[4]]
    assert ids_of(client.get("/tasks/", params={"completed": "true"})) == [ids[0], ids[4]]
    assert ids_of(client.get("/tasks/", params={"include_deleted": "true", "offset": 1, "limit": 2})) == ids[1:3]


@pytest.mark.points(3, hint='@router.post("/{task_id}/restore"): set deleted_at back to None, commit, and return the task.')
def test_restore_brings_a_task_back(client):
    """POST /tasks/{id}/restore answers 200 with the task as it was before the DELETE, and it is back in GET and the list."""
    task = create(client, "Buy milk", description="Two litres")
    other = create(client, "Walk the dog")
    delete(client, task)

    response = client.post(f"/tasks/{task['id']}/restore")

    assert response.status_code == 200
    assert response.json() == task
    assert client.get(f"/tasks/{task['id']}").json() == task
    assert ids_of(client.get("/tasks/")) == [task["id"], other["id"]]


@pytest.mark.points(1)
def test_restoring_a_missing_task_is_404(client):
    """POST /tasks/{id}/restore for a task that never existed answers 404 "Task not found"."""
    response = client.post("/tasks/999/restore")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.points(1, hint='raise HTTPException(status_code=409, detail="Task is not deleted")')
def test_restoring_a_task_that_is_not_deleted_is_409(client):
    """POST /tasks/{id}/restore for a task that is not deleted answers 409 "Task is not deleted" and changes nothing."""
    task = create(client, "Buy milk")

    response = client.post(f"/tasks/{task['id']}/restore")

    assert response.status_code == 409
    assert response.json() == {"detail": "Task is not deleted"}
    assert client.get(f"/tasks/{task['id']}").json() == task


@pytest.mark.points(1, hint="deleted_at belongs to Task and TaskPublic only, never to TaskCreate or TaskUpdate.")
def test_a_client_cannot_set_deleted_at(client):
    """A deleted_at sent with POST or PATCH is not used: the task stays in the list with `"deleted_at": null`."""
    response = client.post("/tasks/", json={"title": "Buy milk", "deleted_at": "2020-01-01T00:00:00Z"})
    # Ignoring the field (201) or refusing unknown fields (422) are both fine; nothing else is.
    assert response.status_code in (201, 422), f"POST answered {response.status_code}: {response.text}"
    if response.status_code == 201:
        assert response.json()["deleted_at"] is None
    task = create(client, "Walk the dog")
    response = client.patch(f"/tasks/{task['id']}", json={"deleted_at": "2020-01-01T00:00:00Z"})

    assert response.status_code in (200, 422), f"PATCH answered {response.status_code}: {response.text}"
    shown = client.get(f"/tasks/{task['id']}")
    assert shown.status_code == 200
    assert shown.json()["deleted_at"] is None
