"""The task and tag tables, and the shapes a task takes on the way in and out."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import StringConstraints, field_validator
from sqlmodel import Field, Relationship, SQLModel

# Surrounding spaces are trimmed first, so "   " is rejected as empty.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]
# " Home " and "home" are the same tag: trimmed and lower-cased before anything else.
TagName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=30)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskTagLink(SQLModel, table=True):
    """A row of the `tasktaglink` table: this task has this tag."""

    task_id: int | None = Field(default=None, foreign_key="task.id", primary_key=True)
    tag_id: int | None = Field(default=None, foreign_key="tag.id", primary_key=True)


class Tag(SQLModel, table=True):
    """A row of the `tag` table. Each name is stored once, whatever the number of tasks using it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=30)
    tasks: list["Task"] = Relationship(back_populates="tags", link_model=TaskTagLink)


class TaskBase(SQLModel):
    title: Title
    description: Description | None = None
    completed: bool = False


class Task(TaskBase, table=True):
    """A row of the `task` table."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now)
    tags: list[Tag] = Relationship(back_populates="tasks", link_model=TaskTagLink)


class TaskCreate(TaskBase):
    """The body of POST /tasks/. There is no `id`: the database picks it."""

    tags: list[TagName] = []


class TaskUpdate(SQLModel):
    """The body of PATCH /tasks/{id}. Every field is optional."""

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None
    tags: list[TagName] | None = None

    @field_validator("title", "completed", "tags")
    @classmethod
    def reject_null(cls, value: object) -> object:
        # Leaving a field out means "keep it"; sending null would erase a required field.
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class TaskPublic(TaskBase):
    """A task as the API returns it, with the names of its tags."""

    id: int
    created_at: datetime
    tags: list[str] = []

    @field_validator("created_at")
    @classmethod
    def assume_utc(cls, value: datetime) -> datetime:
        # SQLite stores datetimes without a time zone; ours are always UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
