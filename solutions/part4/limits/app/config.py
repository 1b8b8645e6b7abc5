"""Settings read from the environment (or a .env file) once per process."""

import logging
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
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
    # Open sockets per user, in each worker process; one more is closed with 4429.
    ws_max_connections_per_user: int = 5
    # A socket that sends nothing (not even "ping") for this long is closed with 4408.
    ws_idle_timeout_seconds: float = 60.0

    # New tasks per user and minute, on average (0: no limit), and how many may
    # come at once. The buckets are kept in Redis, so that every worker shares them.
    rate_limit_per_minute: float = 0
    rate_limit_burst: int = 10
    redis_url: str | None = None

    @model_validator(mode="after")
    def rate_limit_needs_redis(self) -> "Settings":
        if self.rate_limit_per_minute > 0 and not self.redis_url:
            raise ValueError(
                "RATE_LIMIT_PER_MINUTE needs REDIS_URL: the token buckets are kept in Redis, "
                "where every worker process sees the same ones"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.secret_key is None:
        logger.warning(
            "SECRET_KEY is not set: using a random key, so tokens will not survive a restart."
        )
        settings.secret_key = SecretStr(secrets.token_urlsafe(32))
    return settings
