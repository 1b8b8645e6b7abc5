"""WS /ws/tasks: a live feed of the changes to the connected user's own tasks.

With TestClient, background tasks have run by the time a request returns, so
a test can change a task and then read the socket. Every test logs in first:
the feed, like /tasks/, is for logged-in users only.
"""

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import WebSocketDisconnect
from sqlmodel import select
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.timeout(20)


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def signed(claims: dict) -> str:
    from app.config import get_settings

    return jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm="HS256")


def in_minutes(minutes: float) -> int:
    return int((datetime.now(UTC) + timedelta(minutes=minutes)).timestamp())


# --8<-- [start:feed]
@contextmanager
def feed(client, headers: dict[str, str]) -> Iterator:
    """The open /ws/tasks socket of the user these headers belong to."""
    try:
        with client.websocket_connect(f"/ws/tasks?token={token_of(headers)}") as websocket:
            yield websocket
    except WebSocketDisconnect as closed:
        pytest.fail(f"the server closed /ws/tasks (code {closed.code}) while a logged-in user was using it")
# --8<-- [end:feed]


def add(client, headers, title: str) -> dict:
    response = client.post("/tasks/", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_closed_with_1008(client, url: str) -> None:
    """Connecting to `url` is refused: closed with 1008 before any message."""
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(url) as websocket:
            message = websocket.receive_text()  # the close comes first, if the socket was accepted
            pytest.fail(f"an unauthenticated socket received {message!r}")
    assert closed.value.code == 1008


# ---- who may listen ---------------------------------------------------------------------


# --8<-- [start:needs-token]
@pytest.mark.points(
    3, hint="Read the token from ?token=, and close with status.WS_1008_POLICY_VIOLATION when there is no valid user."
)
@pytest.mark.parametrize(
    "token",
    ["no token", "", "not-a-token", "forged", "alg none", "expired", "unknown user", "impossible user"],
)
def test_the_feed_needs_a_valid_token(client, auth_headers, token):
    """Without a valid token (none, garbage, forged, unsigned, expired, or naming nobody) the socket is closed with 1008 before any data."""
    claims = jwt.decode(token_of(auth_headers), options={"verify_signature": False})
    tokens = {
        "forged": jwt.encode(claims, "somebody else's key, not the server's", algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "expired": signed({**claims, "exp": in_minutes(-1)}),
        "unknown user": signed({**claims, "sub": "424242"}),
        "impossible user": signed({**claims, "sub": "-99999999999999999999999999"}),
    }
    url = "/ws/tasks" if token == "no token" else f"/ws/tasks?token={tokens.get(token, token)}"

    assert_closed_with_1008(client, url)
# --8<-- [end:needs-token]


@pytest.mark.points(2, hint="Check user.is_active in the WebSocket's user lookup too.")
def test_a_deactivated_user_cannot_listen(client, session, auth_headers):
    """A deactivated user's token is closed with 1008, like no token at all."""
    from app.models import User

    user = session.exec(select(User).where(User.username == "alice")).one()
    user.is_active = False
    session.add(user)
    session.commit()

    assert_closed_with_1008(client, f"/ws/tasks?token={token_of(auth_headers)}")


@pytest.mark.points(2, hint="When an admin sets is_active to false, close that user's sockets in a background task (live.close_user).")
def test_deactivating_a_user_closes_their_open_sockets(client, auth_headers, admin_headers):
    """A socket that is open when an admin deactivates its user is closed with 1008, so it hears nothing more, even after a reactivation."""
    user_id = client.get("/auth/me", headers=auth_headers).json()["id"]
    with client.websocket_connect(f"/ws/tasks?token={token_of(auth_headers)}") as websocket:
        response = client.patch(f"/admin/users/{user_id}", json={"is_active": False}, headers=admin_headers)
        assert response.status_code == 200

        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()

    assert closed.value.code == 1008


@pytest.mark.points(1)
def test_other_admin_changes_leave_the_socket_open(client, auth_headers, admin_headers):
    """Making a user an admin, or reactivating one who is active, does not close their feed."""
    user_id = client.get("/auth/me", headers=auth_headers).json()["id"]
    with feed(client, auth_headers) as websocket:
        for change in ({"is_admin": True}, {"is_active": True}, {"is_admin": False}):
            assert client.patch(f"/admin/users/{user_id}", json=change, headers=admin_headers).status_code == 200
        add(client, auth_headers, "Still listening")

        assert websocket.receive_text() == "Task created: Still listening"


@pytest.mark.points(2, hint="asyncio.timeout(...) around the receive loop, up to the token's exp; then close with 1008.")
def test_a_socket_is_closed_when_its_token_expires(client, auth_headers):
    """A socket opened with a token that expires in a moment hears its events until then, and is closed with 1008 when the token expires."""
    claims = jwt.decode(token_of(auth_headers), options={"verify_signature": False})
    short_lived = signed({**claims, "exp": int(time.time()) + 2})
    with client.websocket_connect(f"/ws/tasks?token={short_lived}") as websocket:
        add(client, auth_headers, "Before the end")
        assert websocket.receive_text() == "Task created: Before the end"
        started = time.monotonic()

        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()

    assert closed.value.code == 1008
    assert time.monotonic() - started < 5, "the socket stayed open long after its token expired"


@pytest.mark.points(2, hint="Read with websocket.receive(): it returns binary messages too, where receive_text() raises KeyError.")
def test_binary_data_closes_the_socket_with_1003(client, auth_headers):
    """Text a client sends is ignored; binary data closes its socket with 1003 (unsupported data), without an error in the server."""
    with client.websocket_connect(f"/ws/tasks?token={token_of(auth_headers)}") as websocket:
        websocket.send_text("hello")
        add(client, auth_headers, "Still listening")
        assert websocket.receive_text() == "Task created: Still listening"
        websocket.send_bytes(b"\x00\xff")

        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()

    assert closed.value.code == 1003


@pytest.mark.points(1)
def test_binary_data_leaves_no_traceback_in_the_server_log(live_server, caplog):
    """On a real server, a client that sends binary data gets a 1003 close, and the server logs no traceback."""
    from websockets.sync.client import connect

    caplog.set_level(logging.INFO)
    with live_server.client() as http:
        token = live_server.login(http, "alice")["Authorization"].removeprefix("Bearer ")
    with connect(f"{live_server.ws_url}/ws/tasks?token={token}", open_timeout=5) as websocket:
        websocket.send(b"\x00\xff")
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []


# ---- what a user hears ------------------------------------------------------------------


# --8<-- [start:every-change]
@pytest.mark.points(3, hint="After each change, background_tasks.add_task(live.send_to_user, user.id, message).")
def test_a_user_hears_every_change_to_their_tasks(client, auth_headers):
    """Creating, changing and deleting a task send "Task created: ...", "Task updated: ..." and "Task deleted: ...", in order."""
    with feed(client, auth_headers) as websocket:
        task = add(client, auth_headers, "Buy milk")
        client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=auth_headers)
        client.patch(f"/tasks/{task['id']}", json={"title": "Buy oat milk"}, headers=auth_headers)
        client.delete(f"/tasks/{task['id']}", headers=auth_headers)

        received = [websocket.receive_text() for _ in range(4)]

    assert received == [
        "Task created: Buy milk",
        "Task updated: Buy milk",
        "Task updated: Buy oat milk",
        "Task deleted: Buy oat milk",
    ]
# --8<-- [end:every-change]


@pytest.mark.points(
    3, hint="Keep each user's sockets apart (a dict from user id to sockets) and send only to the owner's."
)
def test_a_user_hears_nothing_about_other_users_tasks(client, login):
    """Alice's feed carries nothing about Bob's tasks, and Bob's nothing about hers."""
    alice, bob = login("alice"), login("bob")
    with feed(client, alice) as alice_feed, feed(client, bob) as bob_feed:
        task = add(client, bob, "Bob's secret")
        client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=bob)
        client.delete(f"/tasks/{task['id']}", headers=bob)
        add(client, alice, "Alice's task")

        # Had anything of Bob's reached Alice, it would come before her own message.
        assert alice_feed.receive_text() == "Task created: Alice's task"
        assert bob_feed.receive_text() == "Task created: Bob's secret"
        assert bob_feed.receive_text() == "Task updated: Bob's secret"
        assert bob_feed.receive_text() == "Task deleted: Bob's secret"
        add(client, bob, "Bob's last")
        assert bob_feed.receive_text() == "Task created: Bob's last"


