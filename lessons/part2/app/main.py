"""The Part 2 task manager: the same API, now stored in a database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from app.db import create_db_and_tables
from app.routers import tasks


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once before the first request: make sure the tables exist.
    create_db_and_tables()
    yield


app = FastAPI(title="Task Manager", version="2.0.0", lifespan=lifespan)
# --8<-- [end:lifespan]
app.include_router(tasks.router)


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    # The API has no page of its own: send a browser to its interactive docs.
    return RedirectResponse(url="/docs")
