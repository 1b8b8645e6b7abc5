"""The ConnectionManager on its own, with small fake sockets instead of real ones.

These tests run the manager's coroutines with asyncio.run() inside ordinary
test functions: no asyncio plugin and no marker is needed.
"""

import asyncio

import pytest
from fastapi import WebSocketDisconnect

pytestmark = pytest.mark.timeout(20)

SEND_TIMEOUT = 0.2  # seconds: how long the manager here lets one send take


class FakeSocket:
    """A socket that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self._hash = id(self)

    def __hash__(self) -> int:
        return self._hash

    async def send_text(self, message: str) -> None:
        self.received.append(message)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = (code, reason)


# --8<-- [start:closed-socket]
class ClosedSocket(FakeSocket):
    """A socket whose client has gone: sending raises, as Starlette does."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.attempts = 0

    async def send_text(self, message: str) -> None:
        self.attempts += 1
        raise self.error
# --8<-- [end:closed-socket]


# --8<-- [start:stalled-socket]
class StalledSocket(FakeSocket):
    """A socket whose client stopped reading: a send never finishes."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck = False  # true while a send is waiting
        self.attempts = 0

    async def send_text(self, message: str) -> None:
        self.attempts += 1
        self.stuck = True
        try:
            await asyncio.Event().wait()  # forever, unless cancelled
        finally:
            self.stuck = False
# --8<-- [end:stalled-socket]


class WitnessSocket(FakeSocket):
    """A quick socket that notes, on receiving, whether a stalled one is still stuck."""

    def __init__(self, stalled: StalledSocket) -> None:
        super().__init__()
        self.stalled = stalled
        self.received_while_other_was_stuck: list[bool] = []

    async def send_text(self, message: str) -> None:
        self.received_while_other_was_stuck.append(self.stalled.stuck)
        await super().send_text(message)


def manager_with(sockets_by_user: dict[int, list[FakeSocket]]):
    from app.live import ConnectionManager

    manager = ConnectionManager(send_timeout=SEND_TIMEOUT)
    for user_id, sockets in sockets_by_user.items():
        for position, websocket in enumerate(sockets):
            # Small hashes in this order make a set (as well as a list or a
            # dict) hand the sockets out in the order given: a test can put a
            # bad socket first, where a loop over the sockets meets it first.
            websocket._hash = position
            manager.connect(user_id, websocket)
    return manager


def send(manager, user_id: int, *messages: str) -> None:
    """Send each message to one user's sockets, as the app's background tasks do."""

    async def send_all() -> None:
        for message in messages:
            # A manager that waits for ever would hang the test: stop it after 5 s.
            await asyncio.wait_for(manager.send_to_user(user_id, message), 5)

    asyncio.run(send_all())


@pytest.mark.points(2)
def test_a_message_goes_to_every_socket_of_one_user_only():
    """send_to_user reaches every socket of that user, and no socket of anyone else."""
    alice_phone, alice_laptop, bob = FakeSocket(), FakeSocket(), FakeSocket()
    manager = manager_with({1: [alice_phone, alice_laptop], 2: [bob]})

    send(manager, 1, "Task created: Buy milk")

    assert alice_phone.received == alice_laptop.received == ["Task created: Buy milk"]
    assert bob.received == []


# --8<-- [start:dead-socket]
@pytest.mark.points(3, hint="Catch WebSocketDisconnect and RuntimeError for each socket, not around the whole loop.")
@pytest.mark.parametrize(
    "error",
    [WebSocketDisconnect(code=1001), RuntimeError('Cannot call "send" once a close message has been sent.')],
    ids=["disconnected", "already closed"],
)
def test_a_dead_socket_is_dropped_and_the_others_still_get_the_message(error):
    """A socket that fails to send does not stop the others from getting the message, and is dropped for good."""
    dead, alive = ClosedSocket(error), FakeSocket()  # the dead one comes first
    manager = manager_with({1: [dead, alive]})

    send(manager, 1, "Task created: Buy milk", "Task updated: Buy milk")

    assert alive.received == ["Task created: Buy milk", "Task updated: Buy milk"]
    assert dead.attempts == 1, "a socket that failed once should not be tried again"
    assert manager.count(1) == 1
# --8<-- [end:dead-socket]


# --8<-- [start:stalled]
@pytest.mark.points(3, hint="Send to all sockets at once (asyncio.gather), each under asyncio.timeout(...).")
def test_a_stalled_socket_never_delays_the_others():
    """While one socket is stuck in a send, the user's other sockets already have the message; the stuck one is dropped after the timeout."""
    stalled = StalledSocket()
    quick = [WitnessSocket(stalled), WitnessSocket(stalled)]
    manager = manager_with({1: [stalled, *quick]})  # the stalled one first

    send(manager, 1, "Task created: Buy milk", "Task updated: Buy milk")

    for websocket in quick:
        assert websocket.received == ["Task created: Buy milk", "Task updated: Buy milk"]
        assert websocket.received_while_other_was_stuck[0], "the message waited for the stalled socket"
    assert stalled.attempts == 1
    assert not stalled.stuck, "the stalled send should be given up (cancelled) after the timeout"
    assert manager.count(1) == 2
# --8<-- [end:stalled]


@pytest.mark.points(1)
def test_connect_disconnect_and_count():
    """connect adds a user's socket, disconnect removes it, and removing one that is not there is harmless."""
    first, second, stranger = FakeSocket(), FakeSocket(), FakeSocket()
    manager = manager_with({1: [first, second]})
    assert (manager.count(1), manager.count(2)) == (2, 0)

    manager.disconnect(1, first)
    manager.disconnect(1, stranger)  # never connected
    manager.disconnect(2, stranger)  # a user with no socket at all
    assert manager.count(1) == 1

    manager.disconnect(1, second)
    assert manager.count(1) == 0
    send(manager, 1, "Task created: Into the void")  # nobody listening: nothing happens
    assert first.received == second.received == []


@pytest.mark.points(1)
def test_a_socket_can_come_back_after_it_was_dropped():
    """A user whose socket was dropped can connect again and gets the next message."""
    dead = ClosedSocket(WebSocketDisconnect(code=1006))
    manager = manager_with({1: [dead]})
    send(manager, 1, "Task created: Lost")
    assert manager.count(1) == 0

    again = FakeSocket()
    manager.connect(1, again)
    send(manager, 1, "Task created: Found")

    assert again.received == ["Task created: Found"]


class AlreadyClosedSocket(FakeSocket):
    """A socket closed already: closing it again raises, as Starlette does."""

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        raise RuntimeError('Cannot call "send" once a close message has been sent.')


@pytest.mark.points(1, hint="close_user closes each of the user's sockets with 1008 and forgets them all.")
def test_close_user_closes_every_socket_of_that_user_only():
    """close_user closes each socket of one user with 1008 (even when one was closed already) and forgets them; other users keep theirs."""
    phone, gone, bob = FakeSocket(), AlreadyClosedSocket(), FakeSocket()
    manager = manager_with({1: [gone, phone], 2: [bob]})

    asyncio.run(manager.close_user(1, "User deactivated"))

    assert phone.closed_with == (1008, "User deactivated")
    assert (manager.count(1), manager.count(2)) == (0, 1)
    send(manager, 1, "Task created: Nobody hears this")
    assert phone.received == []
    assert not hasattr(bob, "closed_with")
