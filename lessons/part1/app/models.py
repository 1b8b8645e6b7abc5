"""What a task looks like on the way in and on the way out."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

# --8<-- [start:title-types]
# Surrounding spaces are trimmed first, so "   " is rejected as empty. The
# pattern (a character that is not a space) tells clients so in the schema.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
Description = Annotated[str, Field(max_length=2000)]
# --8<-- [end:title-types]


# --8<-- [start:task-create]
class TaskCreate(BaseModel):
    """The body of POST /tasks/. There is no `id`: the server picks it."""

    title: Title
    description: Description | None = None
    completed: StrictBool = False  # true or false only: not 0, 1 or "yes"
# --8<-- [end:task-create]


# --8<-- [start:task-update]
class TaskUpdate(BaseModel):
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
# --8<-- [end:task-update]


# --8<-- [start:task-public]
class TaskPublic(BaseModel):
    """A task as the API returns it."""

    id: int
    title: str
    description: str | None = None
    completed: bool = False
# --8<-- [end:task-public]
