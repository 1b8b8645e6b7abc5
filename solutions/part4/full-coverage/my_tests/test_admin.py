"""My tests of /admin: what an admin can see and change, and who else cannot."""


def test_an_admin_sees_every_user(client, admin_headers, login):
    login("alice")

    response = client.get("/admin/users", headers=admin_headers)

    assert response.status_code == 200
    assert [user["username"] for user in response.json()] == ["root", "alice"]
    assert all(user["is_active"] for user in response.json())


def test_an_admin_sees_every_users_tasks(client, admin_headers, login):
    alice, bob = login("alice"), login("bob")
    client.post("/tasks/", json={"title": "Buy milk"}, headers=alice)
    client.post("/tasks/", json={"title": "Walk the dog"}, headers=bob)

    response = client.get("/admin/tasks", headers=admin_headers)

    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == ["Buy milk", "Walk the dog"]


def test_admin_pages_are_for_admins_only(client, auth_headers):
    assert client.get("/admin/users", headers=auth_headers).status_code == 403
    assert client.get("/admin/tasks").status_code == 401


def test_an_admin_can_make_another_user_admin(client, admin_headers, auth_headers):
    alice = client.get("/auth/me", headers=auth_headers).json()

    response = client.patch(f"/admin/users/{alice['id']}", json={"is_admin": True}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json()["is_admin"] is True
    assert client.get("/admin/users", headers=auth_headers).status_code == 200


def test_changing_a_missing_user_is_404(client, admin_headers):
    response = client.patch("/admin/users/999", json={"is_active": False}, headers=admin_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_an_admin_cannot_lock_themselves_out(client, admin_headers):
    me = client.get("/auth/me", headers=admin_headers).json()

    demote = client.patch(f"/admin/users/{me['id']}", json={"is_admin": False}, headers=admin_headers)
    deactivate = client.patch(f"/admin/users/{me['id']}", json={"is_active": False}, headers=admin_headers)

    assert demote.status_code == 400
    assert deactivate.status_code == 400
    assert client.get("/admin/users", headers=admin_headers).status_code == 200


def test_an_admin_may_still_change_themselves_harmlessly(client, admin_headers):
    me = client.get("/auth/me", headers=admin_headers).json()

    response = client.patch(f"/admin/users/{me['id']}", json={"is_active": True}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json()["is_admin"] is True
