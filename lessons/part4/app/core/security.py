"""Password hashing and access tokens."""

import os
import re
import threading
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

from app.config import get_settings

ALGORITHM = "HS256"
MAX_USER_ID = 2**63 - 1
# A token's "sub" is the user id exactly as create_access_token writes it:
# ASCII digits only, so no " 19 ", "1_9", "+19" or digits of other scripts.
USER_ID = re.compile(r"[1-9][0-9]*")

password_hash = PasswordHash.recommended()  # argon2

# Checked against when a username does not exist, so that answering "wrong
# username" takes as long as answering "wrong password".
DUMMY_HASH = password_hash.hash("not anybody's password")

# Each argon2 hash holds 64 MiB of memory while it runs. At most one per core
# at a time: a burst of logins then waits its turn instead of exhausting memory.
hashing_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def hash_password(password: str) -> str:
    with hashing_slots:
        return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    with hashing_slots:
        return password_hash.verify(password, hashed)


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
    except jwt.InvalidTokenError:
        return None
    subject = payload["sub"]
    if not (isinstance(subject, str) and USER_ID.fullmatch(subject)):
        return None
    # SQL integers are 64-bit: an id outside them could not even be looked up.
    user_id = int(subject)
    return user_id if user_id <= MAX_USER_ID else None


def token_expires_at(token: str) -> datetime | None:
    """When a valid token expires, or None if the token is not valid."""
    key = get_settings().secret_key.get_secret_value()
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        return None
    return datetime.fromtimestamp(payload["exp"], UTC)
