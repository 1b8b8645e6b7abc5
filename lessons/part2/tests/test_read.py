"""GET /tasks/ and GET /tasks/{id}: the list, its order, filter and pages, and one task at a time."""

import pytest

# SQL integers have 64 bits: the largest id or offset a database can look up.
MAX_SQL_INT = 2**63 - 1


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()]


@pytest.mark.points(2)
def test_the_list_holds_every_task_created(client):
    """GET /tasks/ answers 200 with an empty list at first, then with every task created, each exactly as POST returned it."""
    assert client.get("/tasks/").json() == []
    created = [create(client, "Buy milk"), create(client, "Walk the dog", description="Before dinner")]

    listed = client.get("/tasks/").json()

    assert sorted(listed, key=lambda task: task["id"]) == created


@pytest.mark.points(2, hint="select(Task).order_by(Task.id): without order_by, a database may return rows in any order.")
def test_the_list_is_ordered_by_id(client):
    """GET /tasks/ lists tasks by id, smallest first, even after some were changed or deleted."""
    tasks = [create(client, f"Task {n}") for n in range(6)]
    client.patch(f"/tasks/{tasks[0]['id']}", json={"title": "Task 0, renamed"})
    client.patch(f"/tasks/{tasks[3]['id']}", json={"completed": True})
    client.delete(f"/tasks/{tasks[2]['id']}")
    tasks.append(create(client, "Task 6"))

    listed = ids_of(client.get("/tasks/"))

    assert listed == sorted(task["id"] for task in tasks if task is not tasks[2])


@pytest.mark.points(2)
def test_reading_one_task(client):
    """GET /tasks/{id} answers 200 with that task, exactly as POST returned it."""
    create(client, "Buy milk")
    task = create(client, "Walk the dog", description="Before dinner", completed=True)

    response = client.get(f"/tasks/{task['id']}")

    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.points(2, hint='session.get(Task, task_id) is None for a missing row: raise HTTPException(404, detail="Task not found").')
