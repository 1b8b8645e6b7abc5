"""Tasks live in the database: the API writes and reads rows of the task table through the session."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def rows(session: Session) -> list:
    """Every row of the task table, read with a session of its own (so nothing comes from a cache)."""
    from app.models import Task

    with Session(session.get_bind()) as fresh:
        return list(fresh.exec(select(Task).order_by(Task.id)).all())


@pytest.mark.points(3, hint="Take `session: SessionDep` in the endpoint, then session.add(task), session.commit(), session.refresh(task).")
def test_a_created_task_is_a_row_in_the_database(client, session):
    """POST /tasks/ stores the task as a row of the task table, with the id, fields and created_at it answered."""
    task = create(client, "Buy milk", description="Two litres", completed=True)

    stored = rows(session)

    assert len(stored) == 1, f"expected 1 row in the task table, found {len(stored)}"
    row = stored[0]
    assert (row.id, row.title, row.description, row.completed) == (task["id"], "Buy milk", "Two litres", True)
    created_at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    assert created_at == datetime.fromisoformat(task["created_at"])


@pytest.mark.points(2, hint="Read with session.get(Task, task_id) and session.exec(select(Task)), not from a dict in memory.")
def test_the_api_reads_tasks_from_the_database(client, session):
    """A task written straight into the database is answered by GET /tasks/{id} and listed by GET /tasks/."""
    from app.models import Task

    row = Task(title="Water the plants", description="The ones on the balcony", completed=True)
    session.add(row)
    session.commit()
    session.refresh(row)

    response = client.get(f"/tasks/{row.id}")

    assert response.status_code == 200
    task = response.json()
    assert (task["id"], task["title"], task["description"], task["completed"]) == (
        row.id, "Water the plants", "The ones on the balcony", True,
    )  # fmt: skip
    assert client.get("/tasks/").json() == [task]


@pytest.mark.points(2, hint="A PATCH changes the row: session.add(task) and session.commit() after sqlmodel_update.")
def test_a_change_reaches_the_database(client, session):
    """PATCH /tasks/{id} changes the row in the database, and only the fields sent."""
    task = create(client, "Buy milk", description="Two litres")

    client.patch(f"/tasks/{task['id']}", json={"completed": True})

    [row] = rows(session)
    assert (row.title, row.description, row.completed) == ("Buy milk", "Two litres", True)
