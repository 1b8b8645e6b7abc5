"""/tasks: the CRUD of Parts 1 and 2, now for logged-in users, each with their own tasks."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

TASK_FIELDS = {"id", "title", "description", "completed", "created_at", "owner_id"}


def add(client, headers, title: str = "Buy milk", **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# ---- every endpoint needs a user ---------------------------------------------------


@pytest.mark.points(2, hint="Add `user: CurrentUser` to every endpoint of /tasks.")
@pytest.mark.parametrize(
    "method, path",
    [("POST", "/tasks/"), ("GET", "/tasks/"), ("GET", "/tasks/1"), ("PATCH", "/tasks/1"), ("DELETE", "/tasks/1")],
)
def test_every_tasks_endpoint_needs_a_token(client, auth_headers, method, path):
    """Without a token, every /tasks endpoint answers 401 with WWW-Authenticate: Bearer, and changes nothing."""
    add(client, auth_headers)

    response = client.request(method, path, json={"title": "Sneaky"})

    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower() == "bearer"
    assert [task["title"] for task in client.get("/tasks/", headers=auth_headers).json()] == ["Buy milk"]


# ---- create -------------------------------------------------------------------------


@pytest.mark.points(2)
def test_creating_a_task_answers_201_with_the_task(client, auth_headers):
    """POST /tasks/ answers 201 with the task: its id, title, description, completed false, created_at and owner_id."""
    me = client.get("/auth/me", headers=auth_headers).json()

    task = add(client, auth_headers, "Buy milk", description="Two litres")

    assert set(task) == TASK_FIELDS
    assert isinstance(task["id"], int)
    assert (task["title"], task["description"], task["completed"]) == ("Buy milk", "Two litres", False)
    assert task["owner_id"] == me["id"]


@pytest.mark.points(1, hint="created_at: a UTC datetime with a default_factory, returned with its time zone.")
def test_created_at_is_now_in_utc(client, auth_headers):
    """created_at is the moment the task was made, in ISO 8601 with the UTC offset."""
    before = datetime.now(UTC)
    created_at = datetime.fromisoformat(add(client, auth_headers)["created_at"])
    after = datetime.now(UTC)

    assert created_at.utcoffset() is not None and created_at.utcoffset().total_seconds() == 0
    assert before.replace(microsecond=0) <= created_at <= after


@pytest.mark.points(2, hint="TaskCreate has no id, owner_id or created_at: the server sets them.")
def test_the_client_cannot_choose_id_owner_or_date(client, login):
    """An id, owner_id or created_at sent with a new task is not used: the server sets them."""
    alice, bob = login("alice"), login("bob")
    bob_id = client.get("/auth/me", headers=bob).json()["id"]

    response = client.post(
        "/tasks/",
        json={"title": "Buy milk", "id": 999, "owner_id": bob_id, "created_at": "2001-01-01T00:00:00Z"},
        headers=alice,
    )

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    task = response.json()
    assert task["id"] != 999
    assert task["owner_id"] != bob_id
    assert not task["created_at"].startswith("2001")
    assert client.get("/tasks/", headers=bob).json() == []


@pytest.mark.points(2, hint="Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]")
@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": None}, {"title": "ok", "description": "x" * 2001}],
    ids=["no title", "empty", "only spaces", "201 characters", "null", "description of 2001"],
)
def test_a_bad_task_is_422(client, auth_headers, body):
    """A missing, empty, blank, null or over-200-character title, or a description over 2000 characters, answers 422."""
    response = client.post("/tasks/", json=body, headers=auth_headers)

    assert response.status_code == 422
    assert client.get("/tasks/", headers=auth_headers).json() == []


@pytest.mark.points(1)
def test_limits_are_inclusive_and_titles_are_trimmed(client, auth_headers):
    """A 200-character title and a 2000-character description are accepted, and spaces around a title are dropped."""
    assert add(client, auth_headers, "x" * 200, description="y" * 2000)["title"] == "x" * 200
    assert add(client, auth_headers, "  Buy milk  ")["title"] == "Buy milk"


# ---- read and list ------------------------------------------------------------------


@pytest.mark.points(2)
def test_a_task_can_be_read_back(client, auth_headers):
    """GET /tasks/{id} answers the task exactly as POST /tasks/ created it."""
    task = add(client, auth_headers, description="Two litres")

    response = client.get(f"/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.points(1)
@pytest.mark.parametrize("task_id", ["999", "0", "-1", str(2**63 - 1), str(-(2**63))])
def test_a_missing_task_is_404(client, auth_headers, task_id):
    """A task id that does not exist answers 404 "Task not found"."""
    response = client.get(f"/tasks/{task_id}", headers=auth_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "task_id", ["abc", "1.5", str(2**63), "99999999999999999999999", "-99999999999999999999999"]
)
def test_an_id_that_is_no_task_id_is_422(client, auth_headers, task_id):
    """A task id that is not a whole number, or too big for the database, answers 422 (never 500)."""
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, f"/tasks/{task_id}", json={"completed": True}, headers=auth_headers)
        assert response.status_code == 422, f"{method}: {response.status_code}"


@pytest.mark.points(2)
def test_the_list_holds_my_tasks_in_order(client, auth_headers):
    """GET /tasks/ answers my tasks, oldest first."""
    titles = [add(client, auth_headers, f"Task {n}")["title"] for n in range(3)]

    response = client.get("/tasks/", headers=auth_headers)

    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == titles


@pytest.mark.points(1)
def test_the_list_filters_on_completed(client, auth_headers):
    """?completed=true answers only finished tasks, ?completed=false only open ones."""
    add(client, auth_headers, "Open")
    add(client, auth_headers, "Done", completed=True)

    done = client.get("/tasks/", params={"completed": "true"}, headers=auth_headers).json()
    still_open = client.get("/tasks/", params={"completed": "false"}, headers=auth_headers).json()

    assert [task["title"] for task in done] == ["Done"]
    assert [task["title"] for task in still_open] == ["Open"]


@pytest.mark.points(1, hint="Query(ge=0) for offset, Query(ge=1, le=100) for limit, 100 when not given.")
def test_the_list_pages_with_offset_and_limit(client, auth_headers):
    """offset skips tasks and limit caps how many come back: 100 at most, 100 when not given."""
    for n in range(102):
        add(client, auth_headers, f"Task {n}")

    page = client.get("/tasks/", params={"offset": 2, "limit": 3}, headers=auth_headers).json()

    assert [task["title"] for task in page] == ["Task 2", "Task 3", "Task 4"]
    assert len(client.get("/tasks/", headers=auth_headers).json()) == 100
    assert len(client.get("/tasks/", params={"offset": 100}, headers=auth_headers).json()) == 2


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "params",
    [{"offset": -1}, {"limit": 0}, {"limit": 101}, {"completed": "maybe"}, {"offset": 2**63}],
    ids=["offset -1", "limit 0", "limit 101", "completed maybe", "huge offset"],
)
def test_bad_list_parameters_are_422(client, auth_headers, params):
    """A negative offset, a limit outside 1-100, a completed that is not a boolean or an offset too big for the database answer 422."""
    assert client.get("/tasks/", params=params, headers=auth_headers).status_code == 422


# ---- update and delete --------------------------------------------------------------


@pytest.mark.points(2, hint="task_in.model_dump(exclude_unset=True) holds only what the client sent.")
def test_patch_changes_only_what_is_sent(client, auth_headers):
    """PATCH /tasks/{id} changes the fields sent and keeps the others; a later GET sees the change."""
    task = add(client, auth_headers, "Buy milk", description="Two litres")

    response = client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == {**task, "completed": True}
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == {**task, "completed": True}


@pytest.mark.points(1)
def test_patch_can_clear_the_description(client, auth_headers):
    """PATCH with "description": null clears the description."""
    task = add(client, auth_headers, description="Two litres")

    response = client.patch(f"/tasks/{task['id']}", json={"description": None}, headers=auth_headers)

    assert response.json()["description"] is None


@pytest.mark.points(1, hint="A validator on TaskUpdate can refuse None for title and completed.")
@pytest.mark.parametrize(
    "body",
    [{"title": ""}, {"title": "  "}, {"title": "x" * 201}, {"title": None}, {"completed": None}, {"completed": "perhaps"}],
    ids=["empty title", "blank title", "long title", "null title", "null completed", "not a boolean"],
)
def test_a_bad_patch_is_422_and_changes_nothing(client, auth_headers, body):
    """A PATCH with a bad title or completed answers 422 and leaves the task as it was."""
    task = add(client, auth_headers)

    response = client.patch(f"/tasks/{task['id']}", json=body, headers=auth_headers)

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == task


@pytest.mark.points(2)
def test_delete_answers_204_and_the_task_is_gone(client, auth_headers):
    """DELETE /tasks/{id} answers 204 with no body; the task is then 404, and a second DELETE is 404 too."""
    task = add(client, auth_headers)

    response = client.delete(f"/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).status_code == 404
    assert client.delete(f"/tasks/{task['id']}", headers=auth_headers).status_code == 404


@pytest.mark.points(1)
def test_patch_and_delete_of_a_missing_task_are_404(client, auth_headers):
    """PATCH and DELETE of a task id that does not exist answer 404 "Task not found"."""
    for response in (
        client.patch("/tasks/999", json={"completed": True}, headers=auth_headers),
        client.delete("/tasks/999", headers=auth_headers),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}


# ---- my tasks are mine --------------------------------------------------------------


@pytest.mark.points(2)
def test_the_list_holds_only_my_tasks(client, login):
    """GET /tasks/ answers only the tasks of the user asking, never anyone else's."""
    alice, bob = login("alice"), login("bob")
    add(client, alice, "Alice's task")
    add(client, bob, "Bob's task")

    assert [task["title"] for task in client.get("/tasks/", headers=alice).json()] == ["Alice's task"]
    assert [task["title"] for task in client.get("/tasks/", headers=bob).json()] == ["Bob's task"]


