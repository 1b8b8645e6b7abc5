"""The Part 1 task manager: CRUD over tasks kept in memory."""

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from app.core.docs import serve_docs
from app.core.errors import method_not_allowed_handler, validation_error_handler
from app.routers import tasks

# A task is a few kilobytes of JSON at most: refuse bigger bodies (413)
# before reading them, so that nobody can fill the server's memory.
MAX_BODY_BYTES = 64 * 1024

app = FastAPI(
    title="Task Manager",
    version="1.0.0",
    max_body_size=MAX_BODY_BYTES,
    docs_url=None,  # served by serve_docs, without a CDN
    responses={413: {"description": "The body is larger than 64 KiB"}},
    exception_handlers={
        RequestValidationError: validation_error_handler,
        405: method_not_allowed_handler,
    },
)
serve_docs(app)
app.include_router(tasks.router)


@app.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    # The API has no page of its own: send a browser to its interactive docs.
    return RedirectResponse(url="/docs")
