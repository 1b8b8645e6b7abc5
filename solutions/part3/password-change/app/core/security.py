"""Password hashing and access tokens."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

from app.config import get_settings

ALGORITHM = "HS256"
MAX_USER_ID = 2**63 - 1

password_hash = PasswordHash.recommended()  # argon2

# Checked against when a username does not exist, so that answering "wrong
# username" takes as long as answering "wrong password".
DUMMY_HASH = password_hash.hash("not anybody's password")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash.verify(password, hashed)


@dataclass
class AccessClaims:
    """What a valid access token says: whose it is, and which version of their tokens."""

    user_id: int
    token_version: int


def create_access_token(user_id: int, token_version: int) -> str:
    settings = get_settings()
    expires = datetime.now(UTC) + timedelta(minutes=settings.access_token_expire_minutes)
    payload = {"sub": str(user_id), "ver": token_version, "exp": expires}
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def read_access_token(token: str) -> AccessClaims | None:
    """What the token says, or None if the token is not valid."""
    key = get_settings().secret_key.get_secret_value()
    try:
        # Naming the one accepted algorithm rejects "alg": "none" and any other.
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        claims = AccessClaims(user_id=int(payload["sub"]), token_version=int(payload.get("ver", 0)))
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
    # SQL integers are 64-bit: an id outside them could not even be looked up.
    return claims if 0 < claims.user_id <= MAX_USER_ID else None
