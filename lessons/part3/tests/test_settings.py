"""Settings and start-up, on a real server: the first admin, SECRET_KEY, token lifetime.

These tests start the app with uvicorn in a process of its own (the `serve`
and `live_server` fixtures of conftest.py), with the settings in its
environment and a fresh SQLite database, and talk to it over HTTP.
"""

import re
import time
from types import SimpleNamespace

import jwt
import pytest

SECRET_KEY = "a secret key for the tests, long enough for HS256"
PASSWORD = "correct horse battery"


def log_in(http, username: str, password: str) -> str:
    response = http.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, f"logging in as {username}: {response.status_code} {response.text}"
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def lifetime_in_minutes(token: str, issued_at: float) -> float:
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    return (expires - issued_at) / 60


def first_admin(server) -> tuple[str, str]:
    return server.settings["FIRST_ADMIN_USERNAME"], server.settings["FIRST_ADMIN_PASSWORD"]


def lines_about_the_key(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"secret[ _]key", line, re.IGNORECASE)]


@pytest.fixture(scope="module")
def restarted(serve, tmp_path_factory):
    """A server with a SECRET_KEY, stopped after a user logged in, and started again on the same database."""
    database = tmp_path_factory.mktemp("database") / "tasks.db"
    settings = {
        "SECRET_KEY": SECRET_KEY,
        "FIRST_ADMIN_USERNAME": "boss",
        "FIRST_ADMIN_PASSWORD": "the boss's passphrase",
    }
    before = serve(database, **settings)
    with before.client() as http:
        assert http.post("/auth/register", json={"username": "dora", "password": PASSWORD}).status_code == 201
        issued_at = time.time()
        token = log_in(http, "dora", PASSWORD)
    before.stop()
    after = serve(database, **settings)
    return SimpleNamespace(before=before, after=after, token=token, issued_at=issued_at)


@pytest.mark.points(3, hint="create_first_admin() in the lifespan, reading FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD.")
def test_the_first_admin_is_created_at_startup(live_server):
    """Started with FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD, the server has that admin: they log in and see /admin/users."""
    admin, password = first_admin(live_server)
    with live_server.client() as http:
        headers = bearer(log_in(http, admin, password))
        response = http.get("/admin/users", headers=headers)

    assert response.status_code == 200
    admins = [user for user in response.json() if user["username"] == admin]
    assert len(admins) == 1
    assert admins[0]["is_admin"] is True


@pytest.mark.points(1, hint="Check whether the user exists before creating them.")
def test_the_first_admin_is_created_only_once(restarted):
    """Started a second time with the same settings and database, the server keeps its one first admin and its other users."""
    admin, password = first_admin(restarted.after)
    with restarted.after.client() as http:
        headers = bearer(log_in(http, admin, password))
        users = [user["username"].lower() for user in http.get("/admin/users", headers=headers).json()]

    assert users.count(admin) == 1
    assert "dora" in users


@pytest.mark.points(2, hint="Log one warning in get_settings() when secret_key is None; get_settings is cached.")
def test_without_a_secret_key_the_server_says_so_once_and_works(live_server):
    """With no SECRET_KEY the server still starts and hands out working tokens, and its log says once that tokens will not survive a restart."""
    with live_server.client() as http:
        response = http.get("/auth/me", headers=bearer(log_in(http, *first_admin(live_server))))
    assert response.status_code == 200

    warnings = lines_about_the_key(live_server.log)
    assert len(warnings) == 1, f"expected one line about the secret key in the log, found {len(warnings)}"
    assert "restart" in warnings[0].lower(), "the line should say that tokens will not survive a restart"


@pytest.mark.points(2, hint="Sign and check tokens with settings.secret_key, read from the environment.")
def test_with_a_secret_key_tokens_survive_a_restart(restarted):
    """With SECRET_KEY set, a token issued before the server restarted still works after it, and the log says nothing about the key."""
    with restarted.after.client() as http:
        response = http.get("/auth/me", headers=bearer(restarted.token))

    assert response.status_code == 200
    assert response.json()["username"] == "dora"
    assert lines_about_the_key(restarted.before.log + restarted.after.log) == []


@pytest.mark.points(1, hint="timedelta(minutes=settings.access_token_expire_minutes).")
def test_tokens_last_access_token_expire_minutes(live_server, restarted):
    """Tokens expire ACCESS_TOKEN_EXPIRE_MINUTES after they are issued: 30 minutes unless the setting says otherwise."""
    assert lifetime_in_minutes(restarted.token, restarted.issued_at) == pytest.approx(30, abs=1)

    with live_server.client() as http:
        issued_at = time.time()
        token = log_in(http, *first_admin(live_server))
    assert lifetime_in_minutes(token, issued_at) == pytest.approx(5, abs=1)
