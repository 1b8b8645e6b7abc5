"""WS /ws/tasks: a live feed of the changes to the connected user's tasks."""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, status

from app.deps import LiveUpdatesDep, TokenExpiry, WebSocketUser

router = APIRouter(prefix="/ws", tags=["live updates"])


async def listen_until_closed(websocket: WebSocket) -> None:
    """Wait until the client leaves. We send, the client only listens: text it
    sends is ignored, and binary data, which this feed never takes, closes it."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA, reason="This feed takes no binary data")
            return


@router.websocket("/tasks")
async def task_updates(
    websocket: WebSocket, user: WebSocketUser, expires_at: TokenExpiry, live: LiveUpdatesDep
) -> None:
    await websocket.accept()
    if user is None or expires_at is None:
        # 1008 "policy violation": the standard code for "you may not connect".
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated")
        return
    assert user.id is not None  # a user read from the database has an id
    live.connect(user.id, websocket)
    try:
        # The token was checked once, when the socket opened: it may not outlive it.
        async with asyncio.timeout((expires_at - datetime.now(UTC)).total_seconds()):
            await listen_until_closed(websocket)
    except TimeoutError:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Token expired")
    finally:
        live.disconnect(user.id, websocket)
