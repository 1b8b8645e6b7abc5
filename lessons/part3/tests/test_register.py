"""Registering a new user: POST /auth/register."""

import pytest
from sqlmodel import SQLModel

PASSWORD = "correct horse battery"


def register(client, username: str = "alice", password: str = PASSWORD):
    return client.post("/auth/register", json={"username": username, "password": password})


@pytest.mark.points(2, hint="Return a UserPublic, the model without the password.")
def test_register_answers_201_with_the_new_user(client):
    """Registering answers 201 with exactly {id, username, is_admin}, and a new user is not an admin."""
    response = register(client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "is_admin"}
    assert isinstance(body["id"], int)
    assert body["username"] == "alice"
    assert body["is_admin"] is False


@pytest.mark.points(2, hint="Compare lower-cased usernames when you look for an existing user.")
def test_a_taken_username_answers_409_whatever_its_case(client):
    """Registering a username that is already taken answers 409, even written in another case ("ALICE" after "alice")."""
    assert register(client, "alice").status_code == 201

    for username in ("alice", "Alice", "ALICE"):
        response = register(client, username, "another password")
        assert response.status_code == 409, f"registering {username!r} again"


@pytest.mark.points(2, hint="StringConstraints(min_length=..., max_length=..., pattern=...) on the username.")
@pytest.mark.parametrize(
    "username",
    ["", "ab", "a" * 51, "alice smith", "alice;", "alice/bob", "al@ce", "alice\n", "<b>alice</b>"],
    ids=["empty", "2 chars", "51 chars", "space", "semicolon", "slash", "at sign", "newline", "html"],
)
def test_a_username_that_breaks_the_rules_answers_422(client, username):
    """A username must be 3 to 50 characters, each a letter, a digit, "_", "." or "-": anything else answers 422."""
    assert register(client, username).status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize("username", ["bob", "a" * 50, "J.Doe-99_x"], ids=["3 chars", "50 chars", "mixed"])
def test_a_username_within_the_rules_is_accepted(client, username):
    """Usernames of 3 and of 50 characters, mixing letters, digits, "_", "." and "-", are accepted."""
    response = register(client, username)

    assert response.status_code == 201
    assert response.json()["username"] == username


@pytest.mark.points(2, hint="StringConstraints(min_length=8, max_length=128) on the password.")
@pytest.mark.parametrize("password", ["", "7chars!", "x" * 129], ids=["empty", "7 chars", "129 chars"])
def test_a_password_of_the_wrong_length_answers_422(client, password):
    """A password must be 8 to 128 characters long: a shorter or a longer one answers 422."""
    assert register(client, "alice", password).status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize("password", ["8 chars!", "x" * 128], ids=["8 chars", "128 chars"])
def test_passwords_of_8_and_128_characters_are_accepted(client, password):
    """Passwords of exactly 8 and exactly 128 characters are accepted."""
    assert register(client, "alice", password).status_code == 201


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "body", [{}, {"username": "alice"}, {"password": PASSWORD}], ids=["nothing", "no password", "no username"]
)
def test_register_needs_a_username_and_a_password(client, body):
    """Registering without a username or without a password answers 422."""
    assert client.post("/auth/register", json=body).status_code == 422


@pytest.mark.points(2, hint="The body model has only username and password: the server decides everything else.")
def test_nobody_can_register_as_an_admin(client):
    """Sending "is_admin": true (or an id of your choice) when registering changes nothing: the new user is an ordinary user."""
    response = client.post(
        "/auth/register",
        json={"username": "mallory", "password": PASSWORD, "is_admin": True, "id": 999},
    )

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    assert response.status_code == 201
    assert response.json()["is_admin"] is False
    assert response.json()["id"] != 999
    login = client.post("/auth/token", data={"username": "mallory", "password": PASSWORD})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/admin/users", headers=headers).status_code == 403


@pytest.mark.points(2, hint="hash_password() in app/core/security.py, before the user is saved.")
def test_the_database_keeps_an_argon2_hash_not_the_password(client, session):
    """The database stores an argon2 hash of the password ("$argon2..."), never the password itself."""
    assert register(client).status_code == 201

    stored = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.connection().execute(table.select()):
            stored.extend(str(value) for value in row)
    assert not any(PASSWORD in value for value in stored), "the password is in the database as it was typed"
    assert any(value.startswith("$argon2") for value in stored), "no argon2 hash in the database"
