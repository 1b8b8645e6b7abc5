"""Logging in: POST /auth/token, OAuth2's password flow."""

import jwt
import pytest
from pwdlib.hashers.argon2 import Argon2Hasher

PASSWORD = "correct horse battery"


def register(client, username: str = "alice", password: str = PASSWORD) -> None:
    response = client.post("/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text


def log_in(client, username: str = "alice", password: str = PASSWORD):
    return client.post("/auth/token", data={"username": username, "password": password})


def says_bearer(response) -> bool:
    return response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.points(2, hint="Return Token(access_token=..., token_type='bearer').")
def test_login_answers_a_bearer_token_that_works(client):
    """Logging in with the right username and password answers 200 {access_token, token_type: "bearer"}, and the token opens GET /auth/me."""
    register(client)

    response = log_in(client)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


@pytest.mark.points(1, hint="jwt.encode(payload, key, algorithm='HS256').")
def test_the_token_is_a_jwt_signed_with_hs256_that_expires(client):
    """The access token is a JWT signed with HS256, naming its user in "sub" and its expiry in "exp"."""
    register(client)
    token = log_in(client).json()["access_token"]

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"sub", "exp"} <= set(claims)


@pytest.mark.points(2, hint="Raise HTTPException(401, ..., headers={'WWW-Authenticate': 'Bearer'}).")
def test_a_wrong_password_answers_401(client):
    """Logging in with a wrong password answers 401 with a WWW-Authenticate: Bearer header, and no token."""
    register(client)

    response = log_in(client, password="not the password")

    assert response.status_code == 401
    assert says_bearer(response)
    assert "access_token" not in response.text


# --8<-- [start:same-401]
@pytest.mark.points(2, hint="One HTTPException for both cases, raised in one place.")
def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    """An unknown username and a wrong password get the very same 401 answer, so nobody can find out which usernames exist."""
    register(client)

    wrong_password = log_in(client, "alice", "not the password")
    unknown_user = log_in(client, "nobody", PASSWORD)

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert unknown_user.json() == wrong_password.json()
    assert unknown_user.headers.get("www-authenticate") == wrong_password.headers.get("www-authenticate")
# --8<-- [end:same-401]


@pytest.mark.points(
    2, hint="When there is no such user, verify the password against a stand-in hash (DUMMY_HASH) anyway."
)
def test_an_unknown_username_still_costs_one_password_check(client, monkeypatch):
    """Logging in as somebody who does not exist still runs one argon2 password check, so it takes as long as a wrong password."""
    checked = []
    real_verify = Argon2Hasher.verify

    def counting_verify(self, password, hash):
        checked.append(hash if isinstance(hash, str) else hash.decode())
        return real_verify(self, password, hash)

    monkeypatch.setattr(Argon2Hasher, "verify", counting_verify)

    response = log_in(client, "nobody", PASSWORD)

    assert response.status_code == 401
    assert len(checked) == 1, f"expected one password check, got {len(checked)}"
    assert checked[0].startswith("$argon2"), "the stand-in hash should be a real argon2 hash"


@pytest.mark.points(1, hint="OAuth2PasswordRequestForm, as a dependency, reads the form.")
@pytest.mark.parametrize(
    "form", [{}, {"username": "alice"}, {"password": PASSWORD}], ids=["nothing", "no password", "no username"]
)
def test_login_needs_a_username_and_a_password(client, form):
    """Logging in without a username or without a password answers 422."""
    assert client.post("/auth/token", data=form).status_code == 422
