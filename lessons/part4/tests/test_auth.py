"""Registering, logging in and GET /auth/me: Part 3's contract, still kept in Part 4."""

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import Result, event, false
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import select

PASSWORD = "correct horse battery"
USER_FIELDS = {"id", "username", "is_admin"}


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


def assert_401(response) -> None:
    assert response.status_code == 401, f"expected 401, got {response.status_code}: {response.text}"
    assert response.headers.get("www-authenticate", "").lower() == "bearer", (
        "a 401 carries the header WWW-Authenticate: Bearer"
    )


def deactivate(session, username: str) -> None:
    from app.models import User

    user = session.exec(select(User).where(User.username == username)).one()
    user.is_active = False
    session.add(user)
    session.commit()


# ---- registering --------------------------------------------------------------


@pytest.mark.points(2)
def test_register_answers_201_with_the_public_user(client):
    """POST /auth/register answers 201 with exactly {id, username, is_admin}, and a new user is not an admin."""
    response = client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "alice"
    assert body["is_admin"] is False
    assert isinstance(body["id"], int)


@pytest.mark.points(2, hint="Compare usernames in lower case, and keep the unique index on lower(username).")
@pytest.mark.parametrize("taken", ["alice", "Alice", "ALICE"])
def test_a_taken_username_is_409_whatever_its_case(client, taken):
    """Registering a username that exists already, in any mix of upper and lower case, answers 409."""
    assert client.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201

    response = client.post("/auth/register", json={"username": taken, "password": "another passphrase"})

    assert response.status_code == 409
    assert response.json() == {"detail": "Username already taken"}


@pytest.mark.points(1, hint="Saving can still fail with an IntegrityError: catch it, roll the session back, answer 409.")
def test_two_registrations_racing_for_one_name_give_one_409(client, session):
    """When the check for a taken name misses a user saved a moment earlier, the database's unique index still answers 409, not 500."""
    assert client.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
    # As if a second request had looked before the first one saved its user:
    # the next look-up in the user table finds nobody.
    looked: list[str] = []

    def find_nobody(state: ORMExecuteState) -> Result | None:
        if state.is_select and not looked and any(m.local_table.name == "user" for m in state.all_mappers):
            looked.append(str(state.statement))
            return state.invoke_statement(statement=state.statement.where(false()))
        return None

    event.listen(session, "do_orm_execute", find_nobody)
    try:
        response = client.post("/auth/register", json={"username": "ALICE", "password": PASSWORD})
    finally:
        event.remove(session, "do_orm_execute", find_nobody)

    assert looked, "registering did not look in the database for the name first"
    assert response.status_code == 409
    assert response.json() == {"detail": "Username already taken"}
    # The failed insert was rolled back: the next registration works.
    assert client.post("/auth/register", json={"username": "bob", "password": PASSWORD}).status_code == 201


@pytest.mark.points(2, hint="StringConstraints(min_length=3, max_length=50, pattern=...) on the username.")
@pytest.mark.parametrize(
    "username",
    ["ab", "x" * 51, "alice smith", "alice!", "<script>", "", "ali/ce"],
    ids=["too short", "too long", "space", "punctuation", "markup", "empty", "slash"],
)
def test_a_bad_username_is_422(client, username):
    """A username must be 3 to 50 letters, digits, `_`, `.` or `-`; anything else answers 422."""
    response = client.post("/auth/register", json={"username": username, "password": PASSWORD})

    assert response.status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize("username", ["abc", "x" * 50, "Jo_Ann.Smith-2"])
def test_a_good_username_is_accepted(client, username):
    """Usernames of 3 and of 50 characters, with letters, digits, `_`, `.` and `-`, are accepted."""
    response = client.post("/auth/register", json={"username": username, "password": PASSWORD})

    assert response.status_code == 201
    assert response.json()["username"] == username


@pytest.mark.points(2, hint="StringConstraints(min_length=8, max_length=128) on the password.")
def test_a_password_must_be_8_to_128_characters(client):
    """Passwords of 7 or 129 characters answer 422; 8 and 128 characters are accepted."""

    def register(name: str, password: str):
        return client.post("/auth/register", json={"username": name, "password": password})

    assert register("shorty", "x" * 7).status_code == 422
    assert register("longy", "x" * 129).status_code == 422
    assert register("eight", "x" * 8).status_code == 201
    assert register("hundred", "x" * 128).status_code == 201


