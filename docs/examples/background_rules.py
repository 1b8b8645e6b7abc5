"""How BackgroundTasks behave when something goes wrong: a tiny app, one rule per route.

The book includes this file (see part4/under-the-hood.md) and the workbook's own
tests run it (tests/test_book.py), so what the page says is what FastAPI does.
"""

import asyncio
import threading

from fastapi import BackgroundTasks, FastAPI, HTTPException

app = FastAPI()
ran: list[str] = []  # what the background tasks did, in order


# --8<-- [start:tasks]
def note(what: str, *, with_thread: bool = False) -> None:
    """A plain `def` task: FastAPI runs it on a worker thread."""
    ran.append(f"{what} on {threading.current_thread().name}" if with_thread else what)


def fail() -> None:
    raise RuntimeError("the mail server is down")


async def note_async(what: str) -> None:
    """An `async def` task: awaited on the event loop itself."""
    await asyncio.sleep(0)
    ran.append(f"{what} on {threading.current_thread().name}")
# --8<-- [end:tasks]


# --8<-- [start:chain]
@app.post("/chain")
def chain(background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(note, "first")
    background_tasks.add_task(fail)
    background_tasks.add_task(note, "third")  # never runs: the task before it raised
    return {"status": "accepted"}
# --8<-- [end:chain]


# --8<-- [start:refuse]
@app.post("/refuse")
def refuse(background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(note, "scheduled before the error")  # never runs
    raise HTTPException(status_code=409, detail="Refused")
# --8<-- [end:refuse]


# --8<-- [start:kinds]
@app.post("/kinds")
async def kinds(background_tasks: BackgroundTasks) -> dict[str, str]:
    # Arguments after the function go to it: positional ones, then keyword ones.
    background_tasks.add_task(note, "sync", with_thread=True)
    background_tasks.add_task(note_async, "async")
    return {"endpoint_thread": threading.current_thread().name}
# --8<-- [end:kinds]
