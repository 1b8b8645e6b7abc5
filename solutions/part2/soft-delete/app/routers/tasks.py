"""The /tasks endpoints: create, list, read, update, delete and restore."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.models import Task, TaskCreate, TaskPublic, TaskUpdate, utc_now

router = APIRouter(prefix="/tasks", tags=["tasks"])

# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")


def get_task_or_404(session: Session, task_id: int) -> Task:
    """The task with this id, unless it is missing or deleted: to a client, both are 404."""
    task = session.get(Task, task_id)
    if task is None or task.deleted_at is not None:
        raise not_found()
    return task


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
    include_deleted: bool = False,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[TaskPublic]:
    query = select(Task).order_by(Task.id)
    if not include_deleted:
        # `== None` would work too, but linters frown on it; is_(None) says the same.
        query = query.where(col(Task.deleted_at).is_(None))
    if completed is not None:
        query = query.where(Task.completed == completed)
    return session.exec(query.offset(offset).limit(limit)).all()


@router.get("/{task_id}")
def read_task(task_id: TaskId, session: SessionDep) -> TaskPublic:
    return get_task_or_404(session, task_id)


@router.patch("/{task_id}")
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep) -> TaskPublic:
    task = get_task_or_404(session, task_id)
    # exclude_unset keeps only the fields the client actually sent.
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: TaskId, session: SessionDep) -> None:
    task = get_task_or_404(session, task_id)
    # Not session.delete(task): the row stays, marked with the moment it was deleted.
    task.deleted_at = utc_now()
    session.add(task)
    session.commit()


@router.post("/{task_id}/restore")
def restore_task(task_id: TaskId, session: SessionDep) -> TaskPublic:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    if task.deleted_at is None:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Task is not deleted")
    task.deleted_at = None
    session.add(task)
    session.commit()
    session.refresh(task)
    return task
