"""The /tasks endpoints: create, list, read, update and delete."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlmodel import col, select

from app.core.errors import Responses, error_response
from app.db import SessionDep
from app.models import Task, TaskCreate, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

# What a route may answer besides success and 422, for the OpenAPI schema.
NOT_FOUND: Responses = {404: error_response("No task has this id")}
BAD_BODY: Responses = {400: error_response("The body could not be read as JSON")}

# --8<-- [start:task-id]
# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]
# --8<-- [end:task-id]


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")


# --8<-- [start:create]
# response_model: the route returns the table row, the client sees TaskPublic.
@router.post("/", status_code=status.HTTP_201_CREATED, response_model=TaskPublic, responses=BAD_BODY)
def create_task(task_in: TaskCreate, session: SessionDep) -> Task:
    task = Task.model_validate(task_in)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task
# --8<-- [end:create]


# --8<-- [start:list]
@router.get("/", response_model=list[TaskPublic])
def list_tasks(
    session: SessionDep,
    completed: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> Sequence[Task]:
    query = select(Task).order_by(col(Task.id))
    if completed is not None:
        query = query.where(Task.completed == completed)
    return session.exec(query.offset(offset).limit(limit)).all()
# --8<-- [end:list]


# --8<-- [start:read]
@router.get("/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def read_task(task_id: TaskId, session: SessionDep) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    return task
# --8<-- [end:read]


# --8<-- [start:update]
@router.patch("/{task_id}", response_model=TaskPublic, responses={**NOT_FOUND, **BAD_BODY})
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    # exclude_unset keeps only the fields the client actually sent.
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task
# --8<-- [end:update]


# --8<-- [start:delete]
@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_task(task_id: TaskId, session: SessionDep) -> None:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    session.delete(task)
    session.commit()
# --8<-- [end:delete]
