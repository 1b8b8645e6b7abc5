"""The Part 2 task manager: the same API, now stored in a database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from app.core.docs import serve_docs
from app.core.errors import method_not_allowed_handler, validation_error_handler
from app.db import create_db_and_tables
from app.routers import tasks

# A task is a few kilobytes of JSON at most: refuse bigger bodies (413)
# before reading them, so that nobody can fill the server's memory.
MAX_BODY_BYTES = 64 * 1024


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once before the first request: make sure the tables exist.
    create_db_and_tables()
    yield


app = FastAPI(
    title="Task Manager",
    version="2.0.0",
    lifespan=lifespan,
    max_body_size=MAX_BODY_BYTES,
    docs_url=None,  # served by serve_docs, without a CDN
    responses={413: {"description": "The body is larger than 64 KiB"}},
    exception_handlers={
        RequestValidationError: validation_error_handler,
        405: method_not_allowed_handler,
    },
)
# --8<-- [end:lifespan]
serve_docs(app)
app.include_router(tasks.router)


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    # The API has no page of its own: send a browser to its interactive docs.
    return RedirectResponse(url="/docs")
