"""A token bucket per user for POST /tasks/, kept in Redis so that every worker shares it.

Each user has a bucket of RATE_LIMIT_BURST tokens that fills up again at
RATE_LIMIT_PER_MINUTE tokens a minute. Creating a task takes one token; with
none left, the answer is 429 with a Retry-After header saying when there will be one."""

import logging
import math
from functools import lru_cache

from fastapi import HTTPException, status
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError

from app.config import get_settings
from app.deps import CurrentUser

logger = logging.getLogger(__name__)

# Runs inside Redis, all at once: two workers can never both take the last token.
# It returns 0 when a token was taken, else how many milliseconds until there is one.
TAKE_A_TOKEN = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / 60000
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + (now - at) * per_ms)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return wait_ms
"""


@lru_cache
def take_a_token(redis_url: str) -> Script:
    """The script above, registered with one Redis client per URL (clients are thread-safe)."""
    return Redis.from_url(redis_url).register_script(TAKE_A_TOKEN)


def limit_task_creation(user: CurrentUser) -> None:
    """A dependency of POST /tasks/: answers 429 when the user's bucket is empty."""
    settings = get_settings()
    if settings.rate_limit_per_minute <= 0 or settings.redis_url is None:
        return
    key = f"rate-limit:create-task:{user.id}"
    try:
        wait_ms = take_a_token(settings.redis_url)(keys=[key], args=[settings.rate_limit_burst, settings.rate_limit_per_minute])
    except RedisError as error:
        # Better to let everybody through for a moment than to refuse everybody.
        logger.warning("Rate limit not checked, Redis is unreachable: %r", error)
        return
    if wait_ms > 0:
        seconds = math.ceil(wait_ms / 1000)
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many new tasks: try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
