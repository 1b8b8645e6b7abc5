"""What a task looks like on the way in and on the way out."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

# Surrounding spaces are trimmed first, so "   " is rejected as empty.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]
# Only these three words are accepted; anything else is a 422.
Priority = Literal["low", "medium", "high"]


class TaskCreate(BaseModel):
    """The body of POST /tasks/. There is no `id`: the server picks it."""

    title: Title
    description: Description | None = None
    completed: bool = False
    priority: Priority = "medium"


class TaskUpdate(BaseModel):
    """The body of PATCH /tasks/{id}. Every field is optional."""

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None
    priority: Priority | None = None

    @field_validator("title", "completed", "priority")
    @classmethod
    def reject_null(cls, value: object) -> object:
        # Leaving a field out means "keep it"; sending null would erase a required field.
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class TaskPublic(BaseModel):
    """A task as the API returns it."""

    id: int
    title: str
    description: str | None = None
    completed: bool = False
    priority: Priority = "medium"
