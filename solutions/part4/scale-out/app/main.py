"""The Part 4 task manager: notifications, live updates and a dashboard."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session

from app.broadcast import RedisBroadcast, relaying
from app.config import get_settings
from app.core.errors import validation_error_handler
from app.core.logging import redact_tokens_in_server_logs
from app.db import create_db_and_tables, engine
from app.deps import live_updates
from app.routers import admin, auth, tasks, ws
from app.users import create_user, get_user_by_username

STATIC_DIR = Path(__file__).parent / "static"


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
    # With BROADCAST_URL, listen to the other workers' events while the app runs.
    relay = relaying(live_updates) if isinstance(live_updates, RedisBroadcast) else nullcontext()
    async with relay:
        yield
# --8<-- [end:lifespan]


app = FastAPI(title="Task Manager", version="4.0.0", lifespan=lifespan)
app.add_exception_handler(RequestValidationError, validation_error_handler)
app.include_router(auth.router)
app.include_router(tasks.router)
app.include_router(admin.router)
app.include_router(ws.router)
# --8<-- [start:dashboard]
app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@app.get("/", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")
# --8<-- [end:dashboard]


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}
