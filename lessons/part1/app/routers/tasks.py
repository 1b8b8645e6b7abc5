"""The /tasks endpoints: create, list, read, update and delete."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.core.errors import Responses, error_response
from app.models import TaskCreate, TaskPublic, TaskUpdate
from app.store import StoreDep

# What a route may answer besides success and 422, for the OpenAPI schema.
NOT_FOUND: Responses = {404: error_response("No task has this id")}
BAD_BODY: Responses = {400: error_response("The body could not be read as JSON")}

# --8<-- [start:router]
router = APIRouter(prefix="/tasks", tags=["tasks"])


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")
# --8<-- [end:router]


# --8<-- [start:create]
@router.post("/", status_code=status.HTTP_201_CREATED, responses=BAD_BODY)
async def create_task(task_in: TaskCreate, store: StoreDep) -> TaskPublic:
    return store.add(task_in)
# --8<-- [end:create]


# --8<-- [start:list]
@router.get("/")
async def list_tasks(
    store: StoreDep,
    completed: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[TaskPublic]:
    return store.list(completed=completed, offset=offset, limit=limit)
# --8<-- [end:list]


# --8<-- [start:read]
@router.get("/{task_id}", responses=NOT_FOUND)
async def read_task(task_id: int, store: StoreDep) -> TaskPublic:
    task = store.get(task_id)
    if task is None:
        raise not_found()
    return task
# --8<-- [end:read]


# --8<-- [start:update]
@router.patch("/{task_id}", responses={**NOT_FOUND, **BAD_BODY})
async def update_task(task_id: int, task_in: TaskUpdate, store: StoreDep) -> TaskPublic:
    # exclude_unset keeps only the fields the client actually sent.
    task = store.update(task_id, task_in.model_dump(exclude_unset=True))
    if task is None:
        raise not_found()
    return task
# --8<-- [end:update]


# --8<-- [start:delete]
@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_task(task_id: int, store: StoreDep) -> None:
    if not store.delete(task_id):
        raise not_found()
# --8<-- [end:delete]
