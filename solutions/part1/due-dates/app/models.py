"""What a task looks like on the way in and on the way out."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

# Surrounding spaces are trimmed first, so "   " is rejected as empty.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]


class TaskCreate(BaseModel):
    """The body of POST /tasks/. There is no `id`: the server picks it."""

    title: Title
    description: Description | None = None
    completed: bool = False
    # A date such as "2030-06-15". Whether it lies in the past depends on
    # today's date, so the route checks that, not the model.
    due_date: date | None = None


class TaskUpdate(BaseModel):
    """The body of PATCH /tasks/{id}. Every field is optional."""

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None
    due_date: date | None = None  # null removes the due date

    @field_validator("title", "completed")
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
    due_date: date | None = None

    def is_overdue(self, today: date) -> bool:
        """Not done yet, and its due date has gone by."""
        return not self.completed and self.due_date is not None and self.due_date < today
