"""Settings read from the environment (or a .env file) once per process."""

import logging
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # A file next to wherever the server is started. Any SQLAlchemy URL works.
    database_url: str = "sqlite:///tasks.db"

    # Signs the access tokens. SecretStr keeps it out of logs and reprs.
    secret_key: SecretStr | None = None
    access_token_expire_minutes: int = 30

    # The first admin account, created at start-up if it does not exist yet.
    first_admin_username: str | None = None
    first_admin_password: SecretStr | None = None

    # --8<-- [start:part4-settings]
    # Where the default notifier appends one line per notification.
    notifications_log: Path = Path("notifications.log")
    # How long one WebSocket send may take before that client is dropped.
    ws_send_timeout_seconds: float = 1.0
    # --8<-- [end:part4-settings]

    # redis://host:port/0 sends live updates through Redis, to every worker
    # process; without it they stay in this process (enough for one worker).
    broadcast_url: str | None = None


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.secret_key is None:
        logger.warning(
            "SECRET_KEY is not set: using a random key, so tokens will not survive a restart."
        )
        settings.secret_key = SecretStr(secrets.token_urlsafe(32))
    return settings
