"""The /admin endpoints: every user and every task, for admins only."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, status
from sqlmodel import col, select

from app.core.errors import Responses, error_response
from app.db import SessionDep
from app.deps import NEEDS_ADMIN, AdminUser, LiveUpdatesDep
from app.models import Task, TaskPublic, User, UserAdminUpdate, UserAdminView

# Every route here needs an admin: each may answer 401 or 403 too.
router = APIRouter(prefix="/admin", tags=["admin"], responses=NEEDS_ADMIN)

UPDATE_ERRORS: Responses = {
    400: error_response("The body could not be read as JSON"),
    404: error_response("No user has this id"),
    409: error_response("An admin cannot demote or deactivate themselves"),
}

UserId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


# response_model: the route returns table rows, the client sees UserAdminView.
@router.get("/users", response_model=list[UserAdminView])
def list_users(admin: AdminUser, session: SessionDep) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.id))).all()


@router.get("/tasks", response_model=list[TaskPublic])
def list_all_tasks(admin: AdminUser, session: SessionDep) -> Sequence[Task]:
    return session.exec(select(Task).order_by(col(Task.id))).all()


@router.patch("/users/{user_id}", response_model=UserAdminView, responses=UPDATE_ERRORS)
def update_user(
    user_id: UserId,
    user_in: UserAdminUpdate,
    admin: AdminUser,
    session: SessionDep,
    live: LiveUpdatesDep,
    background_tasks: BackgroundTasks,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="User not found")
    changes = user_in.model_dump(exclude_unset=True, exclude_none=True)
    # Keep at least one way back in: an admin cannot lock themselves out.
    locks_self_out = changes.get("is_admin") is False or changes.get("is_active") is False
    if user.id == admin.id and locks_self_out:
        raise HTTPException(
            # 409 Conflict: the request is valid, but not for this user's own account.
            status_code=status.HTTP_409_CONFLICT,
            detail="Admins cannot demote or deactivate themselves",
        )
    user.sqlmodel_update(changes)
    session.add(user)
    session.commit()
    session.refresh(user)
    if changes.get("is_active") is False:
        # Sockets opened before stay open otherwise, and would hear again
        # as soon as the user is reactivated.
        background_tasks.add_task(live.close_user, user_id, "User deactivated")
    return user