def test_reading_a_missing_task_is_404(client):
    """Asking for a task that does not exist answers 404 "Task not found"."""
    create(client, "Buy milk")

    response = client.get("/tasks/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.points(1, hint="Declare the path parameter as `task_id: int` and FastAPI checks it for you.")
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_id_that_is_not_a_whole_number_is_422(client, method):
    """GET, PATCH and DELETE on /tasks/abc or /tasks/1.5 answer 422: an id is a whole number."""
    for path in ("/tasks/abc", "/tasks/1.5"):
        body = {"completed": True} if method == "PATCH" else None
        response = client.request(method, path, json=body)
        assert response.status_code == 422, f"{method} {path} answered {response.status_code}"


@pytest.mark.points(2, hint="A database integer has 64 bits: Path(le=2**63 - 1) refuses larger ids before the database sees them.")
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_id_too_large_for_the_database_is_422(client, method):
    """An id larger than a 64-bit integer answers 422 on GET, PATCH and DELETE (not a 500), while the largest one answers 404."""
    body = {"completed": True} if method == "PATCH" else None

    for task_id in (MAX_SQL_INT + 1, 10**30):
        response = client.request(method, f"/tasks/{task_id}", json=body)
        assert response.status_code == 422, f"{method} /tasks/{task_id} answered {response.status_code}"
    response = client.request(method, f"/tasks/{MAX_SQL_INT}", json=body)
    assert response.status_code == 404, f"{method} /tasks/{MAX_SQL_INT} answered {response.status_code}"


@pytest.mark.points(1, hint="Path(ge=...) sets the smallest id accepted, the way le=... sets the largest.")
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_id_too_negative_for_the_database_is_not_a_500(client, method):
    """A negative id beyond the 64-bit range answers 404 or 422 on GET, PATCH and DELETE, never a server error."""
    body = {"completed": True} if method == "PATCH" else None

    response = client.request(method, f"/tasks/{-(2**63) - 1}", json=body)

    assert response.status_code in (404, 422), f"{method} answered {response.status_code}"


@pytest.mark.points(2, hint="Add .where(Task.completed == completed) to the query only when completed is not None.")
def test_filtering_by_completed(client):
    """GET /tasks/?completed=true lists only completed tasks, and ?completed=false only the others."""
    done = [create(client, "Buy milk", completed=True)["id"], create(client, "Pay rent", completed=True)["id"]]
    open_ = [create(client, "Walk the dog")["id"]]

    assert ids_of(client.get("/tasks/", params={"completed": "true"})) == done
    assert ids_of(client.get("/tasks/", params={"completed": "false"})) == open_
    assert len(ids_of(client.get("/tasks/"))) == 3


@pytest.mark.points(1)
def test_a_completed_filter_that_is_not_a_boolean_is_422(client):
    """GET /tasks/?completed=maybe answers 422."""
    response = client.get("/tasks/", params={"completed": "maybe"})

    assert response.status_code == 422


@pytest.mark.points(2, hint="query.offset(offset).limit(limit) asks the database for one page only.")
def test_offset_and_limit_make_pages(client):
    """offset skips that many tasks and limit caps how many come back, so pages of 2 cover the whole list, once each, in order."""
    for n in range(5):
        create(client, f"Task {n}")
    everything = ids_of(client.get("/tasks/"))

    pages = [ids_of(client.get("/tasks/", params={"offset": offset, "limit": 2})) for offset in (0, 2, 4, 6)]

    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert pages[0] + pages[1] + pages[2] == everything


@pytest.mark.points(2, hint="Filter with .where(...) before .offset() and .limit(), so that a page holds only matches.")
def test_the_filter_applies_before_the_page(client):
    """With completed=true, offset and limit count completed tasks only."""
    for n in range(3):
        create(client, f"Open {n}")
        create(client, f"Done {n}", completed=True)
    done = ids_of(client.get("/tasks/", params={"completed": "true"}))

    first = ids_of(client.get("/tasks/", params={"completed": "true", "limit": 2}))
    rest = ids_of(client.get("/tasks/", params={"completed": "true", "offset": 2, "limit": 2}))

    assert len(done) == 3
    assert first + rest == done


@pytest.mark.points(2, hint="The default value of a query parameter is the default of the function's argument.")
def test_at_most_100_tasks_by_default(client, session):
    """Without a limit, GET /tasks/ answers at most 100 tasks; the rest are reached with offset."""
    from app.models import Task

    session.add_all(Task(title=f"Task {n}") for n in range(105))  # quicker than 105 POSTs
    session.commit()

    assert len(ids_of(client.get("/tasks/"))) == 100
    assert len(ids_of(client.get("/tasks/", params={"limit": 100}))) == 100
    assert len(ids_of(client.get("/tasks/", params={"offset": 100}))) == 5


@pytest.mark.points(1, hint="Look at Query(ge=...).")
def test_a_negative_offset_is_422(client):
    """GET /tasks/?offset=-1 answers 422; offset=0 is fine."""
    assert client.get("/tasks/", params={"offset": -1}).status_code == 422
    assert client.get("/tasks/", params={"offset": 0}).status_code == 200


@pytest.mark.points(2, hint="A database integer has 64 bits: Query(le=2**63 - 1) refuses a larger offset before the database sees it.")
def test_an_offset_too_large_for_the_database_is_422(client):
    """An offset larger than a 64-bit integer answers 422 (not a 500); the largest one answers an empty list."""
    create(client, "Buy milk")

    for offset in (MAX_SQL_INT + 1, 10**30):
        response = client.get("/tasks/", params={"offset": offset})
        assert response.status_code == 422, f"offset={offset} answered {response.status_code}"
    response = client.get("/tasks/", params={"offset": MAX_SQL_INT})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.points(2, hint="Look at Query(ge=..., le=...).")
@pytest.mark.parametrize("limit", [0, -5, 101, 1000, 2**64])
def test_a_limit_outside_1_to_100_is_422(client, limit):
    """A limit below 1 or above 100 answers 422."""
    response = client.get("/tasks/", params={"limit": limit})

    assert response.status_code == 422
