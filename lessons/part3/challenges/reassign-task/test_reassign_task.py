"""Challenge: PATCH /admin/tasks/{id} gives a task to another user."""

import pytest


def my_id(client, headers: dict[str, str]) -> int:
    return client.get("/auth/me", headers=headers).json()["id"]


def create(client, headers: dict[str, str], title: str = "Buy milk") -> dict:
    response = client.post("/tasks/", json={"title": title, "description": "Two litres"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def reassign(client, headers: dict[str, str], task_id: int, body: dict):
    return client.patch(f"/admin/tasks/{task_id}", json=body, headers=headers)


@pytest.mark.points(3, hint="Set task.owner_id, then add, commit and refresh, as any update does.")
def test_an_admin_can_give_a_task_to_another_user(client, login, admin_headers):
    """PATCH /admin/tasks/{id} {"owner_id": n} answers the task with its new owner; the new owner sees it, the old owner gets 404."""
    alice, bob = login("alice"), login("bob")
    task = create(client, alice)

    response = reassign(client, admin_headers, task["id"], {"owner_id": my_id(client, bob)})

    assert response.status_code == 200
    moved = {**task, "owner_id": my_id(client, bob)}
    assert response.json() == moved
    assert client.get(f"/tasks/{task['id']}", headers=bob).json() == moved
    assert client.get("/tasks/", headers=bob).json() == [moved]
    assert client.get(f"/tasks/{task['id']}", headers=alice).status_code == 404
    assert client.get("/tasks/", headers=alice).json() == []


@pytest.mark.points(1)
def test_reassigning_a_missing_task_is_404(client, admin_headers):
    """Reassigning a task that does not exist answers 404 {"detail": "Task not found"}."""
    response = reassign(client, admin_headers, 999, {"owner_id": my_id(client, admin_headers)})

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.points(2, hint="session.get(User, owner_id) is None when there is no such user.")
def test_reassigning_to_a_missing_user_is_404(client, admin_headers):
    """Giving a task to a user who does not exist answers 404 {"detail": "User not found"}, and the task keeps its owner."""
    task = create(client, admin_headers)

    response = reassign(client, admin_headers, task["id"], {"owner_id": 424242})

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}
    assert client.get(f"/tasks/{task['id']}", headers=admin_headers).json() == task


@pytest.mark.points(1, hint="SQLite cannot even look up a number above 2**63 - 1: bound owner_id with Field(le=...).")
def test_a_huge_owner_id_is_refused_calmly(client, admin_headers):
    """An owner_id too large for the database (2**63) answers 422, or 404 "User not found", not a server error."""
    task = create(client, admin_headers)

    response = reassign(client, admin_headers, task["id"], {"owner_id": 2**63})

    assert response.status_code == 422 or response.json() == {"detail": "User not found"}


@pytest.mark.points(2, hint="Take an AdminUser, like the other /admin endpoints.")
def test_only_admins_can_reassign_tasks(client, auth_headers):
    """A user who is not an admin gets 403, even for their own task, and without a token the answer is 401."""
    task = create(client, auth_headers)

    assert reassign(client, auth_headers, task["id"], {"owner_id": 424242}).status_code == 403
    response = reassign(client, {}, task["id"], {"owner_id": 424242})
    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).json() == task


@pytest.mark.points(1, hint="A body model with one required field: owner_id: int.")
def test_the_new_owner_must_be_given(client, admin_headers):
    """A body without owner_id, or with an owner_id that is not a number, answers 422."""
    task = create(client, admin_headers)

    for body in ({}, {"owner_id": "bob"}, {"title": "Something else"}):
        assert reassign(client, admin_headers, task["id"], body).status_code == 422, body
