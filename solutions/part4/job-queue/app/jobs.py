"""Export jobs: the row that follows each one, the work itself, and its progress.

The API records a job and puts it on the queue (ARQ, in Redis); the queue
worker, a process of its own (`arq app.worker.WorkerSettings`), does the work
and records how far it got. The API reads that record for GET /jobs/{id}, and
passes the progress the worker publishes on to the owner's WebSockets."""

import asyncio
import csv
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from fastapi import FastAPI
from redis.exceptions import RedisError
from sqlmodel import Session, select

from app.config import get_settings
from app.db import engine
from app.live import ConnectionManager
from app.models import Job, Task, TaskPublic

logger = logging.getLogger(__name__)

PROGRESS_CHANNEL = "job-progress"
CSV_COLUMNS = ["id", "title", "description", "completed", "created_at"]
RESUBSCRIBE_SECONDS = 1.0


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """How long to wait after failed attempt number `attempt` (1, 2, ...), in seconds.

    Twice as long after each failure, up to `cap` (exponential backoff), and a
    random time between half of that and all of it (jitter), so that jobs that
    failed together do not all come back at the same moment."""
    longest = min(cap, base * 2 ** (attempt - 1))
    return random.uniform(longest / 2, longest)


def export_path(job_id: str) -> Path:
    return get_settings().exports_dir / f"{job_id}.csv"


def progress_message(job: Job) -> str:
    """What the owner's live feed says about the job."""
    if job.status in ("complete", "failed"):
        return f"Export {job.id}: {job.status}"
    return f"Export {job.id}: {job.done}/{job.total}"


def update_job(job_id: str, **changes: Any) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"there is no job {job_id}")
        job.sqlmodel_update(changes)
        session.add(job)
        session.commit()
        session.refresh(job)
        return job


def write_export(job_id: str, attempt: int, report: Callable[[Job], None]) -> None:
    """Write the CSV of the owner's tasks, and `report` the job after each batch.

    Runs on a thread of the queue worker: it waits on the database and the disk."""
    settings = get_settings()
    with Session(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"there is no job {job_id}")
        query = select(Task).where(Task.owner_id == job.owner_id).order_by(Task.id)
        tasks = [TaskPublic.model_validate(task) for task in session.exec(query)]
        job.sqlmodel_update({"status": "running", "attempts": attempt, "done": 0, "total": len(tasks)})
        session.commit()

        settings.exports_dir.mkdir(parents=True, exist_ok=True)
        partial = export_path(job_id).with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_COLUMNS)
            for start in range(0, len(tasks), settings.export_batch_size):
                batch = tasks[start : start + settings.export_batch_size]
                writer.writerows(
                    [task.id, task.title, task.description or "", task.completed, task.created_at.isoformat()]
                    for task in batch
                )
                job.done = start + len(batch)
                session.commit()
                report(job)
        # Renamed once complete, so that nobody ever downloads half a file.
        partial.replace(export_path(job_id))
        job.status = "complete"
        session.commit()
        report(job)


# ---- in the API: the queue, and the progress it relays ---------------------------


async def relay_progress(redis: ArqRedis, live: ConnectionManager, subscribed: asyncio.Event) -> None:
    """Pass every progress event the queue worker publishes on to the owner's sockets."""
    deliveries: set[asyncio.Task[None]] = set()
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(PROGRESS_CHANNEL)
                subscribed.set()
                async for item in pubsub.listen():
                    if item["type"] != "message":
                        continue
                    event = json.loads(item["data"])
                    # A task per event: a slow socket never holds up the next event.
                    delivery = asyncio.create_task(live.send_to_user(event["user_id"], event["message"]))
                    deliveries.add(delivery)
                    delivery.add_done_callback(deliveries.discard)
        except RedisError as error:
            logger.warning("Lost Redis (%r): subscribing again in %s s", error, RESUBSCRIBE_SECONDS)
            await asyncio.sleep(RESUBSCRIBE_SECONDS)


@asynccontextmanager
async def job_queue(app: FastAPI, redis_url: str, live: ConnectionManager) -> AsyncIterator[None]:
    """Connect to the queue (app.state.queue) and relay progress while the block runs."""
    queue = await create_pool(RedisSettings.from_dsn(redis_url))
    subscribed = asyncio.Event()
    relay = asyncio.create_task(relay_progress(queue, live, subscribed))
    app.state.queue = queue
    try:
        await subscribed.wait()
        yield
    finally:
        relay.cancel()
        with suppress(asyncio.CancelledError):
            await relay
        await queue.aclose()
