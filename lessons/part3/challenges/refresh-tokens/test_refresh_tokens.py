"""Challenge: refresh tokens, exchanged at POST /auth/refresh for new access tokens."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import select

PASSWORD = "correct horse battery"


def log_in(client, username: str = "alice") -> dict:
    """Register `username`, log in, and return the answer of POST /auth/token."""
    response = client.post("/auth/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    response = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert "refresh_token" in tokens, "POST /auth/token answers no refresh_token yet"
    return tokens


def refresh(client, refresh_token: str):
    return client.post("/auth/refresh", json={"refresh_token": refresh_token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def base64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_rejected(response) -> None:
    assert response.status_code == 401, f"expected 401, got {response.status_code}: {response.text}"
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.points(2, hint="Make a second token with create_refresh_token() and answer both.")
def test_login_answers_an_access_token_and_a_refresh_token(client):
    """POST /auth/token answers {access_token, refresh_token, token_type: "bearer"}, two different tokens."""
    tokens = log_in(client)

    assert tokens["token_type"] == "bearer"
    assert isinstance(tokens["refresh_token"], str)
    assert tokens["refresh_token"] != tokens["access_token"]


@pytest.mark.points(1, hint='Add "type": "access" or "type": "refresh" to the payload you sign.')
def test_each_token_says_what_it_is_for(client):
    """The access token carries the claim "type": "access" and the refresh token "type": "refresh"."""
    tokens = log_in(client)

    assert claims(tokens["access_token"])["type"] == "access"
    assert claims(tokens["refresh_token"])["type"] == "refresh"


@pytest.mark.points(1, hint="A setting refresh_token_expire_minutes, next to access_token_expire_minutes.")
def test_refresh_tokens_last_a_week(client):
    """The refresh token expires 7 days after login, while the access token still expires after 30 minutes."""
    issued_at = time.time()
    tokens = log_in(client)

    access_minutes = (claims(tokens["access_token"])["exp"] - issued_at) / 60
    refresh_days = (claims(tokens["refresh_token"])["exp"] - issued_at) / 86400
    assert access_minutes == pytest.approx(30, abs=1)
    assert refresh_days == pytest.approx(7, abs=0.01)


@pytest.mark.points(3, hint="Read the refresh token, find its user, and answer Token(access_token=...).")
def test_a_refresh_token_buys_a_new_access_token(client):
    """POST /auth/refresh {"refresh_token": ...} answers 200 {access_token, token_type: "bearer"}, and that access token opens /auth/me."""
    tokens = log_in(client)

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    me = client.get("/auth/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


@pytest.mark.points(2, hint="Check the type claim when you read a refresh token.")
def test_an_access_token_is_not_a_refresh_token(client):
    """Sending an access token to POST /auth/refresh answers 401 with WWW-Authenticate: Bearer."""
    tokens = log_in(client)

    assert_rejected(refresh(client, tokens["access_token"]))


@pytest.mark.points(2, hint="Check the type claim when you read an access token, in get_current_user.")
def test_a_refresh_token_is_not_an_access_token(client):
    """A refresh token used as a bearer token answers 401 on /auth/me and on /tasks/: it only buys access tokens."""
    tokens = log_in(client)

    assert_rejected(client.get("/auth/me", headers=bearer(tokens["refresh_token"])))
    assert_rejected(client.get("/tasks/", headers=bearer(tokens["refresh_token"])))


@pytest.mark.points(2, hint="The same jwt.decode(..., algorithms=['HS256']) as for access tokens protects refresh tokens.")
def test_a_bad_refresh_token_is_401(client):
    """A refresh token that is garbage, signed with another key, unsigned ("alg": "none") or expired answers 401."""
    from app.config import get_settings

    key = get_settings().secret_key.get_secret_value()
    real = claims(log_in(client)["refresh_token"])
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    bad_tokens = {
        "garbage": "not-a-token",
        "another key": jwt.encode(real, "somebody else's key, not the server's own", algorithm="HS256"),
        "alg none": base64url({"alg": "none", "typ": "JWT"}) + "." + base64url(real) + ".",
        "expired": jwt.encode({**real, "exp": past}, key, algorithm="HS256"),
    }

    for name, token in bad_tokens.items():
        response = refresh(client, token)
        assert response.status_code == 401, f"a refresh token that is {name} answered {response.status_code}"


@pytest.mark.points(1, hint="After reading the token, look the user up and check is_active, as get_current_user does.")
def test_only_an_active_user_can_refresh(client, session):
    """A deactivated user's refresh token answers 403, and a deleted user's answers 401."""
    from app.models import User

    alice, bob = log_in(client, "alice"), log_in(client, "bob")
    users = {user.username: user for user in session.exec(select(User))}
    users["alice"].is_active = False
    session.add(users["alice"])
    session.delete(users["bob"])
    session.commit()

    assert refresh(client, alice["refresh_token"]).status_code == 403
    assert_rejected(refresh(client, bob["refresh_token"]))


@pytest.mark.points(1)
def test_refresh_needs_a_refresh_token(client):
    """POST /auth/refresh without a refresh_token in its JSON body answers 422."""
    assert client.post("/auth/refresh", json={}).status_code == 422