@pytest.mark.points(3, hint="Answer 404 when task.owner_id != user.id, exactly as for a task that does not exist.")
def test_another_users_task_is_404_and_stays_untouched(client, login):
    """Reading, changing or deleting another user's task answers 404 "Task not found", as for a missing task, and the task stays as it was."""
    alice, bob = login("alice"), login("bob")
    task = add(client, alice, "Alice's task")

    answers = [
        client.get(f"/tasks/{task['id']}", headers=bob),
        client.patch(f"/tasks/{task['id']}", json={"title": "Bob was here"}, headers=bob),
        client.delete(f"/tasks/{task['id']}", headers=bob),
    ]

    for response in answers:
        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}
    assert client.get(f"/tasks/{task['id']}", headers=alice).json() == task


# ---- the event loop stays free ------------------------------------------------------


class GatedSessions:
    """Sessions whose commit, once armed, waits until the test opens the gate:
    a database that is slow to answer, at the moment the test chooses."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.armed = False
        self.committing = threading.Event()
        self.gate = threading.Event()

    def __call__(self) -> Iterator:
        from sqlmodel import Session

        outer = self

        class GatedSession(Session):
            def commit(self) -> None:
                if outer.armed:
                    outer.committing.set()
                    outer.gate.wait(10)
                super().commit()

        with GatedSession(self.engine) as session:
            yield session


# --8<-- [start:slow-database]
@pytest.mark.points(
    2, hint="An `async def` endpoint runs on the event loop: with a synchronous session, make it a plain `def`."
)
def test_a_slow_database_does_not_stop_the_server(live_server, temp_database):
    """While one request waits for the database, the server still answers others: database work never blocks the event loop."""
    from app.db import get_session
    from app.main import app

    sessions = GatedSessions(temp_database)
    app.dependency_overrides[get_session] = sessions
    with live_server.client(timeout=5) as http:
        headers = live_server.login(http, "alice")
        sessions.armed = True
        answers: list[httpx.Response] = []
        creating = threading.Thread(
            target=lambda: answers.append(http.post("/tasks/", json={"title": "Slow"}, headers=headers))
        )
        creating.start()
        try:
            assert sessions.committing.wait(5), "POST /tasks/ never reached commit()"
            try:
                health = http.get("/health", timeout=3)
            except httpx.TimeoutException:
                pytest.fail("GET /health got no answer while POST /tasks/ was waiting for the database")
            assert health.status_code == 200
        finally:
            sessions.gate.set()
            creating.join(10)
    assert [response.status_code for response in answers] == [201]
# --8<-- [end:slow-database]
