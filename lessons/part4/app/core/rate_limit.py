"""How many logins and registrations one client, or one username, may try.

Each attempt at /auth/token or /auth/register costs an argon2 hash: slow and
memory-hungry on purpose. Without a limit, a script could keep the server
hashing (and guessing) for ever. With one, it gets 429 and a Retry-After."""

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from app.config import get_settings
from app.core.errors import Responses, error_response

# For the OpenAPI schema of the routes that call limit_attempts().
TOO_MANY_ATTEMPTS: Responses = {
    429: {
        **error_response("Too many attempts from this client or for this username"),
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    }
}


class AuthLimiter:
    """Counts attempts per client address and per username, in windows of `seconds`.

    All counts start again together when a window ends: simple, and it never
    holds more than one window's worth of names."""

    def __init__(
        self,
        per_client: int,
        per_username: int,
        seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_client = per_client
        self.per_username = per_username
        self.seconds = seconds
        self.clock = clock
        self._counts: Counter[str] = Counter()
        self._window_ends = 0.0
        self._lock = threading.Lock()  # `def` endpoints run on several threads at once

    def retry_after(self, client: str, username: str) -> int | None:
        """Count one attempt; None if it is allowed, else the seconds until it would be."""
        with self._lock:
            now = self.clock()
            if now >= self._window_ends:
                self._counts.clear()
                self._window_ends = now + self.seconds
            # The client first: once it is over its limit, its usernames are not even counted.
            keys = ((f"client {client}", self.per_client), (f"username {username.lower()}", self.per_username))
            for key, limit in keys:
                self._counts[key] += 1
                if self._counts[key] > limit:
                    return max(1, math.ceil(self._window_ends - now))
        return None


auth_limiter = AuthLimiter(
    per_client=get_settings().auth_attempts_per_client,
    per_username=get_settings().auth_attempts_per_username,
)


def get_auth_limiter() -> AuthLimiter:
    """The one limiter of this process. Tests replace it with app.dependency_overrides."""
    return auth_limiter


AuthLimiterDep = Annotated[AuthLimiter, Depends(get_auth_limiter)]


def limit_attempts(request: Request, limiter: AuthLimiter, username: str) -> None:
    """Raise 429 with a Retry-After header if this client or username has tried too often."""
    # Behind a proxy, every client has the proxy's address: run uvicorn with
    # --proxy-headers (and --forwarded-allow-ips) so that this is the real one.
    client = request.client.host if request.client else "unknown"
    seconds = limiter.retry_after(client, username)
    if seconds is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="Too many attempts: try again later",
            headers={"Retry-After": str(seconds)},
        )
