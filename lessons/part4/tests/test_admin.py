"""/admin: every user and every task, for admins only."""

import pytest

ADMIN_ENDPOINTS = [("GET", "/admin/users"), ("GET", "/admin/tasks"), ("PATCH", "/admin/users/1")]


def user_id(client, headers) -> int:
    return client.get("/auth/me", headers=headers).json()["id"]


@pytest.mark.points(2, hint="Depend on AdminUser, which answers 403 for a user who is not an admin.")
@pytest.mark.parametrize("method, path", ADMIN_ENDPOINTS)
def test_admin_endpoints_are_403_for_a_user_who_is_not_an_admin(client, auth_headers, method, path):
    """A logged-in user who is not an admin is answered 403 on every /admin endpoint."""
    response = client.request(method, path, json={"is_admin": True}, headers=auth_headers)

    assert response.status_code == 403
    assert client.get("/auth/me", headers=auth_headers).json()["is_admin"] is False


@pytest.mark.points(1)
@pytest.mark.parametrize("method, path", ADMIN_ENDPOINTS)
def test_admin_endpoints_are_401_without_a_token(client, method, path):
    """Without a token, every /admin endpoint answers 401 with WWW-Authenticate: Bearer."""
    response = client.request(method, path, json={"is_admin": True})

    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower() == "bearer"


@pytest.mark.points(2)
def test_an_admin_lists_every_user(client, login, admin_headers):
    """GET /admin/users answers every user with {id, username, is_admin, is_active}, and no password or hash."""
    login("alice")
    login("bob")

    response = client.get("/admin/users", headers=admin_headers)

    assert response.status_code == 200
    users = response.json()
    assert [user["username"] for user in users] == ["root", "alice", "bob"]
    assert all(set(user) == {"id", "username", "is_admin", "is_active"} for user in users)
    assert [user["is_admin"] for user in users] == [True, False, False]


@pytest.mark.points(2)
def test_an_admin_lists_every_users_tasks(client, login, admin_headers):
    """GET /admin/tasks answers the tasks of all users, with their owner_id."""
    alice, bob = login("alice"), login("bob")
    client.post("/tasks/", json={"title": "Alice's task"}, headers=alice)
    client.post("/tasks/", json={"title": "Bob's task"}, headers=bob)

    response = client.get("/admin/tasks", headers=admin_headers)

    assert response.status_code == 200
    tasks = response.json()
    assert [task["title"] for task in tasks] == ["Alice's task", "Bob's task"]
    assert [task["owner_id"] for task in tasks] == [user_id(client, alice), user_id(client, bob)]


@pytest.mark.points(2)
def test_an_admin_can_make_another_admin(client, auth_headers, admin_headers):
    """PATCH /admin/users/{id} with {"is_admin": true} makes that user an admin, who can then use /admin."""
    alice = user_id(client, auth_headers)

    response = client.patch(f"/admin/users/{alice}", json={"is_admin": True}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json()["is_admin"] is True
    assert client.get("/admin/users", headers=auth_headers).status_code == 200


@pytest.mark.points(2, hint="get_current_user answers 403 when user.is_active is false.")
def test_an_admin_can_deactivate_and_reactivate_a_user(client, auth_headers, admin_headers):
    """A user deactivated by an admin is answered 403, even with a token issued before; reactivated, they get in again."""
    alice = user_id(client, auth_headers)

    response = client.patch(f"/admin/users/{alice}", json={"is_active": False}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.get("/tasks/", headers=auth_headers).status_code == 403

    client.patch(f"/admin/users/{alice}", json={"is_active": True}, headers=admin_headers)
    assert client.get("/tasks/", headers=auth_headers).status_code == 200


@pytest.mark.points(1)
def test_patching_a_missing_user_is_404(client, admin_headers):
    """PATCH /admin/users/{id} of a user that does not exist answers 404 "User not found"."""
    response = client.patch("/admin/users/4242", json={"is_admin": True}, headers=admin_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.points(1)
@pytest.mark.parametrize("user_id", [str(2**63), str(-(2**63) - 1), "abc"])
def test_a_user_id_that_is_no_user_id_is_422(client, admin_headers, user_id):
    """A user id that is not a whole number, or outside the database's 64-bit range, answers 422 (never 500)."""
    response = client.patch(f"/admin/users/{user_id}", json={"is_admin": True}, headers=admin_headers)

    assert response.status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize("body", [{"is_admin": False}, {"is_active": False}])
def test_an_admin_cannot_lock_themselves_out(client, admin_headers, body):
    """An admin cannot demote or deactivate themselves (409): there must always be a way back in."""
    me = user_id(client, admin_headers)

    response = client.patch(f"/admin/users/{me}", json=body, headers=admin_headers)

    assert response.status_code == 409
    assert client.get("/admin/users", headers=admin_headers).status_code == 200


@pytest.mark.points(1)
def test_an_empty_patch_changes_nothing(client, auth_headers, admin_headers):
    """PATCH /admin/users/{id} with {} answers the user unchanged."""
    alice = user_id(client, auth_headers)

    response = client.patch(f"/admin/users/{alice}", json={}, headers=admin_headers)

    assert response.status_code == 200
    assert (response.json()["is_admin"], response.json()["is_active"]) == (False, True)
