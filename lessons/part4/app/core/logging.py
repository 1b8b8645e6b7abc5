"""Keep access tokens out of the server log.

A WebSocket carries its token in the URL (`/ws/tasks?token=...`), and the
server logs every URL it serves. This filter blanks the token out first.

It reads the query string the way the app does: `%74oken=...` is the same
parameter as `token=...` once decoded, so it is blanked out too."""

import logging
from urllib.parse import unquote_plus

REDACTED = "[redacted]"


def redact_query(target: str) -> str:
    """`target` (a path and its query) with the value of every token parameter blanked out."""
    path, question_mark, query = target.partition("?")
    if not question_mark:
        return target
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        # Decoded as the app decodes it; any name that mentions a token is blanked.
        if equals and "token" in unquote_plus(name).lower():
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return f"{path}?{'&'.join(pairs)}"


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def redact_tokens_in_server_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokens())
