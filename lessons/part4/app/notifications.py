"""Notifications, sent after the response through an injectable notifier."""

import asyncio
import logging
import re
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


# The characters that end a line for one reader or another (str.splitlines
# knows them all): a title holding one must not start a line of its own.
LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with each line break written out as an escape, such as \\n."""
    return LINE_BREAKS.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


# --8<-- [start:file-notifier]
class FileNotifier:
    """Appends `Notify {username}: {message}` as one line to a log file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def notify(self, username: str, message: str) -> None:
        # One notification, one line, whatever the title holds.
        line = f"Notify {one_line(username)}: {one_line(message)}\n"
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
async def notify_safely(notifier: Notifier, username: str, message: str, task_id: int | None) -> None:
    """Run as a background task: a failing notifier is logged, never raised.

    The response has already been sent when this runs, so an exception here
    could only end up as a traceback in the server log."""
    try:
        await notifier.notify(username, message)
    except Exception:
        logger.exception("Notification for task %s failed", task_id)
# --8<-- [end:notify-safely]
