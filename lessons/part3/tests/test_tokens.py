"""Who am I: GET /auth/me, and every kind of token that must not open it."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import select

ANOTHER_KEY = "somebody else's key, not the server's own"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(headers: dict[str, str]) -> dict:
    """What the server wrote into a token it issued (read without checking it)."""
    return jwt.decode(token_of(headers), options={"verify_signature": False})


def server_key() -> str:
    from app.config import get_settings

    return get_settings().secret_key.get_secret_value()


def base64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def in_minutes(minutes: float) -> int:
    return int((datetime.now(UTC) + timedelta(minutes=minutes)).timestamp())


def assert_rejected(response) -> None:
    assert response.status_code == 401, f"expected 401, got {response.status_code}: {response.text}"
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), (
        "a 401 should carry the header WWW-Authenticate: Bearer"
    )


@pytest.mark.points(2, hint="Return the CurrentUser as a UserPublic.")
def test_me_answers_the_logged_in_user(client, auth_headers):
    """GET /auth/me answers {id, username, is_admin} of the user the token was issued to."""
    response = client.get("/auth/me", headers=auth_headers)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "username", "is_admin"}
    assert body["username"] == "alice"
    assert body["is_admin"] is False


@pytest.mark.points(1, hint="OAuth2PasswordBearer answers 401 for you when the header is missing.")
def test_me_without_a_token_is_401(client):
    """GET /auth/me without an Authorization header answers 401 with WWW-Authenticate: Bearer."""
    assert_rejected(client.get("/auth/me"))


@pytest.mark.points(1, hint="jwt.decode raises jwt.InvalidTokenError for anything that is not a valid token.")
@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer not-a-token", "Bearer a.b.c", "Basic YWxpY2U6c2VjcmV0", "Token abc"],
    ids=["no token", "empty token", "not a JWT", "three bad parts", "Basic auth", "another scheme"],
)
def test_a_malformed_authorization_header_is_401(client, authorization):
    """An Authorization header that does not hold a bearer token, or holds garbage, answers 401 (never 500)."""
    assert_rejected(client.get("/auth/me", headers={"Authorization": authorization}))


@pytest.mark.points(2, hint="jwt.decode checks the signature with the server's SECRET_KEY.")
def test_a_token_signed_with_another_key_is_401(client, auth_headers):
    """A token with the right content but signed with another key than the server's answers 401."""
    claims = claims_of(auth_headers)
    forged = jwt.encode(claims, ANOTHER_KEY, algorithm="HS256")
    genuine = jwt.encode(claims, server_key(), algorithm="HS256")

    assert_rejected(client.get("/auth/me", headers=bearer(forged)))
    assert client.get("/auth/me", headers=bearer(genuine)).status_code == 200


@pytest.mark.points(1)
def test_a_token_edited_after_signing_is_401(client, auth_headers):
    """A token whose content was changed after the server signed it answers 401."""
    header, payload, signature = token_of(auth_headers).split(".")
    edited = base64url({**claims_of(auth_headers), "is_admin": True, "exp": in_minutes(60 * 24 * 365)})

    assert_rejected(client.get("/auth/me", headers=bearer(f"{header}.{edited}.{signature}")))


# --8<-- [start:alg-none]
@pytest.mark.points(2, hint="Name the one algorithm you accept: jwt.decode(..., algorithms=['HS256']).")
def test_an_unsigned_alg_none_token_is_401(client, auth_headers):
    """A token that says "alg": "none" and carries no signature answers 401, whatever it claims."""
    claims = base64url(claims_of(auth_headers))
    for alg in ("none", "None", "NONE"):
        unsigned = base64url({"alg": alg, "typ": "JWT"}) + "." + claims

        assert_rejected(client.get("/auth/me", headers=bearer(unsigned + ".")))
        assert_rejected(client.get("/auth/me", headers=bearer(unsigned)))
# --8<-- [end:alg-none]


@pytest.mark.points(2, hint='Put an "exp" claim in every token; jwt.decode rejects it once it has passed.')
def test_an_expired_token_is_401(client, auth_headers):
    """A token signed with the server's key whose "exp" has passed answers 401."""
    claims = claims_of(auth_headers)
    expired = jwt.encode({**claims, "exp": in_minutes(-1)}, server_key(), algorithm="HS256")
    still_valid = jwt.encode({**claims, "exp": in_minutes(5)}, server_key(), algorithm="HS256")

    assert_rejected(client.get("/auth/me", headers=bearer(expired)))
    assert client.get("/auth/me", headers=bearer(still_valid)).status_code == 200


@pytest.mark.points(2, hint="A token can be genuine and still name nobody: look the user up, and treat None as 401.")
@pytest.mark.parametrize(
    "sub",
    ["424242", "0", "-1", "not-a-number", "", "99999999999999999999999999", None],
    ids=["unknown id", "zero", "negative", "not a number", "empty", "huge number", "no sub"],
)
def test_a_token_naming_no_user_is_401(client, sub):
    """A token signed with the server's key whose "sub" names no user (or is missing) answers 401, never 500."""
    claims = {"exp": in_minutes(5)} | ({} if sub is None else {"sub": sub})
    token = jwt.encode(claims, server_key(), algorithm="HS256")

    assert_rejected(client.get("/auth/me", headers=bearer(token)))


@pytest.mark.points(2)
def test_the_token_of_a_deleted_user_is_401(client, session, auth_headers):
    """Once a user is deleted, the tokens they were given answer 401."""
    from app.models import User

    session.delete(session.exec(select(User).where(User.username == "alice")).one())
    session.commit()

    assert_rejected(client.get("/auth/me", headers=auth_headers))


@pytest.mark.points(2, hint="Check user.is_active in get_current_user, after finding the user.")
def test_a_deactivated_user_is_403(client, session, auth_headers):
    """A deactivated user's token answers 403 (they are known, but not let in), on /auth/me and on /tasks/."""
    from app.models import User

    user = session.exec(select(User).where(User.username == "alice")).one()
    user.is_active = False
    session.add(user)
    session.commit()

    assert client.get("/auth/me", headers=auth_headers).status_code == 403
    assert client.get("/tasks/", headers=auth_headers).status_code == 403
