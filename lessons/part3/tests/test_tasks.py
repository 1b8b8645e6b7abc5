"""The task API of Parts 1 and 2, now behind a login: every user has their own tasks."""

from datetime import UTC, datetime, timedelta

import pytest

TASK_FIELDS = {"id", "title", "description", "completed", "created_at", "owner_id"}


def my_id(client, headers: dict[str, str]) -> int:
    return client.get("/auth/me", headers=headers).json()["id"]


def create(client, headers: dict[str, str], **fields) -> dict:
    response = client.post("/tasks/", json={"title": "Buy milk", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.points(2, hint="Add `user: CurrentUser` to the parameters of every endpoint.")
@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/tasks/"),
        ("GET", "/tasks/"),
        ("GET", "/tasks/1"),
        ("PATCH", "/tasks/1"),
        ("DELETE", "/tasks/1"),
    ],
)
def test_every_task_route_needs_a_token(client, method, path):
    """Without a token, every /tasks route answers 401 with WWW-Authenticate: Bearer."""
    body = {"title": "Buy milk"} if method in ("POST", "PATCH") else None

    response = client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.points(2, hint="Task.model_validate(task_in, update={'owner_id': user.id}).")
def test_creating_a_task_answers_201_with_its_owner(client, auth_headers):
    """POST /tasks/ answers 201 with the new task: its fields, a server-made id, created_at in UTC, and the logged-in user as owner_id."""
    before = datetime.now(UTC)

    response = client.post(
        "/tasks/", json={"title": "Buy milk", "description": "Two litres"}, headers=auth_headers
    )

    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert task["title"] == "Buy milk"
    assert task["description"] == "Two litres"
    assert task["completed"] is False
    assert isinstance(task["id"], int)
    assert task["owner_id"] == my_id(client, auth_headers)
    created_at = datetime.fromisoformat(task["created_at"])
    assert created_at.utcoffset() == timedelta(0), "created_at should say that it is in UTC"
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)


@pytest.mark.points(2, hint="TaskCreate has no id and no owner_id: the server sets both.")
def test_the_client_cannot_choose_the_id_or_the_owner(client, auth_headers):
    """An id or an owner_id sent with a new task is not used: the server picks the id, and the owner is whoever is logged in."""
    response = client.post(
        "/tasks/", json={"title": "Buy milk", "id": 999, "owner_id": 424242}, headers=auth_headers
    )

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    assert response.status_code == 201
    assert response.json()["id"] != 999
    assert response.json()["owner_id"] == my_id(client, auth_headers)


@pytest.mark.points(2, hint="The Title and Description types carry the limits.")
def test_invalid_tasks_answer_422(client, auth_headers):
    """A task without a title, with a blank or too long title (over 200), or a too long description (over 2000) answers 422."""
    invalid = [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "Buy milk", "description": "x" * 2001},
        {"title": "Buy milk", "completed": "maybe"},
    ]
    for body in invalid:
        response = client.post("/tasks/", json=body, headers=auth_headers)
        assert response.status_code == 422, f"POST /tasks/ {body!r:.60} answered {response.status_code}"

    assert client.get("/tasks/", headers=auth_headers).json() == [], "no invalid task should be saved"


@pytest.mark.points(1)
def test_titles_are_trimmed_and_the_limits_are_inclusive(client, auth_headers):
    """Spaces around a title are trimmed, and a 200-character title with a 2000-character description is accepted."""
    assert create(client, auth_headers, title="  Buy milk  ")["title"] == "Buy milk"
    create(client, auth_headers, title="x" * 200, description="y" * 2000)


@pytest.mark.points(2, hint="Filter the query: select(Task).where(Task.owner_id == user.id).")
def test_the_list_holds_only_your_own_tasks(client, login):
    """GET /tasks/ lists the logged-in user's tasks, in creation order, and none of anybody else's."""
    alice, bob = login("alice"), login("bob")
    first = create(client, alice, title="Alice's first")
    create(client, bob, title="Bob's")
    second = create(client, alice, title="Alice's second")

    response = client.get("/tasks/", headers=alice)

    assert response.status_code == 200
    assert response.json() == [first, second]
    assert [task["title"] for task in client.get("/tasks/", headers=bob).json()] == ["Bob's"]


