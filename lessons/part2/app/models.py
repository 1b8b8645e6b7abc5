"""The task table and the shapes a task takes on the way in and out."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import StrictBool, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Field, SQLModel

# Surrounding spaces are trimmed first, so "   " is rejected as empty. The
# pattern (a character that is not a space) tells clients so in the schema.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
Description = Annotated[str, Field(max_length=2000)]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --8<-- [start:task-table]
class TaskBase(SQLModel):
    title: Title
    description: Description | None = None
    completed: StrictBool = False  # true or false only: not 0, 1 or "yes"


class Task(TaskBase, table=True):
    """A row of the `task` table."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now)
# --8<-- [end:task-table]


class TaskCreate(TaskBase):
    """The body of POST /tasks/. There is no `id`: the database picks it."""


class TaskUpdate(SQLModel):
    """The body of PATCH /tasks/{id}. Every field is optional."""

    # SkipJsonSchema[None]: title and completed may be left out, but null is
    # refused below, so the schema does not offer it either.
    title: Title | SkipJsonSchema[None] = None
    description: Description | None = None
    completed: StrictBool | SkipJsonSchema[None] = None

    @field_validator("title", "completed")
    @classmethod
    def reject_null(cls, value: object) -> object:
        # Leaving a field out means "keep it"; sending null would erase a required field.
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


# --8<-- [start:task-public]
class TaskPublic(TaskBase):
    """A task as the API returns it."""

    id: int
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def assume_utc(cls, value: datetime) -> datetime:
        # SQLite stores datetimes without a time zone; ours are always UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
# --8<-- [end:task-public]
