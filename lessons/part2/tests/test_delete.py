"""DELETE /tasks/{id}: a task is gone for good."""

import pytest


def create(client, title: str) -> dict:
    response = client.post("/tasks/", json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.points(2, hint="status_code=204 on the decorator, and the function returns None.")
def test_deleting_answers_204_with_no_body(client):
    """DELETE /tasks/{id} answers 204 with an empty body."""
    task = create(client, "Buy milk")

    response = client.delete(f"/tasks/{task['id']}")

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.points(2, hint="session.delete(task), then session.commit().")
def test_a_deleted_task_is_gone(client):
    """After DELETE, GET of that task answers 404 "Task not found" and the list no longer has it; other tasks stay."""
    task = create(client, "Buy milk")
    other = create(client, "Walk the dog")

    client.delete(f"/tasks/{task['id']}")

    response = client.get(f"/tasks/{task['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert client.get("/tasks/").json() == [other]


@pytest.mark.points(2)
def test_deleting_a_missing_task_is_404(client):
    """DELETE on a task that does not exist, or was deleted already, answers 404 "Task not found"."""
    task = create(client, "Buy milk")
    client.delete(f"/tasks/{task['id']}")

    for task_id in (task["id"], 999):
        response = client.delete(f"/tasks/{task_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}
