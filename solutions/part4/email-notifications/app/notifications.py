"""Notifications, sent after the response through an injectable notifier."""

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends

from app.config import get_settings

logger = logging.getLogger(__name__)

# How long to wait for the mail server before giving up, in seconds.
SMTP_TIMEOUT = 10


class Notifier(Protocol):
    """Anything with this method can send notifications: a file, email, a chat app..."""

    async def notify(self, username: str, message: str) -> None: ...


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


class EmailNotifier:
    """Emails each notification to `{username}@{domain}` through an SMTP server."""

    def __init__(self, host: str, port: int, sender: str, domain: str) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.domain = domain

    async def notify(self, username: str, message: str) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = f"{username}@{self.domain}"
        email["Subject"] = message
        email.set_content(f"Hello {username},\n\n{message}\n\n-- Task Manager\n")
        # smtplib waits for the server at every step: do it on a worker thread,
        # so that the event loop keeps serving other requests meanwhile.
        await asyncio.to_thread(self._send, email)

    def _send(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.send_message(email)


def get_notifier() -> Notifier:
    """The notifier the routes use: email when SMTP_HOST is set, the log file otherwise.

    Tests replace it with app.dependency_overrides."""
    settings = get_settings()
    if settings.smtp_host:
        return EmailNotifier(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            domain=settings.notify_email_domain,
        )
    return FileNotifier(settings.notifications_log)


NotifierDep = Annotated[Notifier, Depends(get_notifier)]


async def notify_safely(notifier: Notifier, username: str, message: str, task_id: int) -> None:
    """Run as a background task: a failing notifier is logged, never raised.

    The response has already been sent when this runs, so an exception here
    could only end up as a traceback in the server log."""
    try:
        await notifier.notify(username, message)
    except Exception:
        logger.exception("Notification for task %s failed", task_id)
