"""My tests of WS /ws/tasks: who may listen, and what they hear."""

import pytest
from fastapi import WebSocketDisconnect


def feed_url(headers):
    token = headers["Authorization"].removeprefix("Bearer ")
    return f"/ws/tasks?token={token}"


@pytest.mark.parametrize("url", ["/ws/tasks", "/ws/tasks?token=nonsense"])
def test_without_a_valid_token_the_socket_is_closed_with_1008(client, url):
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(url) as websocket:
            websocket.receive_text()

    assert closed.value.code == 1008


def test_i_hear_about_every_change_to_my_tasks(client, auth_headers):
    with client.websocket_connect(feed_url(auth_headers)) as websocket:
        task = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers).json()
        client.patch(f"/tasks/{task['id']}", json={"title": "Buy oat milk"}, headers=auth_headers)
        client.delete(f"/tasks/{task['id']}", headers=auth_headers)

        assert websocket.receive_text() == "Task created: Buy milk"
        assert websocket.receive_text() == "Task updated: Buy oat milk"
        assert websocket.receive_text() == "Task deleted: Buy oat milk"


def test_i_hear_nothing_about_other_users_tasks(client, login):
    alice, bob = login("alice"), login("bob")

    with client.websocket_connect(feed_url(bob)) as bobs_feed:
        client.post("/tasks/", json={"title": "Alice's secret"}, headers=alice)
        client.post("/tasks/", json={"title": "Bob's errand"}, headers=bob)

        # Bob's first message is about his own task: nothing came before it.
        assert bobs_feed.receive_text() == "Task created: Bob's errand"


def test_what_the_client_sends_is_ignored(client, auth_headers):
    with client.websocket_connect(feed_url(auth_headers)) as websocket:
        websocket.send_text("hello?")
        client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)

        assert websocket.receive_text() == "Task created: Buy milk"
