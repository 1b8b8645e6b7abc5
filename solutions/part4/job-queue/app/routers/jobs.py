"""POST /tasks/export and /jobs/{id}: heavy work, done by the queue worker."""

from functools import partial
from typing import Annotated
from uuid import uuid4

import anyio.from_thread
from arq.connections import ArqRedis
from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.responses import FileResponse
from redis.exceptions import RedisError
from sqlmodel import Session

from app.db import SessionDep
from app.deps import CurrentUser
from app.jobs import export_path
from app.models import Job, JobPublic, User

router = APIRouter(tags=["jobs"])

JobId = Annotated[str, Path(max_length=32)]


def get_queue(request: Request) -> ArqRedis:
    """The job queue, connected in the lifespan when REDIS_URL is set."""
    queue = getattr(request.app.state, "queue", None)
    if queue is None:
        raise HTTPException(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail="No job queue: set REDIS_URL")
    return queue


QueueDep = Annotated[ArqRedis, Depends(get_queue)]


def get_own_job(session: Session, job_id: str, user: User) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.owner_id != user.id:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Job not found")
    return job


@router.post("/tasks/export", status_code=status.HTTP_202_ACCEPTED)
def start_export(user: CurrentUser, session: SessionDep, queue: QueueDep, response: Response) -> JobPublic:
    """Queue a CSV export of your tasks; follow it at /jobs/{id}."""
    job = Job(id=uuid4().hex, owner_id=user.id)
    session.add(job)
    session.commit()
    session.refresh(job)
    try:
        # The queue's client is asynchronous and this endpoint runs on a
        # worker thread: ask the event loop to run the call, and wait for it.
        # _job_id: arq never queues two jobs with the same id.
        anyio.from_thread.run(partial(queue.enqueue_job, "export_tasks", job.id, _job_id=job.id))
    except RedisError:
        job.sqlmodel_update({"status": "failed", "error": "the job queue could not be reached"})
        session.commit()
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="The job queue is unreachable") from None
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


@router.get("/jobs/{job_id}")
def read_job(job_id: JobId, session: SessionDep, user: CurrentUser) -> JobPublic:
    return get_own_job(session, job_id, user)


@router.get("/jobs/{job_id}/result")
def download_export(job_id: JobId, session: SessionDep, user: CurrentUser) -> FileResponse:
    job = get_own_job(session, job_id, user)
    if job.status != "complete":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"The export is not ready: it is {job.status}")
    return FileResponse(export_path(job.id), media_type="text/csv", filename=f"tasks-{job.id}.csv")
