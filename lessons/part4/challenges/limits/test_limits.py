"""Challenge: limits on WebSockets and on creating tasks.

The WebSocket tests use the TestClient, or the app in a real server on a
thread of this process (`live_server`), with small limits set through the
settings (`settings_env`). So that no test waits for a message that never comes,
each one that expects a socket to be closed first creates a task: a socket that
is still open hears about it, and the test fails at once.

The rate-limit tests keep the buckets in a real redis-server; the last one runs
the app on two worker processes (`uvicorn --workers 2`) and sends requests
through each of them.
"""

import time
from contextlib import ExitStack, closing

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from conftest import AppProcesses, require_settings

WAIT = 2  # seconds for an answer on a live socket


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def feed(headers: dict[str, str]) -> str:
    return f"/ws/tasks?token={token_of(headers)}"


def how_it_was_closed(websocket, client: TestClient, headers: dict[str, str]) -> WebSocketDisconnect:
    """How the server closed `websocket`; a failure if it is still open (it hears of a new task)."""
    client.post("/tasks/", json={"title": "Anybody there?"}, headers=headers)
    try:
        message = websocket.receive_text()
    except WebSocketDisconnect as closed:
        return closed
    pytest.fail(f"the socket should have been closed, but it is open and received {message!r}", pytrace=False)


# ---- at most N sockets per user -----------------------------------------------------


@pytest.mark.points(2, hint="Before live.connect(), compare live.count(user.id) with the setting, and close with code 4429.")
def test_one_socket_over_the_cap_is_closed_with_4429(client, auth_headers, settings_env):
    """With WS_MAX_CONNECTIONS_PER_USER=2, a user's third socket is closed with code 4429 and a reason that says "Too many connections"."""
    settings_env(WS_MAX_CONNECTIONS_PER_USER="2")
    with ExitStack() as open_sockets:
        for _ in range(2):
            open_sockets.enter_context(client.websocket_connect(feed(auth_headers)))
        with client.websocket_connect(feed(auth_headers)) as third:
            closed = how_it_was_closed(third, client, auth_headers)

    assert closed.code == 4429
    assert "too many connections" in closed.reason.lower()


@pytest.mark.points(2, hint="Count each user's open sockets only: the connection manager already keeps them per user.")
def test_the_cap_counts_each_users_open_sockets(client, login, settings_env):
    """The cap is per user and counts open sockets: Bob connects while Alice is at her cap, and Alice may connect again once she closes one."""
    settings_env(WS_MAX_CONNECTIONS_PER_USER="1")
    alice, bob = login("alice"), login("bob")
    with client.websocket_connect(feed(alice)) as first:
        with client.websocket_connect(feed(bob)) as bobs:
            client.post("/tasks/", json={"title": "Bob's own"}, headers=bob)
            assert bobs.receive_text() == "Task created: Bob's own"
        with client.websocket_connect(feed(alice)) as second:
            assert how_it_was_closed(second, client, alice).code == 4429
        assert first.receive_text() == "Task created: Anybody there?"

    with client.websocket_connect(feed(alice)) as again:
        client.post("/tasks/", json={"title": "Back again"}, headers=alice)
        assert again.receive_text() == "Task created: Back again"


# ---- heartbeats ---------------------------------------------------------------------


@pytest.mark.points(2, hint='Wrap receive_text() in asyncio.timeout(...); on TimeoutError, close with code 4408.')
def test_a_silent_socket_is_closed_with_4408(client, auth_headers, settings_env):
    """With WS_IDLE_TIMEOUT_SECONDS=0.3, a socket that sends nothing for that long is closed with code 4408 and forgotten by the connection manager."""
    from app.deps import live_updates

    settings_env(WS_IDLE_TIMEOUT_SECONDS="0.3")
    user_id = client.get("/auth/me", headers=auth_headers).json()["id"]
    with client.websocket_connect(feed(auth_headers)) as websocket:
        time.sleep(0.6)
        closed = how_it_was_closed(websocket, client, auth_headers)

    assert closed.code == 4408
    assert live_updates.count(user_id) == 0, "the closed socket should be forgotten"


@pytest.mark.points(1, hint='In the receive loop: when the message is "ping", send "pong".')
def test_ping_is_answered_with_pong(live_server):
    """A client that sends "ping" on the feed gets "pong" back."""
    with live_server.client() as http:
        headers = live_server.login(http, "alice")
    with connect(live_server.ws_url + feed(headers), proxy=None, open_timeout=WAIT) as websocket:
        websocket.send("ping")
        assert websocket.recv(timeout=WAIT) == "pong"


@pytest.mark.points(2, hint="Every message received starts a new timeout: the client's pings keep the socket open.")
def test_a_socket_that_keeps_pinging_stays_open(live_server, settings_env):
    """With WS_IDLE_TIMEOUT_SECONDS=0.5, a client that says "ping" every 0.2 s is still connected after 1.2 s, and still hears about new tasks."""
    settings_env(WS_IDLE_TIMEOUT_SECONDS="0.5")
    with live_server.client() as http:
        headers = live_server.login(http, "alice")
        with connect(live_server.ws_url + feed(headers), proxy=None, open_timeout=WAIT) as websocket:
            for _ in range(6):
                time.sleep(0.2)
                websocket.send("ping")
                assert websocket.recv(timeout=WAIT) == "pong"
            http.post("/tasks/", json={"title": "Still here"}, headers=headers)
            assert websocket.recv(timeout=WAIT) == "Task created: Still here"


