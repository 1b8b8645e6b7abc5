"""PATCH /tasks/{id}: change some fields of a task and leave the rest as they were."""

import pytest


def create(client, title: str = "Buy milk", **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, "description": "Two litres", **fields})
    assert response.status_code == 201, response.text
    return response.json()


# --8<-- [start:only-the-fields-sent]
@pytest.mark.points(3, hint="task_in.model_dump(exclude_unset=True) keeps only the fields the client sent.")
def test_patch_changes_only_the_fields_sent(client):
    """PATCH with only `completed` marks the task done and keeps its title and description; PATCH with only `title` keeps the rest."""
    task = create(client)

    response = client.patch(f"/tasks/{task['id']}", json={"completed": True})

    assert response.status_code == 200
    assert response.json() == {**task, "completed": True}

    response = client.patch(f"/tasks/{task['id']}", json={"title": "Buy oat milk"})

    assert response.status_code == 200
    assert response.json() == {**task, "completed": True, "title": "Buy oat milk"}
# --8<-- [end:only-the-fields-sent]


@pytest.mark.points(2)
def test_a_change_is_kept(client):
    """After a PATCH, GET /tasks/{id} and the list show the changed task."""
    task = create(client)
    other = create(client, "Walk the dog")

    client.patch(f"/tasks/{task['id']}", json={"description": "One litre", "completed": True})

    changed = {**task, "description": "One litre", "completed": True}
    assert client.get(f"/tasks/{task['id']}").json() == changed
    assert client.get(f"/tasks/{other['id']}").json() == other
    assert sorted(client.get("/tasks/").json(), key=lambda t: t["id"]) == [changed, other]


@pytest.mark.points(1)
def test_an_empty_patch_changes_nothing(client):
    """PATCH with an empty JSON object answers 200 with the task unchanged."""
    task = create(client)

    response = client.patch(f"/tasks/{task['id']}", json={})

    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.points(1)
def test_patch_cannot_change_the_id(client):
    """An id in a PATCH body is not used: the task keeps its id."""
    task = create(client)

    response = client.patch(f"/tasks/{task['id']}", json={"id": 999, "completed": True})

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    assert response.json()["id"] == task["id"]
    assert client.get("/tasks/999").status_code == 404


@pytest.mark.points(2)
def test_patching_a_missing_task_is_404(client):
    """PATCH on a task that does not exist answers 404 "Task not found"."""
    response = client.patch("/tasks/999", json={"completed": True})

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.points(2, hint="Leaving a field out and sending null are different: a field_validator can refuse None.")
@pytest.mark.parametrize("field", ["title", "completed"])
def test_a_required_field_cannot_be_set_to_null(client, field):
    """PATCH with `"title": null` or `"completed": null` answers 422 and leaves the task as it was."""
    task = create(client)

    response = client.patch(f"/tasks/{task['id']}", json={field: None})

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}").json() == task


@pytest.mark.points(2, hint="TaskUpdate can reuse the Title and Description types of TaskCreate.")
@pytest.mark.parametrize(
    "changes",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"description": "x" * 2001},
        {"completed": "maybe"},
    ],
)
def test_invalid_changes_are_422(client, changes):
    """PATCH follows the rules of POST: a blank or too long title, a too long description or a non-boolean `completed` answers 422, and the task is unchanged."""
    task = create(client)

    response = client.patch(f"/tasks/{task['id']}", json=changes)

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}").json() == task