@pytest.mark.points(1)
def test_a_change_that_fails_sends_nothing(client, login):
    """A refused change (422, or 404 on another user's task) sends no event to anyone."""
    alice, bob = login("alice"), login("bob")
    task = add(client, alice, "Alice's task")
    with feed(client, alice) as alice_feed, feed(client, bob) as bob_feed:
        client.post("/tasks/", json={"title": ""}, headers=alice)
        client.patch(f"/tasks/{task['id']}", json={"title": "Hacked"}, headers=bob)
        client.delete(f"/tasks/{task['id']}", headers=bob)
        add(client, alice, "Next")
        add(client, bob, "Bob's next")

        assert alice_feed.receive_text() == "Task created: Next"
        assert bob_feed.receive_text() == "Task created: Bob's next"


@pytest.mark.points(2)
def test_every_socket_of_a_user_hears_the_change(client, auth_headers):
    """A user with the feed open in two places (two tabs, say) gets each message in both."""
    with feed(client, auth_headers) as first, feed(client, auth_headers) as second:
        add(client, auth_headers, "Buy milk")

        assert first.receive_text() == "Task created: Buy milk"
        assert second.receive_text() == "Task created: Buy milk"


@pytest.mark.points(2, hint="Catch WebSocketDisconnect around the receive loop, and disconnect the socket in `finally`.")
def test_a_closed_socket_is_forgotten_and_the_others_still_hear(client, auth_headers):
    """When one of a user's sockets closes, the server forgets it cleanly and the user's other socket still gets its messages."""
    from app.deps import live_updates

    me = client.get("/auth/me", headers=auth_headers).json()["id"]
    with feed(client, auth_headers) as staying:
        with feed(client, auth_headers):
            assert live_updates.count(me) == 2
        # Leaving the block closed the second socket; the server noticed (no error).
        add(client, auth_headers, "Buy milk")

        assert staying.receive_text() == "Task created: Buy milk"
        assert live_updates.count(me) == 1
    assert live_updates.count(me) == 0