@pytest.mark.points(1)
def test_register_needs_both_fields(client):
    """A registration without a password or without a username answers 422."""
    assert client.post("/auth/register", json={"username": "alice"}).status_code == 422
    assert client.post("/auth/register", json={"password": PASSWORD}).status_code == 422


@pytest.mark.points(1)
def test_passwords_are_stored_hashed_with_argon2(client, session):
    """The database keeps an argon2 hash of the password, never the password itself."""
    from app.models import User

    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    user = session.exec(select(User).where(User.username == "alice")).one()
    assert PASSWORD not in user.hashed_password
    assert user.hashed_password.startswith("$argon2")


# ---- logging in ---------------------------------------------------------------


@pytest.mark.points(2, hint="POST /auth/token reads an OAuth2PasswordRequestForm: form fields, not JSON.")
def test_login_answers_a_bearer_token(client):
    """POST /auth/token with the right username and password (as a form) answers 200 {access_token, token_type: "bearer"}."""
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    response = client.post("/auth/token", data={"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2


@pytest.mark.points(1)
def test_login_ignores_the_case_of_the_username(client):
    """Logging in as "ALICE" works for the user who registered as "alice"."""
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    response = client.post("/auth/token", data={"username": "ALICE", "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.points(2, hint="One message for both cases, so nobody can learn which usernames exist.")
def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client):
    """A wrong password and an unknown username both answer 401 with the same message and WWW-Authenticate: Bearer."""
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    wrong_password = client.post("/auth/token", data={"username": "alice", "password": "not the password"})
    unknown_user = client.post("/auth/token", data={"username": "nobody", "password": PASSWORD})

    assert_401(wrong_password)
    assert_401(unknown_user)
    assert wrong_password.json() == unknown_user.json() == {"detail": "Incorrect username or password"}


@pytest.mark.points(1)
def test_login_with_json_instead_of_a_form_is_422(client):
    """Credentials sent as JSON instead of a form answer 422."""
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    response = client.post("/auth/token", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 422


@pytest.mark.points(1)
def test_a_deactivated_user_cannot_log_in(client, session):
    """A deactivated user who gives the right password is answered 403, and gets no token."""
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    deactivate(session, "alice")

    response = client.post("/auth/token", data={"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
    assert "access_token" not in response.text


# ---- GET /auth/me, and every token that must not open it -------------------------


@pytest.mark.points(2)
def test_me_answers_the_logged_in_user(client, auth_headers):
    """GET /auth/me answers {id, username, is_admin} of the user the token was issued to."""
    response = client.get("/auth/me", headers=auth_headers)

    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["username"] == "alice"


@pytest.mark.points(1)
def test_me_without_a_token_is_401(client):
    """GET /auth/me without an Authorization header answers 401 with WWW-Authenticate: Bearer."""
    assert_401(client.get("/auth/me"))


@pytest.mark.points(1, hint="jwt.decode raises jwt.InvalidTokenError for anything that is not a valid token.")
@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer not-a-token", "Bearer a.b.c", "Basic YWxpY2U6c2VjcmV0"],
    ids=["no token", "empty token", "not a JWT", "three bad parts", "Basic auth"],
)
def test_a_malformed_token_is_401(client, authorization):
    """An Authorization header holding no bearer token, or garbage, answers 401 (never 500)."""
    assert_401(client.get("/auth/me", headers={"Authorization": authorization}))


@pytest.mark.points(2, hint="jwt.decode checks the signature with the server's SECRET_KEY.")
def test_a_forged_token_is_401(client, auth_headers):
    """A token with the right claims but signed with another key than the server's answers 401."""
    claims = claims_of(auth_headers)
    forged = jwt.encode(claims, "somebody else's key, not the server's", algorithm="HS256")
    genuine = jwt.encode(claims, server_key(), algorithm="HS256")

    assert_401(client.get("/auth/me", headers=bearer(forged)))
    assert client.get("/auth/me", headers=bearer(genuine)).status_code == 200


@pytest.mark.points(1)
def test_a_token_edited_after_signing_is_401(client, auth_headers):
    """A token whose claims were changed after the server signed it answers 401."""
    header, _, signature = token_of(auth_headers).split(".")
    edited = base64url({**claims_of(auth_headers), "sub": "1", "exp": in_minutes(60 * 24 * 365)})

    assert_401(client.get("/auth/me", headers=bearer(f"{header}.{edited}.{signature}")))


@pytest.mark.points(2, hint="Name the one algorithm you accept: jwt.decode(..., algorithms=['HS256']).")
def test_an_alg_none_token_is_401(client, auth_headers):
    """A token that says "alg": "none" and carries no signature answers 401, whatever it claims."""
    claims = base64url(claims_of(auth_headers))
    for alg in ("none", "None", "NONE"):
        unsigned = base64url({"alg": alg, "typ": "JWT"}) + "." + claims
        assert_401(client.get("/auth/me", headers=bearer(unsigned + ".")))


@pytest.mark.points(2, hint='Put an "exp" claim in every token; jwt.decode rejects it once it has passed.')
def test_an_expired_token_is_401(client, auth_headers):
    """A token signed with the server's key whose "exp" has passed answers 401."""
    claims = claims_of(auth_headers)
    expired = jwt.encode({**claims, "exp": in_minutes(-1)}, server_key(), algorithm="HS256")

    assert_401(client.get("/auth/me", headers=bearer(expired)))
    assert_401(client.get("/tasks/", headers=bearer(expired)))


@pytest.mark.points(1)
def test_tokens_expire_after_30_minutes(client, auth_headers):
    """A token is valid for ACCESS_TOKEN_EXPIRE_MINUTES, 30 minutes by default."""
    lifetime = claims_of(auth_headers)["exp"] - datetime.now(UTC).timestamp()

    assert lifetime == pytest.approx(30 * 60, abs=60)


@pytest.mark.points(2, hint="A genuine token may still name nobody: look the user up, and answer 401 when it is None.")
@pytest.mark.parametrize(
    "sub",
    ["424242", "0", "not-a-number", "99999999999999999999999999", "-99999999999999999999999999", None],
    ids=["unknown id", "zero", "not a number", "huge number", "huge negative number", "no sub"],
)
def test_a_token_naming_no_user_is_401(client, sub):
    """A token signed with the server's key whose "sub" names no user (or is missing) answers 401, never 500."""
    claims = {"exp": in_minutes(5)} | ({} if sub is None else {"sub": sub})

    assert_401(client.get("/auth/me", headers=bearer(jwt.encode(claims, server_key(), algorithm="HS256"))))


@pytest.mark.points(2, hint="Check user.is_active in get_current_user, after finding the user.")
def test_a_deactivated_users_token_is_403(client, session, auth_headers):
    """A deactivated user's token answers 403 on /auth/me and on /tasks/."""
    deactivate(session, "alice")

    assert client.get("/auth/me", headers=auth_headers).status_code == 403
    assert client.get("/tasks/", headers=auth_headers).status_code == 403


# ---- secrets stay secret ---------------------------------------------------------


@pytest.mark.points(2, hint="Return UserPublic (or UserAdminView): models without the password and the hash.")
def test_no_answer_ever_holds_a_password_or_a_hash(client, session, admin_headers):
    """No answer of /auth or /admin holds the password, the hash, or a field named like them."""
    from app.models import User

    answers = [
        client.post("/auth/register", json={"username": "alice", "password": PASSWORD}),
        client.post("/auth/token", data={"username": "alice", "password": PASSWORD}),
    ]
    headers = bearer(answers[1].json()["access_token"])
    alice = session.exec(select(User).where(User.username == "alice")).one()
    answers += [
        client.get("/auth/me", headers=headers),
        client.get("/admin/users", headers=admin_headers),
        client.patch(f"/admin/users/{alice.id}", json={"is_admin": True}, headers=admin_headers),
        client.post("/auth/register", json={"username": "alice", "password": PASSWORD}),  # 409
    ]

    for response in answers:
        text = response.text.lower()
        assert PASSWORD not in response.text, f"{response.request.url.path} answered the password"
        assert alice.hashed_password not in response.text
        assert "password" not in text and "hash" not in text, f"{response.request.url.path}: {response.text}"


@pytest.mark.points(1, hint="app/core/errors.py: drop the `input` of each error from the 422 answer.")
def test_a_422_does_not_echo_the_password(client):
    """When registering fails validation, the 422 answer does not repeat the password that was sent."""
    secret = "my-very-own-secret-" + "x" * 120  # too long: 422

    response = client.post("/auth/register", json={"username": "alice", "password": secret})

    assert response.status_code == 422
    assert secret not in response.text


@pytest.mark.points(1)
def test_passwords_never_reach_the_log(client, caplog):
    """Registering and logging in write nothing to the log that holds the password."""
    caplog.set_level(logging.DEBUG)

    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
    client.post("/auth/token", data={"username": "alice", "password": "a wrong password"})

    assert PASSWORD not in caplog.text
    assert "a wrong password" not in caplog.text
