"""The database engine and the per-request session dependency."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session, SQLModel, create_engine

from app.config import get_settings


def create_db_engine(url: str) -> Engine:
    """An engine for `url`, or a one-sentence exit if the URL is unusable."""
    # SQLite objects may only be used by the thread that made them, unless told
    # otherwise; FastAPI runs `def` endpoints on a pool of threads.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    try:
        return create_engine(url, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise SystemExit(
            f"DATABASE_URL is not a database URL this app can use ({error}); "
            "try something like sqlite:///tasks.db"
        ) from None


engine = create_db_engine(get_settings().database_url)


def create_db_and_tables() -> None:
    SQLModel.metadata.create_all(engine)


# --8<-- [start:session]
def get_session() -> Iterator[Session]:
    """One session per request, closed when the response is done."""
    with Session(engine) as session:
        yield session


# scope="function": the session is closed as soon as the endpoint has returned,
# not after the background tasks, which may take long (a slow notifier).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# --8<-- [end:session]
