"""Two of FastAPI's error answers, made safer and more exact.

- A 422 does not repeat the input it rejected. Echoing it back can fail, since
  some text (a lone surrogate such as "\\ud800") cannot be written as UTF-8,
  which turned the 422 into a 500; and later parts receive passwords.
- A 405 names in `Allow` every method of the path, not only those of the one
  route that happened to match first (FastAPI makes a route per method).
"""

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException


class ErrorMessage(BaseModel):
    """How an error answers: {"detail": "..."}."""

    detail: str


# The type of a route's `responses=`: {status code: what it means}.
Responses = dict[int | str, dict[str, Any]]


def error_response(description: str) -> dict[str, Any]:
    """An entry of a route's `responses=`, so that /docs shows this answer too."""
    return {"model": ErrorMessage, "description": description}


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


async def method_not_allowed_handler(request: Request, exc: HTTPException) -> JSONResponse:
    # The route that matched the path (but not the method) knows its path
    # template, such as "/tasks/{task_id}"; the OpenAPI schema lists every
    # method of that template.
    template = getattr(request.scope.get("route"), "path_format", None)
    methods = [method.upper() for method in request.app.openapi()["paths"].get(template, {})]
    headers = {"Allow": ", ".join(methods)} if methods else exc.headers
    return JSONResponse(status_code=405, content={"detail": exc.detail}, headers=headers)
