"""Settings read from the environment (or a .env file) once per process."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # A file next to wherever the server is started. Any SQLAlchemy URL works.
    database_url: str = "sqlite:///tasks.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()
