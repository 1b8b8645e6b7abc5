"""WS /ws/tasks: a live feed of the changes to the connected user's tasks."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from app.config import get_settings
from app.deps import LiveUpdatesDep, WebSocketUser

# Codes 4000-4999 are the application's own. These follow HTTP's numbers:
# 429 Too Many Requests, 408 Request Timeout.
TOO_MANY_CONNECTIONS = 4429
NO_HEARTBEAT = 4408

router = APIRouter(prefix="/ws", tags=["live updates"])


@router.websocket("/tasks")
async def task_updates(websocket: WebSocket, user: WebSocketUser, live: LiveUpdatesDep) -> None:
    await websocket.accept()
    if user is None:
        # 1008 "policy violation": the standard code for "you may not connect".
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated")
        return
    settings = get_settings()
    most = settings.ws_max_connections_per_user
    if live.count(user.id) >= most:
        await websocket.close(code=TOO_MANY_CONNECTIONS, reason=f"Too many connections: at most {most} per user")
        return
    live.connect(user.id, websocket)
    idle = settings.ws_idle_timeout_seconds
    try:
        while True:
            # The client says "ping" now and then; a client that stays silent
            # for too long is gone (or frozen), and is let go.
            async with asyncio.timeout(idle):
                message = await websocket.receive_text()
            if message == "ping":
                await websocket.send_text("pong")
    except TimeoutError:
        await websocket.close(code=NO_HEARTBEAT, reason=f"No heartbeat: send \"ping\" at least every {idle:g} s")
    except WebSocketDisconnect:
        pass
    finally:
        live.disconnect(user.id, websocket)
