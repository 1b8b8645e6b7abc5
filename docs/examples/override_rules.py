"""Why `unittest.mock.patch` cannot replace a dependency, and `dependency_overrides` can.

The book includes this file (see part4/testing.md) and the workbook's own tests
run it (tests/test_book.py).
"""

from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


# --8<-- [start:app]
def get_greeting() -> str:
    return "hello from the real dependency"


@app.get("/greet")
def greet(greeting: Annotated[str, Depends(get_greeting)]) -> dict[str, str]:
    return {"greeting": greeting}
# --8<-- [end:app]
