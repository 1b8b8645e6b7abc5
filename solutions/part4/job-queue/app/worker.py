"""The queue worker, a process of its own: `arq app.worker.WorkerSettings`.

It takes export jobs off the queue in Redis and runs them. A job that fails
because the disk or the database let it down is tried again later, waiting
longer after each failure, up to JOB_MAX_ATTEMPTS attempts in all; then it is
recorded as failed, with the reason."""

import asyncio
import json
from typing import Any

from arq import Retry
from arq.connections import RedisSettings
from redis import Redis
from sqlalchemy.exc import SQLAlchemyError

from app.config import get_settings
from app.jobs import PROGRESS_CHANNEL, progress_message, retry_delay, update_job, write_export
from app.models import Job


async def startup(ctx: dict[str, Any]) -> None:
    # A plain client for publishing progress from the threads the exports run on.
    ctx["publisher"] = Redis.from_url(get_settings().redis_url)


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["publisher"].close()


async def export_tasks(ctx: dict[str, Any], job_id: str) -> None:
    """Write the CSV of a user's tasks; arq calls it with the job's id."""
    settings = get_settings()
    attempt = ctx["job_try"]  # 1 the first time, 2 on the first retry...

    def report(job: Job) -> None:
        event = {"user_id": job.owner_id, "message": progress_message(job)}
        ctx["publisher"].publish(PROGRESS_CHANNEL, json.dumps(event))

    try:
        await asyncio.to_thread(write_export, job_id, attempt, report)
    except (OSError, SQLAlchemyError) as error:
        reason = f"attempt {attempt}: {type(error).__name__}: {error}"[:500]
        if attempt >= settings.job_max_attempts:
            job = await asyncio.to_thread(update_job, job_id, status="failed", error=reason)
            await asyncio.to_thread(report, job)
            return
        await asyncio.to_thread(update_job, job_id, status="retrying", error=reason)
        delay = retry_delay(attempt, settings.job_retry_base_seconds, settings.job_retry_max_seconds)
        raise Retry(defer=delay) from error


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise SystemExit("The queue worker needs REDIS_URL (for example redis://localhost:6379/0)")
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    """What `arq app.worker.WorkerSettings` reads."""

    functions = [export_tasks]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    max_tries = get_settings().job_max_attempts
    keep_result = 0  # the job's row in the database is its record