# ---- a token bucket per user for POST /tasks/ ---------------------------------------


@pytest.fixture
def rate_limit(redis_server, settings_env):
    """A function that turns the rate limit on, with its buckets in an empty Redis."""
    require_settings("redis_url", "rate_limit_per_minute", "rate_limit_burst")
    redis_server.client.flushall()

    def turn_on(per_minute: float, burst: int) -> None:
        settings_env(REDIS_URL=redis_server.url, RATE_LIMIT_PER_MINUTE=str(per_minute), RATE_LIMIT_BURST=str(burst))

    return turn_on


def create(client, headers: dict[str, str], title: str = "Another one"):
    return client.post("/tasks/", json={"title": title}, headers=headers)


@pytest.mark.points(3, hint="raise HTTPException(429, detail=..., headers={'Retry-After': str(seconds)})")
def test_creating_more_than_the_burst_answers_429_with_retry_after(client, auth_headers, rate_limit):
    """With RATE_LIMIT_BURST=3 and RATE_LIMIT_PER_MINUTE=6, the fourth quick POST /tasks/ answers 429 with Retry-After: 10 (or 9), and creates nothing."""
    rate_limit(per_minute=6, burst=3)
    assert [create(client, auth_headers).status_code for _ in range(3)] == [201, 201, 201]

    refused = create(client, auth_headers, "One too many")
    assert refused.status_code == 429
    assert "detail" in refused.json()
    retry_after = refused.headers.get("retry-after", "")
    assert retry_after in ("9", "10"), f"one token every 10 s: the next one comes in 9 or 10 s, not {retry_after!r}"
    titles = [task["title"] for task in client.get("/tasks/", headers=auth_headers).json()]
    assert "One too many" not in titles and len(titles) == 3


@pytest.mark.points(2, hint="One bucket per user: put the user's id in the Redis key.")
def test_the_limit_is_per_user_and_only_on_creating(client, login, rate_limit):
    """When Alice's bucket is empty she may still list and change her tasks, and Bob may still create his."""
    rate_limit(per_minute=1, burst=1)
    alice, bob = login("alice"), login("bob")
    task = create(client, alice).json()
    assert create(client, alice).status_code == 429

    assert client.get("/tasks/", headers=alice).status_code == 200
    assert client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=alice).status_code == 200
    assert create(client, bob).status_code == 201


@pytest.mark.points(2, hint="Add (time passed) x (tokens per second) to the bucket, up to the burst, before taking one.")
def test_tokens_come_back_at_the_configured_rate(client, auth_headers, rate_limit):
    """With RATE_LIMIT_PER_MINUTE=60 (one a second) and a burst of 2, an empty bucket has a token again once Retry-After has passed, and only one."""
    rate_limit(per_minute=60, burst=2)
    assert [create(client, auth_headers).status_code for _ in range(2)] == [201, 201]
    refused = create(client, auth_headers)
    assert refused.status_code == 429
    time.sleep(float(refused.headers["retry-after"]))
    assert [create(client, auth_headers).status_code for _ in range(2)] == [201, 429]


@pytest.mark.points(1, hint="A pydantic model_validator on Settings can check two fields together.")
def test_a_rate_limit_without_redis_is_refused_at_start_up(settings_env):
    """RATE_LIMIT_PER_MINUTE without REDIS_URL makes reading the settings fail, with a message naming REDIS_URL."""
    with pytest.raises(ValueError, match="REDIS_URL"):
        settings_env(RATE_LIMIT_PER_MINUTE="30", REDIS_URL=None)


@pytest.mark.points(3, hint="Keep the bucket in Redis, and change it in one step (a Lua script) so two workers never both take the last token.")
def test_the_limit_holds_across_worker_processes(redis_server, tmp_path):
    """On `uvicorn --workers 2` with a burst of 4, two tasks through each worker use up the bucket: the next one is refused on both workers."""
    require_settings("redis_url", "rate_limit_per_minute", "rate_limit_burst")
    redis_server.client.flushall()
    limits = {"REDIS_URL": redis_server.url, "RATE_LIMIT_PER_MINUTE": "1", "RATE_LIMIT_BURST": "4"}
    workers = AppProcesses(tmp_path, limits, workers=2)
    workers.start()
    try:
        first, second = workers.worker_pids()
        with closing(workers.client_on(first)) as through_first, closing(workers.client_on(second)) as through_second:
            headers = {"Authorization": f"Bearer {workers.new_user(through_first, 'alice')}"}
            statuses = [create(http, headers).status_code for http in (through_first, through_second) * 2]
            assert statuses == [201] * 4

            for http in (through_first, through_second):
                refused = create(http, headers)
                assert refused.status_code == 429, "the bucket is empty, whichever worker is asked"
                assert 1 <= int(refused.headers["retry-after"]) <= 60
    finally:
        workers.stop()
