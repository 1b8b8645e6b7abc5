"""WS /ws/tasks: a live feed of the changes to the connected user's tasks."""

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from app.deps import LiveUpdatesDep, WebSocketUser

router = APIRouter(prefix="/ws", tags=["live updates"])


@router.websocket("/tasks")
async def task_updates(websocket: WebSocket, user: WebSocketUser, live: LiveUpdatesDep) -> None:
    await websocket.accept()
    if user is None:
        # 1008 "policy violation": the standard code for "you may not connect".
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="Not authenticated")
        return
    live.connect(user.id, websocket)
    try:
        while True:
            # We send, the client only listens; waiting here notices when it leaves.
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        live.disconnect(user.id, websocket)
