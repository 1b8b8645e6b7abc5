"""The tables, and the shapes users and tasks take on the way in and out."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import StrictBool, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

# ---- users -------------------------------------------------------------

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class User(SQLModel, table=True):
    """A row of the `user` table. Only the hash of the password is stored."""

    # Usernames are unique whatever their case: "Alice" and "alice" clash.
    __table_args__ = (Index("ix_user_username_lower", text("lower(username)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50)
    hashed_password: str
    is_admin: bool = False
    is_active: bool = True


class UserCreate(SQLModel):
    """The body of POST /auth/register."""

    username: Username
    password: Password


class UserPublic(SQLModel):
    """A user as the API returns it: never the password, never the hash."""

    id: int
    username: str
    is_admin: bool


class UserAdminView(UserPublic):
    """A user as an admin sees it."""

    is_active: bool


class UserAdminUpdate(SQLModel):
    """The body of PATCH /admin/users/{id}."""

    # true, false or null (no change); never 0, 1 or "yes"
    is_admin: StrictBool | None = None
    is_active: StrictBool | None = None


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


# ---- tasks -------------------------------------------------------------

# Surrounding spaces are trimmed first, so "   " is rejected as empty. The
# pattern (a character that is not a space) tells clients so in the schema.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
Description = Annotated[str, Field(max_length=2000)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskBase(SQLModel):
    title: Title
    description: Description | None = None
    completed: StrictBool = False  # true or false only: not 0, 1 or "yes"


class Task(TaskBase, table=True):
    """A row of the `task` table."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now)
    owner_id: int = Field(foreign_key="user.id", index=True)


class TaskCreate(TaskBase):
    """The body of POST /tasks/. There is no `id` or owner: the server sets them."""


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


class TaskPublic(TaskBase):
    """A task as the API returns it."""

    id: int
    created_at: datetime
    owner_id: int

    @field_validator("created_at")
    @classmethod
    def assume_utc(cls, value: datetime) -> datetime:
        # SQLite stores datetimes without a time zone; ours are always UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
