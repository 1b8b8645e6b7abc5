"""The /tasks endpoints: create, list, read, update and delete."""

from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AwareDatetime
from sqlmodel import col, select

from app.db import SessionDep
from app.models import Task, TaskCreate, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]

# The orders a client may ask for; a leading "-" means newest (or largest) first.
Sort = Literal["id", "-id", "created_at", "-created_at"]
ORDER_BY = {
    "id": [col(Task.id)],
    "-id": [col(Task.id).desc()],
    # Two tasks created in the same instant are put in the order of their ids.
    "created_at": [col(Task.created_at), col(Task.id)],
    "-created_at": [col(Task.created_at).desc(), col(Task.id).desc()],
}


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")


@router.post("/", status_code=status.HTTP_201_CREATED)
def create_task(task_in: TaskCreate, session: SessionDep) -> TaskPublic:
    task = Task.model_validate(task_in)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@router.get("/")
def list_tasks(
    session: SessionDep,
    completed: bool | None = None,
    # AwareDatetime: a date and time with its time zone (Z or +02:00); without one, 422.
    created_after: AwareDatetime | None = None,
    created_before: AwareDatetime | None = None,
    sort: Sort = "id",
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[TaskPublic]:
    query = select(Task)
    if completed is not None:
        query = query.where(Task.completed == completed)
    # created_at is stored in UTC, so compare it with the same moment in UTC.
    if created_after is not None:
        query = query.where(Task.created_at > created_after.astimezone(UTC))
    if created_before is not None:
        query = query.where(Task.created_at < created_before.astimezone(UTC))
    # Filter and sort first, then cut the page.
    query = query.order_by(*ORDER_BY[sort])
    return session.exec(query.offset(offset).limit(limit)).all()


@router.get("/{task_id}")
def read_task(task_id: TaskId, session: SessionDep) -> TaskPublic:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    return task


@router.patch("/{task_id}")
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep) -> TaskPublic:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    # exclude_unset keeps only the fields the client actually sent.
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: TaskId, session: SessionDep) -> None:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    session.delete(task)
    session.commit()
