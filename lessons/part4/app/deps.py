"""Dependencies the routes share: who is asking, and the live-update channel."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from app.config import get_settings
from app.core.errors import Responses, error_response
from app.core.security import read_access_token, token_expires_at
from app.db import SessionDep
from app.live import ConnectionManager
from app.models import User

live_updates = ConnectionManager(send_timeout=get_settings().ws_send_timeout_seconds)

# What a route that needs a logged-in user (or an admin) may answer besides
# its own answers, for the OpenAPI schema.
BEARER = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
NEEDS_USER: Responses = {
    401: {**error_response("No token, or one that is not valid"), "headers": BEARER},
    403: error_response("The user is deactivated"),
}
NEEDS_ADMIN: Responses = {**NEEDS_USER, 403: error_response("The user is deactivated, or not an admin")}

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


def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admins only")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


# --8<-- [start:live-updates]
def get_live_updates() -> ConnectionManager:
    """The one connection manager of this process."""
    return live_updates


LiveUpdatesDep = Annotated[ConnectionManager, Depends(get_live_updates)]
# --8<-- [end:live-updates]


# --8<-- [start:websocket-user]
def get_websocket_user(session: SessionDep, token: str = "") -> User | None:
    """The active user that a WebSocket's `?token=` belongs to, or None.

    Browsers cannot set headers on a WebSocket, so the token comes in the URL."""
    user_id = read_access_token(token)
    user = session.get(User, user_id) if user_id is not None else None
    # A socket can stay open for hours: give the database connection back now.
    session.close()
    if user is None or not user.is_active:
        return None
    return user


WebSocketUser = Annotated[User | None, Depends(get_websocket_user)]


def get_token_expiry(token: str = "") -> datetime | None:
    """When the WebSocket's token expires (None if it is not valid): the socket may not outlive it."""
    return token_expires_at(token)


TokenExpiry = Annotated[datetime | None, Depends(get_token_expiry)]
# --8<-- [end:websocket-user]
