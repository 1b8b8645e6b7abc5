"""The admin area: /admin/users and /admin/tasks, for admins only."""

import pytest

PASSWORD = "correct horse battery"
ADMIN_ROUTES = [
    ("GET", "/admin/users", None),
    ("GET", "/admin/tasks", None),
    ("PATCH", "/admin/users/1", {"is_admin": True}),
]


def me(client, headers: dict[str, str]) -> dict:
    return client.get("/auth/me", headers=headers).json()


def patch_user(client, headers: dict[str, str], user_id: int, **changes):
    return client.patch(f"/admin/users/{user_id}", json=changes, headers=headers)


@pytest.mark.points(1, hint="AdminUser depends on CurrentUser, which needs the token.")
@pytest.mark.parametrize("method, path, body", ADMIN_ROUTES, ids=["list users", "list tasks", "update user"])
def test_admin_routes_need_a_token(client, method, path, body):
    """Without a token, every /admin route answers 401 with WWW-Authenticate: Bearer."""
    response = client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.points(2, hint="Use the AdminUser dependency on every admin endpoint.")
def test_admin_routes_are_403_for_everybody_else(client, auth_headers):
    """A logged-in user who is not an admin gets 403 on every /admin route, and cannot make themselves an admin."""
    alice = me(client, auth_headers)

    for method, path, body in [*ADMIN_ROUTES, ("PATCH", f"/admin/users/{alice['id']}", {"is_admin": True})]:
        response = client.request(method, path, json=body, headers=auth_headers)
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"

    assert me(client, auth_headers)["is_admin"] is False


@pytest.mark.points(2)
def test_an_admin_lists_every_user(client, admin_headers, auth_headers):
    """GET /admin/users answers every user with their id, username, is_admin and is_active."""
    response = client.get("/admin/users", headers=admin_headers)

    assert response.status_code == 200
    users = {user["username"]: user for user in response.json()}
    assert set(users) == {"root", "alice"}
    assert {"id", "username", "is_admin", "is_active"} <= set(users["alice"])
    assert users["alice"]["id"] == me(client, auth_headers)["id"]
    assert users["alice"]["is_admin"] is False
    assert users["alice"]["is_active"] is True
    assert users["root"]["is_admin"] is True


@pytest.mark.points(2)
def test_an_admin_lists_every_task(client, admin_headers, auth_headers):
    """GET /admin/tasks answers the tasks of every user, each with its owner_id."""
    alices = client.post("/tasks/", json={"title": "Alice's"}, headers=auth_headers).json()
    roots = client.post("/tasks/", json={"title": "Root's"}, headers=admin_headers).json()

    response = client.get("/admin/tasks", headers=admin_headers)

    assert response.status_code == 200
    assert sorted(response.json(), key=lambda task: task["id"]) == [alices, roots]


@pytest.mark.points(2, hint="user.sqlmodel_update(user_in.model_dump(exclude_unset=True)).")
def test_an_admin_can_make_a_user_admin_and_back(client, admin_headers, auth_headers):
    """PATCH /admin/users/{id} {"is_admin": true} makes a user an admin (and only that), and false takes it back."""
    alice = me(client, auth_headers)

    response = patch_user(client, admin_headers, alice["id"], is_admin=True)

    assert response.status_code == 200
    assert response.json()["is_admin"] is True
    assert response.json()["is_active"] is True, "only the fields sent should change"
    assert client.get("/admin/users", headers=auth_headers).status_code == 200

    assert patch_user(client, admin_headers, alice["id"], is_admin=False).json()["is_admin"] is False
    assert client.get("/admin/users", headers=auth_headers).status_code == 403


@pytest.mark.points(2)
def test_an_admin_can_deactivate_and_reactivate_a_user(client, admin_headers, auth_headers):
    """A user an admin deactivates gets 403 with their token and cannot log in; reactivated, their token works again."""
    alice = me(client, auth_headers)

    response = patch_user(client, admin_headers, alice["id"], is_active=False)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.get("/auth/me", headers=auth_headers).status_code == 403
    login = client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
    assert login.status_code in (401, 403), "a deactivated user should not get a token"

    assert patch_user(client, admin_headers, alice["id"], is_active=True).status_code == 200
    assert client.get("/auth/me", headers=auth_headers).status_code == 200


@pytest.mark.points(1, hint="session.get(User, user_id) is None when there is no such user.")
def test_patching_a_user_that_does_not_exist_is_404(client, admin_headers):
    """PATCH /admin/users/{id} for an id that belongs to nobody answers 404."""
    assert patch_user(client, admin_headers, 424242, is_admin=True).status_code == 404
    assert patch_user(client, admin_headers, 2**63, is_admin=True).status_code in (404, 422)


@pytest.mark.points(2, hint="Compare the id of the user being changed with the id of the admin asking.")
def test_an_admin_cannot_demote_or_deactivate_themselves(client, admin_headers):
    """An admin who tries to take away their own admin rights or deactivate themselves gets 409, and stays an active admin."""
    root = me(client, admin_headers)

    assert patch_user(client, admin_headers, root["id"], is_admin=False).status_code == 409
    assert patch_user(client, admin_headers, root["id"], is_active=False).status_code == 409

    users = client.get("/admin/users", headers=admin_headers)
    assert users.status_code == 200
    (root_now,) = [user for user in users.json() if user["id"] == root["id"]]
    assert root_now["is_admin"] is True
    assert root_now["is_active"] is True
