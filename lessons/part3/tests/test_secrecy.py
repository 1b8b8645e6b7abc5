"""Secrets stay secret: no password, hash or token in an answer or in the server's log."""

import pytest

HASH_PREFIX = "$argon2"


def assert_no_secret(response, *secrets: str) -> None:
    for secret in (*secrets, HASH_PREFIX):
        assert secret not in response.text, (
            f"{response.request.method} {response.request.url.path} answered something it should keep secret"
        )


@pytest.mark.points(3, hint="Answer with UserPublic or UserAdminView, never with the User table model.")
def test_no_answer_shows_a_password_or_a_hash(client, admin_headers):
    """Registering, logging in, /auth/me and the admin's user list and update answer neither the password nor its hash."""
    password = "alice's very own passphrase"

    register = client.post("/auth/register", json={"username": "alice", "password": password})
    login = client.post("/auth/token", data={"username": "alice", "password": password})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = client.get("/auth/me", headers=headers)
    users = client.get("/admin/users", headers=admin_headers)
    update = client.patch(f"/admin/users/{me.json()['id']}", json={"is_active": True}, headers=admin_headers)

    for response in (register, login, me, users, update):
        assert response.status_code in (200, 201), f"{response.request.url.path}: {response.status_code}"
        assert_no_secret(response, password)


@pytest.mark.points(2, hint="FastAPI's 422 repeats the input it rejected: app/core/errors.py leaves it out.")
@pytest.mark.parametrize(
    "body, password",
    [
        ({"username": "alice", "password": "Sh0rt!"}, "Sh0rt!"),
        ({"username": "alice", "password": "Too-L0ng!" * 15}, "Too-L0ng!" * 15),
        ({"password": "a perfectly good passphrase"}, "a perfectly good passphrase"),
        ({"username": "no spaces", "password": "a perfectly good passphrase"}, "a perfectly good passphrase"),
        ({"username": "alice", "password": ["in", "a", "list, oddly"]}, "list, oddly"),
    ],
    ids=["too short", "too long", "no username", "bad username", "not a string"],
)
def test_a_rejected_registration_does_not_repeat_the_password(client, body, password):
    """A registration rejected with 422 does not repeat the password it was sent, whatever was wrong with it."""
    response = client.post("/auth/register", json=body)

    assert response.status_code == 422
    assert password not in response.text


@pytest.mark.points(1)
def test_a_malformed_request_does_not_repeat_the_password(client):
    """A registration that is not even valid JSON answers 422 without repeating what it was sent."""
    response = client.post(
        "/auth/register",
        content=b'{"username": "alice", "password": "a perfectly good passphrase"',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert "a perfectly good passphrase" not in response.text


@pytest.mark.points(3, hint="Never log a request body, a password, a hash or an Authorization header.")
def test_the_server_log_shows_no_password_hash_or_token(live_server):
    """After a session of registering, logging in (also with a wrong password), working with tasks and admin calls, the server's log holds no password, no hash and no token."""
    admin = live_server.settings["FIRST_ADMIN_USERNAME"]
    admin_password = live_server.settings["FIRST_ADMIN_PASSWORD"]
    password, wrong_password, rejected_password = "erin's own passphrase", "erin's wrong guess", "Sh0rt!"
    tokens = []

    with live_server.client() as http:
        register = {"username": "erin", "password": rejected_password}
        assert http.post("/auth/register", json=register).status_code == 422
        register = {"username": "erin", "password": password}
        assert http.post("/auth/register", json=register).status_code == 201
        for username in ("erin", "nobody"):
            wrong = {"username": username, "password": wrong_password}
            assert http.post("/auth/token", data=wrong).status_code == 401
        for username, secret in (("erin", password), (admin, admin_password)):
            response = http.post("/auth/token", data={"username": username, "password": secret})
            assert response.status_code == 200
            tokens.append(response.json()["access_token"])
        as_erin, as_admin = ({"Authorization": f"Bearer {token}"} for token in tokens)
        erin_id = http.get("/auth/me", headers=as_erin).json()["id"]
        task = http.post("/tasks/", json={"title": "Water the plants"}, headers=as_erin).json()
        http.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=as_erin)
        http.get("/tasks/", headers=as_erin)
        http.get("/admin/users", headers=as_admin)
        http.get("/admin/tasks", headers=as_admin)
        http.patch(f"/admin/users/{erin_id}", json={"is_admin": True}, headers=as_admin)
        http.get("/auth/me", headers={"Authorization": "Bearer not-a-valid-token"})

    log = live_server.log
    assert "/auth/token" in log, "the server's log was not captured (no request in it)"
    for secret in (password, wrong_password, rejected_password, admin_password):
        assert secret not in log, "a password is in the server's log"
    assert HASH_PREFIX not in log, "a password hash is in the server's log"
    for token in tokens:
        assert token not in log, "an access token is in the server's log"
        assert token.split(".")[2] not in log, "a token's signature is in the server's log"
