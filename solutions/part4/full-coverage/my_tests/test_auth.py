"""My tests of /auth: registering, logging in, and asking who I am."""

PASSWORD = "correct horse battery"


def register(client, username, password=PASSWORD):
    return client.post("/auth/register", json={"username": username, "password": password})


def log_in(client, username, password=PASSWORD):
    return client.post("/auth/token", data={"username": username, "password": password})


def test_register_returns_the_new_user_without_the_password(client):
    response = register(client, "alice")

    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "alice"
    assert body["is_admin"] is False
    assert "password" not in body and "hashed_password" not in body


def test_a_username_can_be_taken_only_once_whatever_its_case(client):
    assert register(client, "alice").status_code == 201

    response = register(client, "ALICE")

    assert response.status_code == 409
    assert response.json() == {"detail": "Username already taken"}


def test_two_registrations_at_the_same_moment_still_give_409(client, monkeypatch):
    # Two requests can both find the name free before either of them saves it.
    # Pretend that happened: the check says "free", but the name is already saved.
    assert register(client, "alice").status_code == 201
    monkeypatch.setattr("app.routers.auth.get_user_by_username", lambda session, username: None)

    response = register(client, "alice")

    assert response.status_code == 409
    assert response.json() == {"detail": "Username already taken"}


def test_logging_in_gives_a_bearer_token(client):
    register(client, "alice")

    response = log_in(client, "alice")

    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.json()["access_token"]


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client):
    register(client, "alice")

    wrong_password = log_in(client, "alice", "not the password")
    unknown_user = log_in(client, "nobody")

    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect username or password"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_deactivated_user_cannot_log_in(client, admin_headers):
    user_id = register(client, "alice").json()["id"]
    client.patch(f"/admin/users/{user_id}", json={"is_active": False}, headers=admin_headers)

    response = log_in(client, "alice")

    assert response.status_code == 403
    assert response.json() == {"detail": "Inactive user"}


def test_me_is_the_logged_in_user(client, auth_headers):
    response = client.get("/auth/me", headers=auth_headers)

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_me_needs_a_token(client):
    response = client.get("/auth/me")

    assert response.status_code == 401