# ---- the receive loop, without a network ----------------------------------------------------


class QuietSocket:
    """A socket whose client never says anything, nor leaves."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict:
        self.waiting.set()
        await asyncio.Event().wait()  # forever
        raise AssertionError("unreachable")

    receive_text = receive

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        pass


@pytest.mark.points(
    2, hint="A bare `except:` (or `except BaseException`) swallows the cancellation too: catch WebSocketDisconnect only."
)
def test_the_feed_can_be_cancelled():
    """When the server cancels a socket's handler (as it does on shutdown), the handler stops, forgets the socket and lets the cancellation through."""
    from types import SimpleNamespace

    from app.live import ConnectionManager
    from app.routers.ws import task_updates

    manager = ConnectionManager(send_timeout=1)
    user = SimpleNamespace(id=7, username="alice", is_active=True)
    websocket = QuietSocket()

    async def cancel_while_listening() -> tuple[bool, int]:
        expires_at = datetime.now(UTC) + timedelta(minutes=5)
        handler = asyncio.create_task(task_updates(websocket=websocket, user=user, expires_at=expires_at, live=manager))
        await asyncio.wait_for(websocket.waiting.wait(), 5)
        listening = manager.count(7)
        handler.cancel()
        await asyncio.wait([handler], timeout=5)
        return handler.cancelled(), listening

    cancelled, listening = asyncio.run(cancel_while_listening())

    assert listening == 1
    assert cancelled, "the cancellation was swallowed: the handler ended as if nothing happened"
    assert manager.count(7) == 0


# ---- the same, on a real server ---------------------------------------------------------


@pytest.mark.points(2)
def test_the_feed_works_on_a_real_server(live_server):
    """Over a real network connection, a logged-in user's socket gets "Task created: ..." and a bad token is closed with 1008."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with live_server.client() as http:
        headers = live_server.login(http, "alice")
        with connect(f"{live_server.ws_url}/ws/tasks?token=not-a-token", open_timeout=5) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                refused.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

        with connect(f"{live_server.ws_url}/ws/tasks?token={token_of(headers)}", open_timeout=5) as websocket:
            # The server registers the socket as it accepts it: connect() returning means it is listening.
            assert http.post("/tasks/", json={"title": "Buy milk"}, headers=headers).status_code == 201

            assert websocket.recv(timeout=5) == "Task created: Buy milk"
