"""The /tasks endpoints: create, list, read, update and delete."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlmodel import func, select

from app.db import SessionDep
from app.models import Task, TaskCreate, TaskPage, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]


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
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[TaskPublic]:
    query = select(Task).order_by(Task.id)
    if completed is not None:
        query = query.where(Task.completed == completed)
    return session.exec(query.offset(offset).limit(limit)).all()


# Declared before /{task_id}: routes are tried in order, and "page" is not a task id.
@router.get("/page")
def page_of_tasks(
    session: SessionDep,
    completed: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> TaskPage:
    query = select(Task)
    if completed is not None:
        query = query.where(Task.completed == completed)
    # SELECT count(*) FROM (the same query): the database counts, without sending the rows.
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    tasks = session.exec(query.order_by(Task.id).offset(offset).limit(limit)).all()
    return TaskPage(items=tasks, total=total, offset=offset, limit=limit)


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
