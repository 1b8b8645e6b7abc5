"""The /tasks endpoints: create, list, read, update and delete."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.clock import TodayDep
from app.models import TaskCreate, TaskPublic, TaskUpdate
from app.store import StoreDep

router = APIRouter(prefix="/tasks", tags=["tasks"])


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")


def check_due_date(due_date: date | None, today: date) -> None:
    """A new due date may be today or later, never in the past."""
    if due_date is not None and due_date < today:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="due_date cannot be in the past",
        )


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task(task_in: TaskCreate, store: StoreDep, today: TodayDep) -> TaskPublic:
    check_due_date(task_in.due_date, today)
    return store.add(task_in)


@router.get("/")
async def list_tasks(
    store: StoreDep,
    today: TodayDep,
    completed: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    overdue: bool | None = None,
) -> list[TaskPublic]:
    """List tasks; `overdue=true` keeps the unfinished ones whose due date has passed."""
    return store.list(completed=completed, offset=offset, limit=limit, overdue=overdue, today=today)


@router.get("/{task_id}")
async def read_task(task_id: int, store: StoreDep) -> TaskPublic:
    task = store.get(task_id)
    if task is None:
        raise not_found()
    return task


@router.patch("/{task_id}")
async def update_task(
    task_id: int, task_in: TaskUpdate, store: StoreDep, today: TodayDep
) -> TaskPublic:
    check_due_date(task_in.due_date, today)
    # exclude_unset keeps only the fields the client actually sent.
    task = store.update(task_id, task_in.model_dump(exclude_unset=True))
    if task is None:
        raise not_found()
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: int, store: StoreDep) -> None:
    if not store.delete(task_id):
        raise not_found()
