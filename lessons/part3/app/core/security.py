"""Password hashing and access tokens."""

from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

from app.config import get_settings

ALGORITHM = "HS256"
MAX_USER_ID = 2**63 - 1

# --8<-- [start:hashing]
password_hash = PasswordHash.recommended()  # argon2

# Checked against when a username does not exist, so that answering "wrong
# username" takes as long as answering "wrong password".
DUMMY_HASH = password_hash.hash("not anybody's password")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash.verify(password, hashed)
# --8<-- [end:hashing]


# --8<-- [start:tokens]
def create_access_token(user_id: int) -> str:
    settings = get_settings()
    expires = datetime.now(UTC) + timedelta(minutes=settings.access_token_expire_minutes)
    payload = {"sub": str(user_id), "exp": expires}
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def read_access_token(token: str) -> int | None:
    """The user id a token was issued to, or None if the token is not valid."""
    key = get_settings().secret_key.get_secret_value()
    try:
        # Naming the one accepted algorithm rejects "alg": "none" and any other.
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        user_id = int(payload["sub"])
    except (jwt.InvalidTokenError, ValueError):
        return None
    # SQL integers are 64-bit: an id outside them could not even be looked up.
    return user_id if 0 < user_id <= MAX_USER_ID else None
# --8<-- [end:tokens]
