"""Live updates across worker processes, through Redis pub/sub.

`uvicorn --workers 4` runs four processes, and each one holds only the
WebSockets that happened to connect to it. So every event is published on one
Redis channel instead; every worker subscribes to that channel and passes each
event on to the sockets it holds itself."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.live import ConnectionManager

logger = logging.getLogger(__name__)

CHANNEL = "task-updates"
RESUBSCRIBE_SECONDS = 1.0
STARTUP_SECONDS = 10.0


class RedisBroadcast(ConnectionManager):
    """A connection manager whose events reach the sockets of every worker.

    Sockets are still kept per process (`connect` and `disconnect` are
    inherited); what changes is that `send_to_user` publishes the event, and
    `relay` delivers what is published to this process's sockets."""

    def __init__(self, url: str, send_timeout: float) -> None:
        super().__init__(send_timeout)
        self.redis = Redis.from_url(url)
        self._deliveries: set[asyncio.Task[None]] = set()

    async def send_to_user(self, user_id: int, message: str) -> None:
        """Publish the event: every worker, this one included, hears it and delivers it."""
        event = json.dumps({"user_id": user_id, "message": message})
        try:
            await self.redis.publish(CHANNEL, event)
        except RedisError as error:
            logger.warning("A live update was not sent: Redis is unreachable (%r)", error)

    async def relay(self, subscribed: asyncio.Event) -> None:
        """Deliver every event published on the channel, for as long as the app runs.

        When the connection to Redis breaks, subscribe again a moment later.
        Pub/sub keeps nothing for absent listeners: events published in between are lost."""
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    subscribed.set()
                    async for item in pubsub.listen():
                        if item["type"] == "message":
                            self._deliver(json.loads(item["data"]))
            except RedisError as error:
                logger.warning("Lost Redis (%r): subscribing again in %s s", error, RESUBSCRIBE_SECONDS)
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    def _deliver(self, event: dict[str, int | str]) -> None:
        # One task per event, so that a slow socket never holds up the events after it.
        # The set keeps a reference to each task until it is done (asyncio only keeps a weak one).
        delivery = asyncio.create_task(super().send_to_user(int(event["user_id"]), str(event["message"])))
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)


@asynccontextmanager
async def relaying(broadcast: RedisBroadcast) -> AsyncIterator[None]:
    """Relay events while the block runs; it starts once the subscription is in place."""
    subscribed = asyncio.Event()
    relay = asyncio.create_task(broadcast.relay(subscribed))
    try:
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                await subscribed.wait()
        except TimeoutError:
            raise SystemExit(f"BROADCAST_URL: Redis did not answer within {STARTUP_SECONDS:g} s; is it running?") from None
        yield
    finally:
        relay.cancel()
        with suppress(asyncio.CancelledError):
            await relay
        await broadcast.redis.aclose()
