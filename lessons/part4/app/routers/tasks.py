"""The /tasks endpoints. Each change is announced on the owner's live feed,
and a new task also sends a notification, both after the response."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Query, status
from sqlmodel import Session, col, select

from app.core.errors import Responses, error_response
from app.db import SessionDep
from app.deps import NEEDS_USER, CurrentUser, LiveUpdatesDep
from app.models import Task, TaskCreate, TaskPublic, TaskUpdate, User
from app.notifications import NotifierDep, notify_safely

# Every route here needs a user: each may answer 401 or 403 too.
router = APIRouter(prefix="/tasks", tags=["tasks"], responses=NEEDS_USER)

# What a route may answer besides success and 422, for the OpenAPI schema.
NOT_FOUND: Responses = {404: error_response("You have no task with this id")}
BAD_BODY: Responses = {400: error_response("The body could not be read as JSON")}

# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]


def get_own_task(session: Session, task_id: int, user: User) -> Task:
    """The user's task with this id. Someone else's task is "not found" too,
    so that nobody can learn which ids exist."""
    task = session.get(Task, task_id)
    if task is None or task.owner_id != user.id:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")
    return task


# --8<-- [start:create]
# response_model: the route returns the table row, the client sees TaskPublic.
@router.post("/", status_code=status.HTTP_201_CREATED, response_model=TaskPublic, responses=BAD_BODY)
def create_task(
    task_in: TaskCreate,
    session: SessionDep,
    user: CurrentUser,
    notifier: NotifierDep,
    live: LiveUpdatesDep,
    background_tasks: BackgroundTasks,
) -> Task:
    task = Task.model_validate(task_in, update={"owner_id": user.id})
    session.add(task)
    session.commit()
    session.refresh(task)
    # --8<-- [start:schedule]
    message = f"Task created: {task.title}"
    # Background tasks run one after another once the response is sent:
    # the quick live update first, then the notifier, which may be slow.
    background_tasks.add_task(live.send_to_user, task.owner_id, message)
    background_tasks.add_task(notify_safely, notifier, user.username, message, task.id)
    # --8<-- [end:schedule]
    return task
# --8<-- [end:create]


@router.get("/", response_model=list[TaskPublic])
def list_tasks(
    session: SessionDep,
    user: CurrentUser,
    completed: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> Sequence[Task]:
    query = select(Task).where(Task.owner_id == user.id).order_by(col(Task.id))
    if completed is not None:
        query = query.where(Task.completed == completed)
    return session.exec(query.offset(offset).limit(limit)).all()


@router.get("/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def read_task(task_id: TaskId, session: SessionDep, user: CurrentUser) -> Task:
    return get_own_task(session, task_id, user)


# --8<-- [start:update]
@router.patch("/{task_id}", response_model=TaskPublic, responses={**NOT_FOUND, **BAD_BODY})
def update_task(
    task_id: TaskId,
    task_in: TaskUpdate,
    session: SessionDep,
    user: CurrentUser,
    live: LiveUpdatesDep,
    background_tasks: BackgroundTasks,
) -> Task:
    task = get_own_task(session, task_id, user)
    # exclude_unset keeps only the fields the client actually sent.
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    background_tasks.add_task(live.send_to_user, task.owner_id, f"Task updated: {task.title}")
    return task
# --8<-- [end:update]


# --8<-- [start:delete]
@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_task(
    task_id: TaskId,
    session: SessionDep,
    user: CurrentUser,
    live: LiveUpdatesDep,
    background_tasks: BackgroundTasks,
) -> None:
    task = get_own_task(session, task_id, user)
    session.delete(task)
    session.commit()
    background_tasks.add_task(live.send_to_user, task.owner_id, f"Task deleted: {task.title}")
# --8<-- [end:delete]
