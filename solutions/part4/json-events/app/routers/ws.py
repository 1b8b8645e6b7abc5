"""The live feeds of the changes to the connected user's tasks.

WS /ws/tasks sends a sentence per change ("Task created: Buy milk"): the
dashboard shows it as it is. WS /ws/events sends a JSON object per change
({"event": "task_created", "task": {...}}), for programs to read."""

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from app.deps import LiveUpdatesDep, TaskEventsDep, WebSocketUser
from app.live import ConnectionManager
from app.models import User

router = APIRouter(prefix="/ws", tags=["live updates"])


async def follow(websocket: WebSocket, user: User | None, manager: ConnectionManager) -> None:
    """Keep the socket in `manager`, so that it gets its user's messages, until it leaves."""
    await websocket.accept()
    if user is None:
        # 1008 "policy violation": the standard code for "you may not connect".
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated")
        return
    manager.connect(user.id, websocket)
    try:
        while True:
            # We send, the client only listens; waiting here notices when it leaves.
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        manager.disconnect(user.id, websocket)


@router.websocket("/tasks")
async def task_updates(websocket: WebSocket, user: WebSocketUser, live: LiveUpdatesDep) -> None:
    await follow(websocket, user, live)


@router.websocket("/events")
async def task_event_feed(websocket: WebSocket, user: WebSocketUser, events: TaskEventsDep) -> None:
    await follow(websocket, user, events)
