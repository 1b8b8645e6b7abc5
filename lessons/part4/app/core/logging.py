"""Keep access tokens out of the server log.

A WebSocket carries its token in the URL (`/ws/tasks?token=...`), and the
server logs every URL it serves. This filter blanks the token out first."""

import logging
import re

TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_URL.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_tokens_in_server_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokens())
