"""Notifications: sent after the response, through a notifier the tests can replace.

The `client` fixture replaces the app's notifier with a RecordingNotifier (the
`notifier` fixture) through app.dependency_overrides[get_notifier]. That works
because the route asks for its notifier with Depends(get_notifier); a plain
function called inside the route could not be replaced that way.
"""

import asyncio
import logging
import re
import threading

import httpx
import pytest


def add(client, headers, title: str) -> dict:
    response = client.post("/tasks/", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def notifications_log(tmp_path, settings_env):
    """NOTIFICATIONS_LOG set to a file in tmp_path, read by the app's settings."""
    path = tmp_path / "notifications.log"
    settings = settings_env(NOTIFICATIONS_LOG=str(path))
    assert settings.notifications_log == path
    return path


@pytest.fixture
def default_notifier(client, notifications_log):
    """The `client` fixture, but with the app's own notifier instead of the recording one."""
    from app.main import app
    from app.notifications import get_notifier

    app.dependency_overrides.pop(get_notifier)
    return notifications_log


# ---- the notifier is called, and can be replaced ---------------------------------------


# --8<-- [start:notifies-owner]
@pytest.mark.points(3, hint="background_tasks.add_task(notify_safely, notifier, user.username, message, task.id)")
def test_creating_a_task_notifies_its_owner(client, auth_headers, notifier):
    """Creating a task calls the notifier once with the owner's username and "Task created: {title}"."""
    add(client, auth_headers, "Buy milk")

    assert notifier.sent == [("alice", "Task created: Buy milk")]
# --8<-- [end:notifies-owner]


@pytest.mark.points(1)
def test_the_notification_names_the_task_as_it_was_saved(client, auth_headers, notifier):
    """The notification quotes the title as saved, without the spaces the client put around it."""
    add(client, auth_headers, "   Buy milk   ")

    assert notifier.sent == [("alice", "Task created: Buy milk")]


@pytest.mark.points(1)
def test_a_rejected_task_sends_no_notification(client, auth_headers, notifier):
    """A task that is refused (422, or 401 without a token) sends no notification."""
    client.post("/tasks/", json={"title": ""}, headers=auth_headers)
    client.post("/tasks/", json={"title": "Buy milk"})

    assert notifier.sent == []


@pytest.mark.points(1)
def test_each_user_is_notified_of_their_own_tasks(client, login, notifier):
    """Each notification goes to the user who created the task."""
    alice, bob = login("alice"), login("bob")

    add(client, alice, "Alice's task")
    add(client, bob, "Bob's task")

    assert notifier.sent == [("alice", "Task created: Alice's task"), ("bob", "Task created: Bob's task")]


# --8<-- [start:override]
@pytest.mark.points(
    2,
    hint="Overriding a plain function (send_notification) does nothing: override the dependency, get_notifier.",
)
def test_overriding_get_notifier_really_replaces_the_default_notifier(
    client, notifications_log, auth_headers, notifier
):
    """With get_notifier overridden, the recording notifier gets the message and the default notifier writes nothing."""
    add(client, auth_headers, "Buy milk")

    assert notifier.sent == [("alice", "Task created: Buy milk")]
    assert not notifications_log.exists(), "the default notifier ran although get_notifier was overridden"
# --8<-- [end:override]


# ---- the default notifier ---------------------------------------------------------------


@pytest.mark.points(2, hint="get_notifier() returns FileNotifier(get_settings().notifications_log).")
def test_the_default_notifier_appends_one_line_to_the_log(default_notifier, client, auth_headers):
    """Without an override, creating a task appends exactly one line, "Notify {username}: Task created: {title}", to NOTIFICATIONS_LOG."""
    add(client, auth_headers, "Buy milk")

    assert default_notifier.read_text(encoding="utf-8") == "Notify alice: Task created: Buy milk\n"


@pytest.mark.points(1)
def test_the_default_notifier_keeps_what_the_log_held(default_notifier, client, login):
    """The log is appended to, never overwritten: earlier lines stay, one line per task, in order."""
    default_notifier.write_text("An earlier line\n", encoding="utf-8")
    alice, bob = login("alice"), login("bob")

    add(client, alice, "Buy milk")
    add(client, bob, "Café ☕ for Zoë")

    assert default_notifier.read_text(encoding="utf-8").splitlines() == [
        "An earlier line",
        "Notify alice: Task created: Buy milk",
        "Notify bob: Task created: Café ☕ for Zoë",
    ]


@pytest.mark.points(2, hint="Write each line break in the title as an escape (\\n), including the ones str.splitlines() knows beyond \\n and \\r.")
@pytest.mark.parametrize(
    "separator",
    ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"],
    ids=["LF", "CR", "CRLF", "VT", "FF", "FS", "NEL", "LINE SEPARATOR", "PARAGRAPH SEPARATOR"],
)
def test_a_title_cannot_forge_a_line_of_the_log(default_notifier, client, auth_headers, separator):
    """A title holding a line break of any kind still makes exactly one line in NOTIFICATIONS_LOG, so it cannot forge another user's notification."""
    add(client, auth_headers, f"Buy milk{separator}Notify admin: the server is yours")

    with default_notifier.open(encoding="utf-8", newline="") as log:
        text = log.read()
    assert text.endswith("\n") and len(text.splitlines()) == 1, f"the log holds {text!r}"
    assert text.startswith("Notify alice: Task created: Buy milk")


@pytest.mark.points(1, hint="Blocking file I/O goes to a worker thread: await asyncio.to_thread(...).")
def test_the_file_notifier_writes_on_a_worker_thread(tmp_path):
    """FileNotifier.notify opens and writes its file on a worker thread, never on the event loop's own thread."""
    from app.notifications import FileNotifier

    opened_on: list[threading.Thread] = []

    class WatchedPath(type(tmp_path)):
        def open(self, *args, **kwargs):
            opened_on.append(threading.current_thread())
            return super().open(*args, **kwargs)

    async def notify() -> threading.Thread:
        await FileNotifier(WatchedPath(tmp_path / "log.txt")).notify("alice", "Task created: Buy milk")
        return threading.current_thread()

    loop_thread = asyncio.run(notify())

    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == "Notify alice: Task created: Buy milk\n"
    assert opened_on, "the notifier did not write through its path"
    assert all(thread is not loop_thread for thread in opened_on)


# ---- a failing or slow notifier ---------------------------------------------------------


# --8<-- [start:broken-notifier]
class BrokenNotifier:
    async def notify(self, username: str, message: str) -> None:
        raise ConnectionError("the mail server is down")
# --8<-- [end:broken-notifier]


# --8<-- [start:failing]
@pytest.mark.points(
    2, hint="Run the notifier inside try/except Exception and log the failure with logger.exception(...)."
)
def test_a_failing_notifier_does_not_break_the_response_and_is_logged(client, auth_headers, caplog):
    """A notifier that raises does not change the 201, and the failure is logged as an error naming the task's id."""
    from app.main import app
    from app.notifications import get_notifier

    app.dependency_overrides[get_notifier] = BrokenNotifier
    add(client, auth_headers, "First")

    task = add(client, auth_headers, "Buy milk")  # TestClient would raise here if the error escaped

    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors, "nothing was logged at ERROR level"
    assert re.search(rf"\b{task['id']}\b", errors[-1].getMessage()), "the log line should name the task's id"
    assert "the mail server is down" in caplog.text, "log the exception itself too (logger.exception)"
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).status_code == 200
# --8<-- [end:failing]


