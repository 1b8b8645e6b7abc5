"""Live updates: which WebSockets belong to which user, and sending to them."""

import asyncio
import logging
from collections import defaultdict

from fastapi import WebSocket, WebSocketDisconnect, status

logger = logging.getLogger(__name__)


# --8<-- [start:manager]
class ConnectionManager:
    """Keeps each user's open sockets and sends them their events."""

    # --8<-- [start:bookkeeping]
    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self._sockets: defaultdict[int, set[WebSocket]] = defaultdict(set)

    def connect(self, user_id: int, websocket: WebSocket) -> None:
        self._sockets[user_id].add(websocket)

    def disconnect(self, user_id: int, websocket: WebSocket) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is None:
            return
        sockets.discard(websocket)
        if not sockets:
            del self._sockets[user_id]

    def count(self, user_id: int) -> int:
        return len(self._sockets.get(user_id, ()))
    # --8<-- [end:bookkeeping]

    # --8<-- [start:send]
    async def send_to_user(self, user_id: int, message: str) -> None:
        """Send `message` to every socket of one user, all at once.

        A socket that is closed, or too slow to take the message in time, is
        dropped; the others get their message anyway and never wait for it."""
        sockets = list(self._sockets.get(user_id, ()))
        delivered = await asyncio.gather(*(self._send(ws, message) for ws in sockets))
        for websocket, ok in zip(sockets, delivered, strict=True):
            if not ok:
                self.disconnect(user_id, websocket)

    async def _send(self, websocket: WebSocket, message: str) -> bool:
        try:
            async with asyncio.timeout(self.send_timeout):
                await websocket.send_text(message)
        except (TimeoutError, WebSocketDisconnect, RuntimeError) as error:
            # RuntimeError: Starlette refuses to send on a socket that is already closed.
            logger.info("Dropping a WebSocket that could not take a message: %r", error)
            return False
        return True
    # --8<-- [end:send]

    async def close_user(self, user_id: int, reason: str) -> None:
        """Close every socket of one user with 1008, as when they connect without the right."""
        for websocket in list(self._sockets.pop(user_id, ())):
            try:
                await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
            except RuntimeError:
                pass  # it was closed already
# --8<-- [end:manager]
