"""Settings read from the environment (or a .env file) once per process."""

import logging
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

# HS256 wants a key of 32 bytes or more; and no key that is printed in a README.
MIN_SECRET_KEY_BYTES = 32
PLACEHOLDER_KEYS = {"replace-me-with-a-long-random-string", "change-me", "changeme", "secret"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # A file next to wherever the server is started. Any SQLAlchemy URL works.
    database_url: str = "sqlite:///tasks.db"

    # Signs the access tokens. SecretStr keeps it out of logs and reprs.
    # When it is not set, a random key is made: see get_settings().
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    access_token_expire_minutes: int = 30

    # The first admin account, created at start-up if it does not exist yet.
    first_admin_username: str | None = None
    first_admin_password: SecretStr | None = None

    # Tries at /auth/token and /auth/register per minute, before 429: from one
    # client address, and for one username.
    auth_attempts_per_client: int = 30
    auth_attempts_per_username: int = 10

    # --8<-- [start:part4-settings]
    # Where the default notifier appends one line per notification.
    notifications_log: Path = Path("notifications.log")
    # How long one WebSocket send may take before that client is dropped.
    ws_send_timeout_seconds: float = 1.0
    # --8<-- [end:part4-settings]


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if "secret_key" not in settings.model_fields_set:
        logger.warning(
            "SECRET_KEY is not set: using a random key, so tokens will not survive a restart,"
            " and several workers would reject each other's tokens."
        )
    else:
        check_secret_key(settings.secret_key.get_secret_value())
    return settings


def check_secret_key(key: str) -> None:
    """Stop the app, with one sentence, if anybody could guess or recover the key."""
    # With a short key, one token is enough to find the key offline, by brute force.
    if len(key.encode()) < MIN_SECRET_KEY_BYTES or key.lower() in PLACEHOLDER_KEYS:
        raise SystemExit(
            f"SECRET_KEY is too weak: use a random key of at least {MIN_SECRET_KEY_BYTES} bytes, such as"
            ' the output of: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