# --8<-- [start:gated-notifier]
class GatedNotifier:
    """A notifier that, once called, waits until the test lets it finish."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished = threading.Event()
        self.sent: list[tuple[str, str, bool]] = []

    async def notify(self, username: str, message: str) -> None:
        # Wait on a worker thread, so that the server's event loop stays free.
        released = await asyncio.to_thread(self.release.wait, 20)
        self.sent.append((username, message, released))
        self.finished.set()
# --8<-- [end:gated-notifier]


# --8<-- [start:slow]
@pytest.mark.points(
    3,
    hint="Do not await the notifier in the route: background_tasks.add_task(...) runs it after the response is sent.",
)
def test_a_slow_notifier_does_not_delay_the_response(live_server):
    """On a real server, POST /tasks/ answers 201 while the notifier is still waiting, and the notifier finishes afterwards."""
    from app.main import app
    from app.notifications import get_notifier

    notifier = GatedNotifier()
    app.dependency_overrides[get_notifier] = lambda: notifier
    with live_server.client() as http:
        headers = live_server.login(http, "alice")
        try:
            response = http.post("/tasks/", json={"title": "Write the report"}, headers=headers, timeout=5)
        except httpx.TimeoutException:
            pytest.fail("POST /tasks/ did not answer while the notifier was still busy: it waits for the notifier")
        finally:
            notifier.release.set()  # only now, with the answer in hand, may the notifier finish

    assert response.status_code == 201
    assert notifier.finished.wait(10), "the notifier was never called, or never finished"
    assert notifier.sent == [("alice", "Task created: Write the report", True)]
# --8<-- [end:slow]


# --8<-- [start:busy-connections]
@pytest.mark.points(
    2,
    hint='A session from a `yield` dependency stays open until the background tasks are done, unless it is declared with Depends(..., scope="function").',
)
def test_busy_notifiers_do_not_hold_on_to_database_connections(live_server):
    """On a real server, 30 tasks created in a row all answer 201 while every one of their notifications is still busy."""
    from app.main import app
    from app.notifications import get_notifier

    notifier = GatedNotifier()
    app.dependency_overrides[get_notifier] = lambda: notifier
    answers = []
    with live_server.client() as http:
        headers = live_server.login(http, "alice")
        try:
            for n in range(30):
                answers.append(http.post("/tasks/", json={"title": f"Task {n}"}, headers=headers, timeout=5))
        except httpx.TimeoutException:
            pytest.fail(
                f"POST /tasks/ number {len(answers) + 1} got no answer while the notifications of the "
                "ones before were busy: does each busy notification keep a database connection?"
            )
        finally:
            notifier.release.set()

    assert [response.status_code for response in answers] == [201] * 30
# --8<-- [end:busy-connections]


# --8<-- [start:live-first]
@pytest.mark.points(
    2, hint="Background tasks run one after the other: schedule the quick live update before the notifier."
)
def test_a_slow_notifier_does_not_hold_back_the_live_update(live_server):
    """On a real server, the live feed gets "Task created: ..." while the notifier of that same task is still busy."""
    from websockets.sync.client import connect

    from app.main import app
    from app.notifications import get_notifier

    notifier = GatedNotifier()
    app.dependency_overrides[get_notifier] = lambda: notifier
    with live_server.client() as http:
        headers = live_server.login(http, "alice")
        token = headers["Authorization"].removeprefix("Bearer ")
        try:
            with connect(f"{live_server.ws_url}/ws/tasks?token={token}", open_timeout=5) as websocket:
                assert http.post("/tasks/", json={"title": "Call the bank"}, headers=headers).status_code == 201
                try:
                    message = websocket.recv(timeout=5)
                except TimeoutError:
                    pytest.fail("no live update while the notifier was busy: did it wait for the notifier?")
                assert not notifier.finished.is_set()
        finally:
            notifier.release.set()

    assert message == "Task created: Call the bank"
    assert notifier.finished.wait(10)
# --8<-- [end:live-first]
