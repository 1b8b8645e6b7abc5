"""The /tasks endpoints: create, list, read, update and delete, each task with its tags."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.models import Tag, TagName, Task, TaskCreate, TaskPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

# SQL integers are 64-bit: a number outside that range could not even be looked up.
MIN_SQL_INT, MAX_SQL_INT = -(2**63), 2**63 - 1
TaskId = Annotated[int, Path(ge=MIN_SQL_INT, le=MAX_SQL_INT)]


def not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")


def find_or_create_tags(session: Session, names: list[str]) -> list[Tag]:
    """The Tag rows for these names: the ones that exist already, new ones for the rest."""
    tags = []
    for name in sorted(set(names)):  # set(): "home" twice is one tag
        tag = session.exec(select(Tag).where(Tag.name == name)).first()
        tags.append(tag or Tag(name=name))
    return tags


def to_public(task: Task) -> TaskPublic:
    """The task as the API shows it: its tags as a sorted list of names."""
    return TaskPublic(**task.model_dump(), tags=sorted(tag.name for tag in task.tags))


@router.post("/", status_code=status.HTTP_201_CREATED)
def create_task(task_in: TaskCreate, session: SessionDep) -> TaskPublic:
    # The tags are rows of their own, so they are set apart from the other fields.
    task = Task.model_validate(task_in.model_dump(exclude={"tags"}))
    task.tags = find_or_create_tags(session, task_in.tags)
    session.add(task)
    session.commit()
    session.refresh(task)
    return to_public(task)


@router.get("/")
def list_tasks(
    session: SessionDep,
    completed: bool | None = None,
    tag: Annotated[TagName | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[TaskPublic]:
    query = select(Task).order_by(Task.id)
    if completed is not None:
        query = query.where(Task.completed == completed)
    if tag is not None:
        # any(): the tasks that have at least one tag with this name.
        query = query.where(col(Task.tags).any(Tag.name == tag))
    tasks = session.exec(query.offset(offset).limit(limit)).all()
    return [to_public(task) for task in tasks]


@router.get("/{task_id}")
def read_task(task_id: TaskId, session: SessionDep) -> TaskPublic:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    return to_public(task)


@router.patch("/{task_id}")
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep) -> TaskPublic:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    # exclude_unset keeps only the fields the client actually sent.
    changes = task_in.model_dump(exclude_unset=True)
    if "tags" in changes:
        # The tags sent replace the old ones; [] removes them all.
        task.tags = find_or_create_tags(session, changes.pop("tags"))
    task.sqlmodel_update(changes)
    session.add(task)
    session.commit()
    session.refresh(task)
    return to_public(task)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: TaskId, session: SessionDep) -> None:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found()
    # The links to its tags go with it; the tags themselves stay for other tasks.
    session.delete(task)
    session.commit()
