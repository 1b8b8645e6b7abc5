"""The Part 4 task manager: notifications, live updates and a dashboard."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.types import Scope

from app.config import get_settings
from app.core.docs import serve_docs
from app.core.errors import method_not_allowed_handler, validation_error_handler
from app.core.logging import redact_tokens_in_server_logs
from app.db import create_db_and_tables, engine
from app.routers import admin, auth, tasks, ws
from app.users import create_user, get_user_by_username

# A task is a few kilobytes of JSON at most: refuse bigger bodies (413)
# before reading them, so that nobody can fill the server's memory.
MAX_BODY_BYTES = 64 * 1024

STATIC_DIR = Path(__file__).parent / "static"
# The dashboard loads nothing from other sites, may not be shown inside
# another site's frame, and its files are never guessed at as another type.
DASHBOARD_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class DashboardFiles(StaticFiles):
    """The dashboard's script and style sheet, with DASHBOARD_HEADERS."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(DASHBOARD_HEADERS)
        return response


def create_first_admin() -> None:
    """Create the admin named in the settings, unless that user already exists."""
    settings = get_settings()
    if not (settings.first_admin_username and settings.first_admin_password):
        return
    with Session(engine) as session:
        if get_user_by_username(session, settings.first_admin_username) is None:
            password = settings.first_admin_password.get_secret_value()
            create_user(session, settings.first_admin_username, password, is_admin=True)


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once before the first request.
    get_settings()  # read the settings now, so a missing SECRET_KEY is reported at start-up
    redact_tokens_in_server_logs()
    create_db_and_tables()
    create_first_admin()
    yield
# --8<-- [end:lifespan]


app = FastAPI(
    title="Task Manager",
    version="4.0.0",
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
app.include_router(ws.router)
# --8<-- [start:dashboard]
app.mount("/static", DashboardFiles(directory=STATIC_DIR), name="static")


@app.get("/", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=DASHBOARD_HEADERS)
# --8<-- [end:dashboard]


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}
