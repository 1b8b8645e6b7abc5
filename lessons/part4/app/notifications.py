"""Notifications, sent after the response through an injectable notifier."""

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends

from app.config import get_settings

logger = logging.getLogger(__name__)


# --8<-- [start:notifier]
class Notifier(Protocol):
    """Anything with this method can send notifications: a file, email, a chat app..."""

    async def notify(self, username: str, message: str) -> None: ...
# --8<-- [end:notifier]


# --8<-- [start:file-notifier]
class FileNotifier:
    """Appends `Notify {username}: {message}` as one line to a log file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def notify(self, username: str, message: str) -> None:
        line = f"Notify {username}: {message}\n"
        # File I/O blocks: do it on a worker thread, not on the event loop.
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as log:
            log.write(line)
# --8<-- [end:file-notifier]


# --8<-- [start:get-notifier]
def get_notifier() -> Notifier:
    """The notifier the routes use. Tests replace it with app.dependency_overrides."""
    return FileNotifier(get_settings().notifications_log)


NotifierDep = Annotated[Notifier, Depends(get_notifier)]
# --8<-- [end:get-notifier]


# --8<-- [start:notify-safely]
async def notify_safely(notifier: Notifier, username: str, message: str, task_id: int) -> None:
    """Run as a background task: a failing notifier is logged, never raised.

    The response has already been sent when this runs, so an exception here
    could only end up as a traceback in the server log."""
    try:
        await notifier.notify(username, message)
    except Exception:
        logger.exception("Notification for task %s failed", task_id)
# --8<-- [end:notify-safely]
