"""Who is asking: the current user and the admin check, as dependencies."""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from app.core.errors import Responses, error_response
from app.core.security import read_access_token
from app.db import SessionDep
from app.models import User

# What a route that needs a logged-in user (or an admin) may answer besides
# its own answers, for the OpenAPI schema.
BEARER = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
NEEDS_USER: Responses = {
    401: {**error_response("No token, or one that is not valid"), "headers": BEARER},
    403: error_response("The user is deactivated"),
}
NEEDS_ADMIN: Responses = {**NEEDS_USER, 403: error_response("The user is deactivated, or not an admin")}

# --8<-- [start:current-user]
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")
TokenDep = Annotated[str, Depends(oauth2_scheme)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    user_id = read_access_token(token)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not user.is_active:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Inactive user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
# --8<-- [end:current-user]


# --8<-- [start:admin-user]
def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admins only")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
# --8<-- [end:admin-user]
