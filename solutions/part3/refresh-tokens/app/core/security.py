"""Password hashing, access tokens and refresh tokens."""

from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

from app.config import get_settings

ALGORITHM = "HS256"
MAX_USER_ID = 2**63 - 1

# The "type" claim of a token says what it may be used for.
ACCESS = "access"  # opens the API, for a short while
REFRESH = "refresh"  # only buys new access tokens, at POST /auth/refresh

password_hash = PasswordHash.recommended()  # argon2

# Checked against when a username does not exist, so that answering "wrong
# username" takes as long as answering "wrong password".
DUMMY_HASH = password_hash.hash("not anybody's password")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash.verify(password, hashed)


def create_token(user_id: int, token_type: str, lifetime: timedelta) -> str:
    payload = {"sub": str(user_id), "type": token_type, "exp": datetime.now(UTC) + lifetime}
    return jwt.encode(payload, get_settings().secret_key.get_secret_value(), algorithm=ALGORITHM)


def create_access_token(user_id: int) -> str:
    minutes = get_settings().access_token_expire_minutes
    return create_token(user_id, ACCESS, timedelta(minutes=minutes))


def create_refresh_token(user_id: int) -> str:
    minutes = get_settings().refresh_token_expire_minutes
    return create_token(user_id, REFRESH, timedelta(minutes=minutes))


def read_token(token: str, token_type: str) -> int | None:
    """The user id a token of this type was issued to, or None if the token is
    not valid, or is valid but of the other type."""
    key = get_settings().secret_key.get_secret_value()
    try:
        # Naming the one accepted algorithm rejects "alg": "none" and any other.
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        user_id = int(payload["sub"])
    except (jwt.InvalidTokenError, ValueError):
        return None
    # A refresh token must not open the API, and an access token must not be refreshed.
    if payload.get("type") != token_type:
        return None
    # SQL integers are 64-bit: an id outside them could not even be looked up.
    return user_id if 0 < user_id <= MAX_USER_ID else None


def read_access_token(token: str) -> int | None:
    return read_token(token, ACCESS)


def read_refresh_token(token: str) -> int | None:
    return read_token(token, REFRESH)
