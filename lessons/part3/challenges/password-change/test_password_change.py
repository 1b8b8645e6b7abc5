"""Challenge: POST /auth/password, and tokens that stop working when the password changes."""

import pytest

OLD = "correct horse battery"
NEW = "a brand new passphrase"


def log_in(client, username: str = "alice", password: str = OLD):
    return client.post("/auth/token", data={"username": username, "password": password})


def change_password(client, headers: dict[str, str], old: str = OLD, new: str = NEW):
    return client.post("/auth/password", json={"old_password": old, "new_password": new}, headers=headers)


def assert_rejected(response) -> None:
    assert response.status_code == 401, f"expected 401, got {response.status_code}: {response.text}"
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.points(3, hint="Check the old password with verify_password(), then store hash_password(new).")
def test_changing_the_password_answers_204_and_the_new_one_works(client, auth_headers):
    """POST /auth/password {old_password, new_password} answers 204; afterwards the new password logs in and the old one answers 401."""
    response = change_password(client, auth_headers)

    assert response.status_code == 204
    assert log_in(client, password=NEW).status_code == 200
    assert log_in(client, password=OLD).status_code == 401


@pytest.mark.points(2, hint="A stolen token alone must not be enough to change the password.")
def test_a_wrong_old_password_answers_400_and_changes_nothing(client, auth_headers):
    """A wrong old_password answers 400, and the password stays what it was."""
    response = change_password(client, auth_headers, old="not my password")

    assert response.status_code == 400
    assert log_in(client, password=OLD).status_code == 200
    assert log_in(client, password=NEW).status_code == 401


@pytest.mark.points(1, hint="Type new_password with the same Password type as registering uses.")
def test_the_new_password_follows_the_rules_of_registering(client, auth_headers):
    """A new password shorter than 8 or longer than 128 characters answers 422, and the old password keeps working."""
    for new in ("short", "x" * 129):
        assert change_password(client, auth_headers, new=new).status_code == 422

    assert log_in(client, password=OLD).status_code == 200


@pytest.mark.points(1)
def test_the_new_password_must_differ_from_the_old_one(client, auth_headers):
    """Changing the password to the same password answers 400."""
    assert change_password(client, auth_headers, new=OLD).status_code == 400


@pytest.mark.points(3, hint="Give users a token_version: write it into each token, add 1 on a change, and compare.")
def test_tokens_issued_before_the_change_stop_working(client, auth_headers):
    """After a password change, every token issued before it answers 401 (also the one used for the change), and a token from a new login works."""
    other_device = {"Authorization": f"Bearer {log_in(client).json()['access_token']}"}

    assert change_password(client, auth_headers).status_code == 204

    for headers in (auth_headers, other_device):
        assert_rejected(client.get("/auth/me", headers=headers))
        assert_rejected(client.get("/tasks/", headers=headers))
    fresh = {"Authorization": f"Bearer {log_in(client, password=NEW).json()['access_token']}"}
    assert client.get("/auth/me", headers=fresh).status_code == 200


@pytest.mark.points(1)
def test_other_users_tokens_keep_working(client, login):
    """When Alice changes her password, Bob's token keeps working."""
    alice, bob = login("alice"), login("bob")

    assert change_password(client, alice).status_code == 204

    assert client.get("/auth/me", headers=bob).status_code == 200


@pytest.mark.points(1, hint="The endpoint takes a CurrentUser.")
def test_changing_the_password_needs_a_token(client):
    """POST /auth/password without a token answers 401 with WWW-Authenticate: Bearer."""
    assert_rejected(change_password(client, {}))
