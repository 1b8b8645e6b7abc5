"""Challenge: a priority for every task, low, medium or high."""

import pytest


def create(client, title: str = "Buy milk", **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def titles(client, **params) -> list[str]:
    response = client.get("/tasks/", params=params)
    assert response.status_code == 200, response.text
    return sorted(task["title"] for task in response.json())


@pytest.mark.points(2, hint='Give TaskCreate and TaskPublic a field `priority` with the default "medium".')
def test_a_new_task_has_medium_priority(client):
    """A task created without a priority has the priority "medium", in the answer and when read back."""
    task = create(client)

    assert task.get("priority") == "medium"
    assert client.get(f"/tasks/{task['id']}").json()["priority"] == "medium"


@pytest.mark.points(2)
@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_a_task_can_have_any_of_the_three_priorities(client, priority):
    """A task created with the priority "low", "medium" or "high" keeps it."""
    task = create(client, priority=priority)

    assert task.get("priority") == priority
    assert client.get(f"/tasks/{task['id']}").json()["priority"] == priority


@pytest.mark.points(2, hint='Literal["low", "medium", "high"] accepts those three strings and nothing else.')
@pytest.mark.parametrize("priority", ["urgent", "HIGH", "", 3, None])
def test_any_other_priority_is_422(client, priority):
    """Creating a task with any other priority (another word, capitals, empty, a number, null) answers 422."""
    response = client.post("/tasks/", json={"title": "Buy milk", "priority": priority})

    assert response.status_code == 422
    assert client.get("/tasks/").json() == []


@pytest.mark.points(1, hint="Use the same type for the schema and the query parameter, and /docs shows a drop-down.")
def test_the_docs_list_the_three_priorities(client):
    """The OpenAPI schema of TaskCreate names the allowed priorities: low, medium and high."""
    schema = client.get("/openapi.json").json()["components"]["schemas"]["TaskCreate"]

    priority = schema["properties"].get("priority", {})
    assert sorted(priority.get("enum", [])) == ["high", "low", "medium"]


@pytest.mark.points(2, hint="A query parameter `priority: Priority | None = None` is checked like the body is.")
def test_filtering_by_priority(client):
    """GET /tasks/?priority=high lists only the tasks of high priority."""
    create(client, "Pay rent", priority="high")
    create(client, "Buy milk")
    create(client, "Water plants", priority="low")
    create(client, "Call the bank", priority="high")

    assert titles(client, priority="high") == ["Call the bank", "Pay rent"]
    assert titles(client, priority="medium") == ["Buy milk"]
    assert titles(client, priority="low") == ["Water plants"]


@pytest.mark.points(1)
def test_filtering_by_an_unknown_priority_is_422(client):
    """GET /tasks/?priority=urgent answers 422."""
    response = client.get("/tasks/", params={"priority": "urgent"})

    assert response.status_code == 422


@pytest.mark.points(1)
def test_the_priority_filter_combines_with_completed_and_paging(client):
    """priority, completed, offset and limit work together: the filters choose, then the page is cut."""
    create(client, "Pay rent", priority="high", completed=True)
    create(client, "Call the bank", priority="high")
    create(client, "Buy milk", completed=True)
    create(client, "Book flights", priority="high")

    assert titles(client, priority="high", completed="true") == ["Pay rent"]
    assert titles(client, priority="high", completed="false") == ["Book flights", "Call the bank"]
    assert len(titles(client, priority="high", offset=1, limit=1)) == 1
    assert len(titles(client, priority="high", offset=2)) == 1


@pytest.mark.points(2, hint="Add `priority` to TaskUpdate as optional, the way `completed` is.")
def test_patch_changes_the_priority(client):
    """PATCH with only a priority changes it and leaves the other fields as they were."""
    task = create(client, description="Two litres")

    response = client.patch(f"/tasks/{task['id']}", json={"priority": "high"})

    assert response.status_code == 200
    assert response.json() == {**task, "priority": "high"}
    assert client.get(f"/tasks/{task['id']}").json() == {**task, "priority": "high"}


@pytest.mark.points(1, hint="The field_validator that refuses a null title can refuse a null priority too.")
@pytest.mark.parametrize("priority", ["urgent", None])
def test_patch_refuses_an_unknown_or_null_priority(client, priority):
    """PATCH with an unknown priority, or with `"priority": null`, answers 422 and changes nothing."""
    task = create(client, priority="low")

    response = client.patch(f"/tasks/{task['id']}", json={"priority": priority})

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}").json()["priority"] == "low"
