"""POST /tasks/: a new task, its defaults, and the rules a title and a description follow."""

import pytest

TASK_FIELDS = {"id", "title", "description", "completed"}


# --8<-- [start:answers-201]
@pytest.mark.points(2, hint="status_code=201 goes on the route decorator: @router.post(\"/\", status_code=...).")
def test_creating_a_task_answers_201_with_the_task(client):
    """POST /tasks/ answers 201 with the new task: the title and description sent, completed false, and an integer id."""
    response = client.post("/tasks/", json={"title": "Buy milk", "description": "Two litres"})

    assert response.status_code == 201
    task = response.json()
    assert TASK_FIELDS <= set(task)
    assert isinstance(task["id"], int)
    assert task["title"] == "Buy milk"
    assert task["description"] == "Two litres"
    assert task["completed"] is False
# --8<-- [end:answers-201]


@pytest.mark.points(2, hint="TaskCreate has no id field, so an id in the body is never read.")
def test_the_server_picks_the_id(client):
    """Each new task gets a different id from the server, and an id sent by the client is not used."""
    ids = [client.post("/tasks/", json={"title": f"Task {n}"}).json()["id"] for n in range(3)]
    assert len(set(ids)) == 3

    response = client.post("/tasks/", json={"title": "Buy milk", "id": 999})

    if response.status_code == 422:
        return  # refusing unknown fields outright is fine too
    assert response.status_code == 201
    assert response.json()["id"] != 999
    assert client.get("/tasks/999").status_code == 404


@pytest.mark.points(2)
def test_completed_and_description_have_defaults(client):
    """A task created with a title only has a null description and is not completed; `completed: true` can be sent."""
    plain = client.post("/tasks/", json={"title": "Buy milk"})
    done = client.post("/tasks/", json={"title": "Buy bread", "completed": True})

    assert plain.status_code == 201
    assert plain.json()["description"] is None
    assert plain.json()["completed"] is False
    assert done.json()["completed"] is True


@pytest.mark.points(1)
def test_a_title_of_200_characters_is_accepted(client):
    """A title of exactly 200 characters is allowed."""
    response = client.post("/tasks/", json={"title": "x" * 200})

    assert response.status_code == 201
    assert response.json()["title"] == "x" * 200


@pytest.mark.points(1, hint="Field(max_length=...) or StringConstraints(max_length=...) sets the limit.")
def test_a_title_of_201_characters_is_rejected(client):
    """A title longer than 200 characters answers 422."""
    response = client.post("/tasks/", json={"title": "x" * 201})

    assert response.status_code == 422


@pytest.mark.points(1, hint="A title must be present: give it no default value.")
def test_a_missing_title_is_rejected(client):
    """A task without a title answers 422."""
    response = client.post("/tasks/", json={"description": "No title here"})

    assert response.status_code == 422


@pytest.mark.points(2, hint="StringConstraints(strip_whitespace=True, min_length=1) trims spaces before it counts.")
@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_an_empty_or_blank_title_is_rejected(client, title):
    """A title that is empty, or nothing but spaces, answers 422."""
    response = client.post("/tasks/", json={"title": title})

    assert response.status_code == 422


@pytest.mark.points(1)
def test_a_description_of_2000_characters_is_accepted(client):
    """A description of exactly 2000 characters is allowed."""
    response = client.post("/tasks/", json={"title": "Write essay", "description": "x" * 2000})

    assert response.status_code == 201
    assert response.json()["description"] == "x" * 2000


@pytest.mark.points(1)
def test_a_description_of_2001_characters_is_rejected(client):
    """A description longer than 2000 characters answers 422."""
    response = client.post("/tasks/", json={"title": "Write essay", "description": "x" * 2001})

    assert response.status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "body",
    [{"title": None}, {"title": 42}, {"title": "Buy milk", "completed": "maybe"}, {"title": "Buy milk", "description": 7}],
)
def test_values_of_the_wrong_type_are_rejected(client, body):
    """A null or numeric title, a `completed` that is not a boolean, or a description that is not text answers 422."""
    response = client.post("/tasks/", json=body)

    assert response.status_code == 422


@pytest.mark.points(1)
def test_a_rejected_task_is_not_stored(client):
    """A task that answers 422 is not added to the list."""
    client.post("/tasks/", json={"title": "x" * 201})

    assert client.get("/tasks/").json() == []
