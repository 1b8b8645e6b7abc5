"""The Part 1 task manager: CRUD over tasks kept in memory."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from app.routers import tasks

app = FastAPI(title="Task Manager", version="1.0.0")
app.include_router(tasks.router)


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    # The API has no page of its own: send a browser to its interactive docs.
    return RedirectResponse(url="/docs")
