"""Challenge: due dates, a rule about the past, and the overdue filter.

Some tests pretend that today is another day. They do it the way the brief
asks for: by overriding the dependency `get_today` of `app/clock.py`.
"""

from datetime import date, timedelta

import pytest


@pytest.fixture
def set_today(client):
    """Call `set_today(day)` to make the app believe that today is `day`."""

    def set_to(day: date) -> None:
        try:
            from app.clock import get_today
            from app.main import app
        except ImportError as error:
            pytest.fail(f"these tests need a function get_today() in app/clock.py ({error})")
        app.dependency_overrides[get_today] = lambda: day

    return set_to


def create(client, title: str = "Buy milk", **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def titles(client, **params) -> list[str]:
    response = client.get("/tasks/", params=params)
    assert response.status_code == 200, response.text
    return sorted(task["title"] for task in response.json())


@pytest.mark.points(1, hint="Give TaskCreate and TaskPublic a field `due_date: date | None = None`.")
def test_a_due_date_is_optional(client):
    """A task created without a due date has `"due_date": null`."""
    task = create(client)

    assert "due_date" in task, "the task has no due_date field"
    assert task["due_date"] is None


@pytest.mark.points(2, hint="A field of type `date` reads \"2030-06-15\" from JSON and writes it back the same way.")
def test_a_task_can_have_a_due_date(client):
    """A task created with a due date in the future keeps it, written as YYYY-MM-DD."""
    tomorrow = (date.today() + timedelta(days=1)).isoformat()

    task = create(client, due_date=tomorrow)

    assert task.get("due_date") == tomorrow
    assert client.get(f"/tasks/{task['id']}").json()["due_date"] == tomorrow


@pytest.mark.points(2, hint="Compare task_in.due_date with today in the route, and raise HTTPException(422, ...) if it is earlier.")
def test_a_due_date_in_the_past_is_422(client):
    """Creating a task due yesterday, or years ago, answers 422, and nothing is stored."""
    yesterday = (date.today() - timedelta(days=1)).isoformat()

    for due_date in (yesterday, "2000-01-01"):
        response = client.post("/tasks/", json={"title": "Buy milk", "due_date": due_date})
        assert response.status_code == 422, f"due_date {due_date} answered {response.status_code}"
    assert client.get("/tasks/").json() == []


@pytest.mark.points(1, hint="Read today from the dependency get_today(), never from date.today() in the route.")
def test_today_is_a_valid_due_date(client, set_today):
    """A task may be due today; the day before today is already the past."""
    set_today(date(2030, 6, 15))

    assert client.post("/tasks/", json={"title": "Buy milk", "due_date": "2030-06-15"}).status_code == 201
    assert client.post("/tasks/", json={"title": "Buy milk", "due_date": "2030-06-14"}).status_code == 422


@pytest.mark.points(1)
@pytest.mark.parametrize("due_date", ["2030-02-30", "tomorrow", "15/06/2030", ""])
def test_a_due_date_must_be_a_real_date(client, due_date):
    """A due date that is not a real date written as YYYY-MM-DD answers 422."""
    response = client.post("/tasks/", json={"title": "Buy milk", "due_date": due_date})

    assert response.status_code == 422


@pytest.mark.points(2, hint="In TaskUpdate, `due_date: date | None = None`: unlike a title, null is allowed, and removes it.")
def test_patch_sets_changes_and_removes_the_due_date(client, set_today):
    """PATCH can give a task a due date, move it, and remove it with null, without touching the other fields."""
    set_today(date(2030, 6, 1))
    task = create(client, description="Two litres")

    for due_date in ("2030-06-20", "2030-06-05", None):
        response = client.patch(f"/tasks/{task['id']}", json={"due_date": due_date})
        assert response.status_code == 200
        assert response.json() == {**task, "due_date": due_date}
    assert client.get(f"/tasks/{task['id']}").json() == {**task, "due_date": None}


@pytest.mark.points(1)
def test_patch_refuses_a_due_date_in_the_past(client, set_today):
    """PATCH with a due date before today answers 422 and leaves the task as it was."""
    set_today(date(2030, 6, 15))
    task = create(client, due_date="2030-06-20")

    response = client.patch(f"/tasks/{task['id']}", json={"due_date": "2030-06-14"})

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}").json() == task


@pytest.mark.points(1, hint="Check the due date only when the PATCH body sets one.")
def test_an_overdue_task_can_still_be_changed(client, set_today):
    """A task whose due date has passed can still be renamed or completed: only a new due date is checked."""
    set_today(date(2030, 6, 1))
    task = create(client, due_date="2030-06-05")
    set_today(date(2030, 6, 10))

    response = client.patch(f"/tasks/{task['id']}", json={"title": "Buy oat milk", "completed": True})

    assert response.status_code == 200
    assert response.json() == {**task, "title": "Buy oat milk", "completed": True}


def make_week(client, set_today) -> None:
    """Tasks made on 1 June 2030, due on various days; one of them is done."""
    set_today(date(2030, 6, 1))
    create(client, "Pay rent", due_date="2030-06-05")
    create(client, "Book flights", due_date="2030-06-20")
    create(client, "Water plants")
    create(client, "Return books", due_date="2030-06-05", completed=True)
    create(client, "Call the bank", due_date="2030-06-10")


@pytest.mark.points(3, hint="Overdue means: not completed, has a due date, and that date is before today.")
def test_overdue_lists_unfinished_tasks_past_their_due_date(client, set_today):
    """GET /tasks/?overdue=true lists the tasks not completed whose due date is before today; a task due today is not overdue yet."""
    make_week(client, set_today)
    set_today(date(2030, 6, 10))

    assert titles(client, overdue="true") == ["Pay rent"]


@pytest.mark.points(1)
def test_overdue_false_lists_all_the_others(client, set_today):
    """GET /tasks/?overdue=false lists every task that is not overdue: done, due later, due today, or without a due date."""
    make_week(client, set_today)
    set_today(date(2030, 6, 10))

    assert titles(client, overdue="false") == ["Book flights", "Call the bank", "Return books", "Water plants"]
    assert len(titles(client)) == 5


@pytest.mark.points(1)
def test_tasks_become_overdue_as_the_days_pass(client, set_today):
    """The same tasks, asked about on later days, are overdue once their due date is behind."""
    make_week(client, set_today)

    set_today(date(2030, 6, 5))
    assert titles(client, overdue="true") == []
    set_today(date(2030, 6, 11))
    assert titles(client, overdue="true") == ["Call the bank", "Pay rent"]
    set_today(date(2030, 6, 21))
    assert titles(client, overdue="true") == ["Book flights", "Call the bank", "Pay rent"]
