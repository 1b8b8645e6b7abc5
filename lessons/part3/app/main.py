"""The Part 3 task manager: users, logins, private tasks and an admin area."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.config import get_settings
from app.core.docs import serve_docs
from app.core.errors import method_not_allowed_handler, validation_error_handler
from app.db import create_db_and_tables, engine
from app.routers import admin, auth, tasks
from app.users import create_user, get_user_by_username

# A task is a few kilobytes of JSON at most: refuse bigger bodies (413)
# before reading them, so that nobody can fill the server's memory.
MAX_BODY_BYTES = 64 * 1024


# --8<-- [start:first-admin]
def create_first_admin() -> None:
    """Create the admin named in the settings, unless that user already exists."""
    settings = get_settings()
    if not (settings.first_admin_username and settings.first_admin_password):
        return
    with Session(engine) as session:
        if get_user_by_username(session, settings.first_admin_username) is None:
            password = settings.first_admin_password.get_secret_value()
            create_user(session, settings.first_admin_username, password, is_admin=True)
# --8<-- [end:first-admin]


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once before the first request.
    # app/db.py read the settings when it was imported, and get_settings() keeps
    # them, so this reads nothing new; only after the cache was cleared (as the
    # tests do) does it read them again, reporting a missing SECRET_KEY here.
    get_settings()
    create_db_and_tables()
    create_first_admin()
    yield


app = FastAPI(
    title="Task Manager",
    version="3.0.0",
    lifespan=lifespan,
    max_body_size=MAX_BODY_BYTES,
    docs_url=None,  # served by serve_docs, without a CDN
    responses={413: {"description": "The body is larger than 64 KiB"}},
    exception_handlers={
        RequestValidationError: validation_error_handler,
        405: method_not_allowed_handler,
    },
)
serve_docs(app)
app.include_router(auth.router)
app.include_router(tasks.router)
app.include_router(admin.router)
# --8<-- [end:lifespan]


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    # The API has no page of its own: send a browser to its interactive docs.
    return RedirectResponse(url="/docs")
