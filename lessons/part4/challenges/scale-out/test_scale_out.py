"""Challenge: the app on several worker processes, with Redis and PostgreSQL.

These tests run the app as production runs it: `uvicorn --workers 2` in a
process of its own, on a real PostgreSQL database, with BROADCAST_URL pointing
at a real redis-server. They open WebSockets until every worker holds some (the
`AppProcesses` helper in conftest.py asks the system which worker holds each
connection), make changes through one worker or the other, and check that
every socket hears about them.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import psycopg
import pytest
import redis
from websockets.exceptions import ConnectionClosed

from conftest import AppProcesses, eventually, require_settings

WAIT = 5  # seconds for an event to arrive


def listeners_on_redis(client: redis.Redis) -> int:
    """How many subscriptions Redis holds, to channels and to patterns."""
    channels = client.pubsub_channels()
    per_channel = client.pubsub_numsub(*channels) if channels else []
    return sum(count for _, count in per_channel) + client.pubsub_numpat()


@pytest.fixture(scope="module")
def database_url(postgres_server) -> str:
    return postgres_server.create_database("scale_out")


@pytest.fixture(scope="module")
def cluster(redis_server, database_url, tmp_path_factory):
    """The app on two worker processes, on PostgreSQL, with BROADCAST_URL set."""
    redis_server.client.flushall()
    app = AppProcesses(
        tmp_path_factory.mktemp("scale-out"),
        {"DATABASE_URL": database_url, "BROADCAST_URL": redis_server.url},
        workers=2,
    )
    app.start()
    yield app
    app.stop()


@pytest.fixture
def workers(cluster, redis_server) -> AppProcesses:
    """The running app, once every worker listens on Redis (else each test fails at once)."""
    require_settings("broadcast_url")
    listening = listeners_on_redis(redis_server.client)
    if listening < cluster.workers:
        pytest.fail(
            f"{listening} subscription(s) in Redis for {cluster.workers} workers: with BROADCAST_URL "
            "set, each worker should subscribe to Redis pub/sub while it runs (in the lifespan)",
            pytrace=False,
        )
    return cluster


def feed(token: str) -> str:
    return f"/ws/tasks?token={token}"


def every_socket(sockets: dict[int, list]) -> list:
    return [websocket for group in sockets.values() for websocket in group]


def next_message(websocket) -> str:
    """The next message on `websocket`, or a failure saying that none came."""
    try:
        return websocket.recv(timeout=WAIT)
    except TimeoutError:
        pytest.fail(f"a socket received nothing within {WAIT} s", pytrace=False)
    except ConnectionClosed as closed:
        pytest.fail(f"the server closed a socket that should be listening ({closed})", pytrace=False)


def other_worker(cluster: AppProcesses, worker: int) -> int:
    return next(pid for pid in cluster.worker_pids() if pid != worker)


@pytest.mark.points(1, hint="PostgreSQL's INTEGER is 32-bit: make the id columns BIGINT there, with BigInteger().with_variant(Integer(), 'sqlite').")
def test_the_largest_id_the_api_takes_is_looked_up_on_postgresql(cluster):
    """On PostgreSQL, GET /tasks/9223372036854775807 (2^63 - 1, the largest id the API takes) answers 404, not a server error."""
    with closing(cluster.client_on(cluster.worker_pids()[0])) as http:
        headers = {"Authorization": f"Bearer {cluster.new_user(http, 'bigint')}"}
        response = http.get(f"/tasks/{2**63 - 1}", headers=headers)
    assert response.status_code == 404, f"answered {response.status_code}: {response.text[:200]}"


@pytest.mark.points(3, hint="Publish each event on a Redis channel; let every worker subscribe and deliver to its own sockets.")
def test_sockets_on_every_worker_hear_a_change_made_through_any_worker(workers):
    """A user's sockets on both workers each receive "Task created/updated/deleted: ..." for changes made through one worker and then the other."""
    first = workers.worker_pids()[0]
    second = other_worker(workers, first)
    with closing(workers.client_on(first)) as through_first, closing(workers.client_on(second)) as through_second:
        token = workers.new_user(through_first, "ada")
        headers = {"Authorization": f"Bearer {token}"}
        sockets = every_socket(workers.websockets_on_every_worker(feed(token)))

        task = through_first.post("/tasks/", json={"title": "Water the plants"}, headers=headers).json()
        assert [next_message(ws) for ws in sockets] == ["Task created: Water the plants"] * len(sockets)

        through_second.patch(f"/tasks/{task['id']}", json={"title": "Water the ferns"}, headers=headers)
        assert [next_message(ws) for ws in sockets] == ["Task updated: Water the ferns"] * len(sockets)

        through_second.delete(f"/tasks/{task['id']}", headers=headers)
        assert [next_message(ws) for ws in sockets] == ["Task deleted: Water the ferns"] * len(sockets)
        for websocket in sockets:
            websocket.close()


