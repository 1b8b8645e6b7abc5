"""The /admin endpoints: every user and every task, for admins only."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlmodel import select

from app.db import SessionDep
from app.deps import AdminUser
from app.models import Task, TaskPublic, User, UserAdminUpdate, UserAdminView

router = APIRouter(prefix="/admin", tags=["admin"])

UserId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


# --8<-- [start:list]
@router.get("/users")
def list_users(admin: AdminUser, session: SessionDep) -> list[UserAdminView]:
    return session.exec(select(User).order_by(User.id)).all()


@router.get("/tasks")
def list_all_tasks(admin: AdminUser, session: SessionDep) -> list[TaskPublic]:
    return session.exec(select(Task).order_by(Task.id)).all()
# --8<-- [end:list]


# --8<-- [start:update-user]
@router.patch("/users/{user_id}")
def update_user(
    user_id: UserId, user_in: UserAdminUpdate, admin: AdminUser, session: SessionDep
) -> UserAdminView:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="User not found")
    changes = user_in.model_dump(exclude_unset=True, exclude_none=True)
    # Keep at least one way back in: an admin cannot lock themselves out.
    locks_self_out = changes.get("is_admin") is False or changes.get("is_active") is False
    if user.id == admin.id and locks_self_out:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail="Admins cannot demote or deactivate themselves",
        )
    user.sqlmodel_update(changes)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user
# --8<-- [end:update-user]