@pytest.mark.points(1, hint="Query(ge=..., le=...) on offset and limit.")
def test_the_list_filters_and_pages(client, auth_headers):
    """GET /tasks/ filters on ?completed= and pages with ?offset= and ?limit= (1 to 100); other values answer 422."""
    tasks = [create(client, auth_headers, title=f"Task {n}", completed=n % 2 == 0) for n in range(4)]

    def titles(query: str) -> list[str]:
        response = client.get(f"/tasks/?{query}", headers=auth_headers)
        assert response.status_code == 200, query
        return [task["title"] for task in response.json()]

    assert titles("completed=true") == [tasks[0]["title"], tasks[2]["title"]]
    assert titles("completed=false") == [tasks[1]["title"], tasks[3]["title"]]
    assert titles("offset=1&limit=2") == [tasks[1]["title"], tasks[2]["title"]]
    for query in ("limit=0", "limit=101", "offset=-1"):
        assert client.get(f"/tasks/?{query}", headers=auth_headers).status_code == 422, query


@pytest.mark.points(1)
def test_reading_a_task_and_a_missing_one(client, auth_headers):
    """GET /tasks/{id} answers your task, and 404 {"detail": "Task not found"} for an id that does not exist."""
    task = create(client, auth_headers)

    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == task
    missing = client.get("/tasks/999", headers=auth_headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Task not found"}


@pytest.mark.points(2, hint="task_in.model_dump(exclude_unset=True) keeps only the fields the client sent.")
def test_patch_changes_only_the_fields_sent(client, auth_headers):
    """PATCH /tasks/{id} changes the fields it is sent and keeps the others as they were."""
    task = create(client, auth_headers, title="Buy milk", description="Two litres")

    response = client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == {**task, "completed": True}
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == {**task, "completed": True}


@pytest.mark.points(1)
def test_an_invalid_patch_answers_422_and_changes_nothing(client, auth_headers):
    """A PATCH with a blank or too long title answers 422 and leaves the task as it was."""
    task = create(client, auth_headers)

    for body in ({"title": ""}, {"title": "   "}, {"title": "x" * 201}):
        assert client.patch(f"/tasks/{task['id']}", json=body, headers=auth_headers).status_code == 422

    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == task


@pytest.mark.points(1)
def test_delete_answers_204_and_the_task_is_gone(client, auth_headers):
    """DELETE /tasks/{id} answers 204 with no body; afterwards the task answers 404, and deleting it again too."""
    task = create(client, auth_headers)

    response = client.delete(f"/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).status_code == 404
    assert client.delete(f"/tasks/{task['id']}", headers=auth_headers).status_code == 404


# --8<-- [start:not-yours]
@pytest.mark.points(3, hint="One helper that finds the user's own task, or raises the same 404 as for a missing id.")
def test_another_users_task_answers_404_exactly_like_a_missing_one(client, login):
    """Reading, changing or deleting somebody else's task answers exactly what a missing task answers (404, same body), and the task stays untouched."""
    alice, bob = login("alice"), login("bob")
    task = create(client, alice, title="Alice's secret")

    missing = client.get("/tasks/999", headers=bob)
    attempts = {
        "GET": client.get(f"/tasks/{task['id']}", headers=bob),
        "PATCH": client.patch(f"/tasks/{task['id']}", json={"title": "Hacked"}, headers=bob),
        "DELETE": client.delete(f"/tasks/{task['id']}", headers=bob),
    }

    for method, response in attempts.items():
        assert response.status_code == 404, f"{method} of another user's task answered {response.status_code}"
        assert response.json() == missing.json(), f"{method} should answer exactly like a missing task"
    assert client.get(f"/tasks/{task['id']}", headers=alice).json() == task
# --8<-- [end:not-yours]


@pytest.mark.points(1, hint="TaskUpdate has no owner_id field.")
def test_a_task_cannot_be_given_away_with_patch(client, login):
    """Sending owner_id in a PATCH does not move the task: it stays yours, and the other user cannot see it."""
    alice, bob = login("alice"), login("bob")
    task = create(client, alice)

    response = client.patch(f"/tasks/{task['id']}", json={"owner_id": my_id(client, bob)}, headers=alice)

    assert response.status_code in (200, 422)
    assert client.get(f"/tasks/{task['id']}", headers=alice).json() == task
    assert client.get(f"/tasks/{task['id']}", headers=bob).status_code == 404