@pytest.mark.points(2, hint="Send the user id along with each event, and deliver it only to that user's sockets.")
def test_other_users_hear_nothing_on_any_worker(workers):
    """Bob's sockets on both workers hear nothing of Alice's changes: the first thing each one hears is Bob's own task."""
    first = workers.worker_pids()[0]
    second = other_worker(workers, first)
    with closing(workers.client_on(first)) as through_first, closing(workers.client_on(second)) as through_second:
        alice = {"Authorization": f"Bearer {workers.new_user(through_first, 'alice')}"}
        bob_token = workers.new_user(through_second, "bob")
        bobs_sockets = every_socket(workers.websockets_on_every_worker(feed(bob_token)))

        for through in (through_first, through_second):
            task = through.post("/tasks/", json={"title": "Alice's secret"}, headers=alice).json()
            through.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=alice)
            through.delete(f"/tasks/{task['id']}", headers=alice)
        through_first.post("/tasks/", json={"title": "Bob's errand"}, headers={"Authorization": f"Bearer {bob_token}"})

        assert [next_message(ws) for ws in bobs_sockets] == ["Task created: Bob's errand"] * len(bobs_sockets)
        for websocket in bobs_sockets:
            websocket.close()


@pytest.mark.points(3, hint="Each task is a row in PostgreSQL, whichever worker wrote it; each event goes through Redis.")
def test_concurrent_writes_through_both_workers_lose_nothing(workers, database_url):
    """Twenty tasks created at once through both workers all get stored in PostgreSQL, listed, and announced on every socket."""
    pids = workers.worker_pids()
    clients = [workers.client_on(pid) for pid in pids for _ in range(2)]  # two connections to each worker
    try:
        token = workers.new_user(clients[0], "grace")
        headers = {"Authorization": f"Bearer {token}"}
        sockets = every_socket(workers.websockets_on_every_worker(feed(token)))
        titles = [f"Parallel task {n}" for n in range(20)]

        def create(n: int) -> int:
            return clients[n % len(clients)].post("/tasks/", json={"title": titles[n]}, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            statuses = list(pool.map(create, range(len(titles))))

        assert statuses == [201] * len(titles)
        listed = clients[1].get("/tasks/", headers=headers).json()
        assert sorted(task["title"] for task in listed) == sorted(titles)
        assert len({task["id"] for task in listed}) == len(titles), "every task gets an id of its own"
        with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
            stored = connection.execute("SELECT count(*) FROM task WHERE title LIKE 'Parallel task %'").fetchone()
        assert stored == (len(titles),), "the tasks should be stored in the PostgreSQL database of DATABASE_URL"
        for websocket in sockets:
            heard = sorted(next_message(websocket) for _ in titles)
            assert heard == sorted(f"Task created: {title}" for title in titles)
            websocket.close()
    finally:
        for http in clients:
            http.close()


@pytest.mark.points(2, hint="When the connection to Redis breaks, wait a moment and subscribe again, in a loop.")
def test_live_updates_come_back_after_redis_restarts(workers, redis_server):
    """After Redis restarts, every worker subscribes again by itself, and sockets opened before the restart hear new changes."""
    first = workers.worker_pids()[0]
    with closing(workers.client_on(first)) as http:
        token = workers.new_user(http, "linus")
        sockets = every_socket(workers.websockets_on_every_worker(feed(token)))

        redis_server.stop()
        redis_server.start()
        resubscribed = eventually(lambda: listeners_on_redis(redis_server.client) >= workers.workers, deadline=10)
        assert resubscribed, "10 s after Redis came back, not every worker had subscribed again"
        http.post("/tasks/", json={"title": "After the restart"}, headers={"Authorization": f"Bearer {token}"})
        assert [next_message(ws) for ws in sockets] == ["Task created: After the restart"] * len(sockets)
        for websocket in sockets:
            websocket.close()
