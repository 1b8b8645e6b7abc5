"""Dependencies the routes share: who is asking, and the live-update channel."""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from app.broadcast import RedisBroadcast
from app.config import get_settings
from app.core.security import read_access_token
from app.db import SessionDep
from app.live import ConnectionManager
from app.models import User


def make_live_updates() -> ConnectionManager:
    """Through Redis when BROADCAST_URL is set, so that every worker hears every event."""
    settings = get_settings()
    if settings.broadcast_url:
        return RedisBroadcast(settings.broadcast_url, send_timeout=settings.ws_send_timeout_seconds)
    return ConnectionManager(send_timeout=settings.ws_send_timeout_seconds)


live_updates = make_live_updates()

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
    """The one connection manager of this process (it may send through Redis)."""
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
# --8<-- [end:websocket-user]
