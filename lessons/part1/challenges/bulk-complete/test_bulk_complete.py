"""Challenge: complete several tasks at once with POST /tasks/complete."""

import pytest


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def complete(client, ids):
    return client.post("/tasks/complete", json={"ids": ids})


@pytest.mark.points(3, hint='A new route: @router.post("/complete"), with a body model that has `ids: list[int]`.')
def test_completing_several_tasks_at_once(client):
    """POST /tasks/complete with {"ids": [...]} answers 200 with those tasks, completed, in the order of the ids."""
    milk = create(client, "Buy milk", description="Two litres")
    create(client, "Walk the dog")
    rent = create(client, "Pay rent")

    response = complete(client, [rent["id"], milk["id"]])

    assert response.status_code == 200
    assert response.json() == [{**rent, "completed": True}, {**milk, "completed": True}]


@pytest.mark.points(2)
def test_the_tasks_stay_completed_and_the_others_do_not_change(client):
    """After the call, the tasks read back as completed, and the tasks not named are exactly as they were."""
    milk = create(client, "Buy milk")
    dog = create(client, "Walk the dog")
    rent = create(client, "Pay rent")

    complete(client, [milk["id"], rent["id"]])

    assert client.get(f"/tasks/{milk['id']}").json() == {**milk, "completed": True}
    assert client.get(f"/tasks/{rent['id']}").json() == {**rent, "completed": True}
    assert client.get(f"/tasks/{dog['id']}").json() == dog


@pytest.mark.points(1)
def test_completing_a_task_that_is_already_done_is_fine(client):
    """A task that is already completed may be named: it stays completed and the answer is 200."""
    done = create(client, "Buy milk", completed=True)
    open_ = create(client, "Walk the dog")

    response = complete(client, [done["id"], open_["id"]])

    assert response.status_code == 200
    assert [task["completed"] for task in response.json()] == [True, True]


@pytest.mark.points(1, hint="dict.fromkeys(ids) keeps each id once, in the order they came.")
def test_an_id_given_twice_counts_once(client):
    """When an id appears more than once, its task is in the answer once, where the id first appeared."""
    milk = create(client, "Buy milk")
    dog = create(client, "Walk the dog")

    response = complete(client, [milk["id"], dog["id"], milk["id"]])

    assert response.status_code == 200
    assert [task["id"] for task in response.json()] == [milk["id"], dog["id"]]


@pytest.mark.points(2, hint="The detail of an HTTPException may be a dict as well as a string.")
def test_unknown_ids_answer_404_and_name_them(client):
    """If some ids are unknown, the answer is 404 with {"detail": {"message": "Task not found", "ids": [...]}}, listing the unknown ids once each, smallest first."""
    milk = create(client, "Buy milk")

    response = complete(client, [999, milk["id"], 998, 999])

    assert response.status_code == 404
    assert response.json() == {"detail": {"message": "Task not found", "ids": [998, 999]}}


@pytest.mark.points(2, hint="Look up every id first; change tasks only once you know they all exist.")
def test_nothing_changes_when_an_id_is_unknown(client):
    """When any id is unknown, no task is completed, not even the ones that exist: it is all or nothing."""
    milk = create(client, "Buy milk")
    dog = create(client, "Walk the dog")

    response = complete(client, [milk["id"], 999, dog["id"]])

    assert response.status_code == 404
    assert client.get("/tasks/", params={"completed": "true"}).json() == []


@pytest.mark.points(1, hint="Field(min_length=1, max_length=100) also limits how long a list may be.")
@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"ids": "1"}, {"ids": ["one"]}, {"ids": [1.5]}, {"ids": list(range(1, 102))}],
)
def test_a_body_that_is_not_a_list_of_1_to_100_ids_is_422(client, body):
    """A body without ids, with an empty list, with something other than whole numbers, or with more than 100 ids answers 422."""
    create(client, "Buy milk")

    response = client.post("/tasks/complete", json=body)

    assert response.status_code == 422
