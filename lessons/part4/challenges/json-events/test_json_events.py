"""Challenge: JSON events on a second live feed, WS /ws/events.

Every message is sent before the request that caused it returns (background
tasks run before TestClient hands back the response), so a test can make a
change and then read the socket. A feed that never sends anything would make
a test wait forever: the timeout below stops it instead.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from fastapi import WebSocketDisconnect

pytestmark = pytest.mark.timeout(10)

TASK_FIELDS = {"id", "title", "description", "completed", "created_at", "owner_id"}


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def events_url(headers: dict[str, str]) -> str:
    return f"/ws/events?token={token_of(headers)}"


@contextmanager
def events_feed(client, headers: dict[str, str]) -> Iterator:
    """An open /ws/events socket of the user these headers belong to."""
    try:
        with client.websocket_connect(events_url(headers)) as websocket:
            yield websocket
    except WebSocketDisconnect as closed:
        pytest.fail(
            f"the server closed /ws/events (code {closed.code}) before the test was done: "
            "is there such an endpoint, and does it keep a logged-in user's socket open?"
        )


def next_event(websocket) -> object:
    """The next message of the socket, read as JSON."""
    text = websocket.receive_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pytest.fail(f"expected a JSON event, got {text!r}")


@pytest.mark.points(1, hint="Reuse what /ws/tasks does with a user that is None.")
@pytest.mark.parametrize("url", ["/ws/events", "/ws/events?token=not-a-real-token"])
def test_the_events_feed_needs_a_valid_token(client, url):
    """Without a valid token, /ws/events is closed with code 1008, exactly like /ws/tasks."""
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(url) as websocket:
            websocket.receive_text()
    assert closed.value.code == 1008


@pytest.mark.points(2, hint="TaskPublic.model_validate(task) gives the task as the API returns it.")
def test_creating_a_task_sends_a_task_created_event(client, auth_headers):
    """Creating a task sends {"event": "task_created", "task": ...}, the task exactly as POST /tasks/ returned it."""
    with events_feed(client, auth_headers) as websocket:
        response = client.post(
            "/tasks/", json={"title": "Buy milk", "description": "Two litres"}, headers=auth_headers
        )
        assert response.status_code == 201

        assert next_event(websocket) == {"event": "task_created", "task": response.json()}


@pytest.mark.points(2)
def test_updating_a_task_sends_a_task_updated_event(client, auth_headers):
    """Changing a task sends {"event": "task_updated", "task": ...}, the task exactly as PATCH returned it."""
    task = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers).json()

    with events_feed(client, auth_headers) as websocket:
        response = client.patch(
            f"/tasks/{task['id']}", json={"title": "Buy oat milk", "completed": True}, headers=auth_headers
        )
        assert response.status_code == 200

        assert next_event(websocket) == {"event": "task_updated", "task": response.json()}


@pytest.mark.points(2, hint="Once the task is deleted it is gone: build the event before session.delete().")
def test_deleting_a_task_sends_a_task_deleted_event(client, auth_headers):
    """Deleting a task sends {"event": "task_deleted", "task": ...}, the task as it was just before."""
    task = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers).json()

    with events_feed(client, auth_headers) as websocket:
        response = client.delete(f"/tasks/{task['id']}", headers=auth_headers)
        assert response.status_code == 204

        assert next_event(websocket) == {"event": "task_deleted", "task": task}


@pytest.mark.points(1, hint="model_dump_json() writes dates in ISO 8601; send the result with send_text().")
def test_each_event_is_one_json_object_in_a_text_message(client, auth_headers):
    """Each event is a text message holding a JSON object with the keys "event" and "task" only, and the task's created_at is an ISO 8601 date in UTC."""
    with events_feed(client, auth_headers) as websocket:
        client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)
        event = next_event(websocket)

    assert isinstance(event, dict), f"expected a JSON object, got {event!r}"
    assert set(event) == {"event", "task"}
    assert set(event["task"]) == TASK_FIELDS
    created_at = datetime.fromisoformat(event["task"]["created_at"])
    assert created_at.utcoffset() == timedelta(0), "created_at should say that it is in UTC"


@pytest.mark.points(2, hint="Send events with the connection manager's send_to_user, never to everybody.")
def test_other_users_get_no_events_about_your_tasks(client, login):
    """Bob's /ws/events feed says nothing when Alice creates, changes or deletes her tasks: his first event is about his own task."""
    alice = login("alice")
    bob = login("bob")

    with events_feed(client, bob) as bobs_feed:
        task = client.post("/tasks/", json={"title": "Alice's surprise party"}, headers=alice).json()
        client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=alice)
        client.delete(f"/tasks/{task['id']}", headers=alice)
        own = client.post("/tasks/", json={"title": "Bob's errand"}, headers=bob).json()

        assert next_event(bobs_feed) == {"event": "task_created", "task": own}


@pytest.mark.points(1, hint="The dashboard reads /ws/tasks: leave it as it is and add a second feed.")
def test_the_sentence_feed_keeps_working_next_to_the_events_feed(client, auth_headers):
    """/ws/tasks still sends "Task created: ..." sentences while /ws/events sends JSON about the same change."""
    sentences_url = f"/ws/tasks?token={token_of(auth_headers)}"
    with (
        client.websocket_connect(sentences_url) as sentences,
        events_feed(client, auth_headers) as events,
    ):
        response = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)

        assert sentences.receive_text() == "Task created: Buy milk"
        assert events.receive_json() == {"event": "task_created", "task": response.json()}
