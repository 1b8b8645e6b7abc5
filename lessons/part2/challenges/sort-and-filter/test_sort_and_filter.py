"""Challenge: sort the task list by creation time, and keep only tasks created after or before a moment."""

from datetime import UTC, datetime

import pytest

# Three tasks, saved in an order that is neither oldest first nor newest first.
NEWEST = ("Plan the party", datetime(2030, 1, 3, 9, 0, tzinfo=UTC))
OLDEST = ("Buy a gift", datetime(2030, 1, 1, 9, 0, tzinfo=UTC))
MIDDLE = ("Send invitations", datetime(2030, 1, 2, 9, 0, tzinfo=UTC))


def add(session, title: str, created_at: datetime, **fields) -> int:
    """Put a task with a chosen created_at straight into the database; return its id."""
    from app.models import Task

    task = Task(title=title, created_at=created_at, **fields)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task.id


@pytest.fixture
def three_tasks(session) -> None:
    for title, created_at in (NEWEST, OLDEST, MIDDLE):
        add(session, title, created_at)


def titles(client, **params) -> list[str]:
    response = client.get("/tasks/", params=params)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


@pytest.mark.points(2, hint='A query parameter `sort` with a default of "id"; order_by(Task.created_at) when it is "created_at".')
def test_sort_by_created_at_oldest_first(client, three_tasks):
    """GET /tasks/?sort=created_at lists the tasks oldest first."""
    assert titles(client, sort="created_at") == ["Buy a gift", "Send invitations", "Plan the party"]


@pytest.mark.points(2, hint="col(Task.created_at).desc() sorts newest first; `col` comes from sqlmodel.")
def test_sort_by_created_at_newest_first(client, three_tasks):
    """GET /tasks/?sort=-created_at lists the tasks newest first."""
    assert titles(client, sort="-created_at") == ["Plan the party", "Send invitations", "Buy a gift"]


@pytest.mark.points(1)
def test_sort_by_id_either_way(client, three_tasks):
    """sort=id lists tasks by id (as without sort), and sort=-id lists them the other way round."""
    by_id = ["Plan the party", "Buy a gift", "Send invitations"]

    assert titles(client) == by_id
    assert titles(client, sort="id") == by_id
    assert titles(client, sort="-id") == by_id[::-1]


@pytest.mark.points(2, hint='Literal["id", "-id", "created_at", "-created_at"] as the type of `sort` makes FastAPI refuse anything else.')
@pytest.mark.parametrize("sort", ["title", "created", "+created_at", "CREATED_AT", "created_at,id", ""])
def test_an_unknown_sort_is_422(client, sort):
    """A sort other than id, -id, created_at or -created_at answers 422."""
    response = client.get("/tasks/", params={"sort": sort})

    assert response.status_code == 422


@pytest.mark.points(2, hint="created_after: AwareDatetime | None = None, then query.where(Task.created_at > created_after).")
def test_created_after_keeps_later_tasks(client, three_tasks):
    """GET /tasks/?created_after=... lists only the tasks created after that moment, still by id."""
    assert titles(client, created_after="2030-01-01T12:00:00Z") == ["Plan the party", "Send invitations"]
    assert titles(client, created_after="2030-01-03T12:00:00Z") == []


@pytest.mark.points(2)
def test_created_before_keeps_earlier_tasks(client, three_tasks):
    """GET /tasks/?created_before=... lists only the tasks created before that moment, still by id."""
    assert titles(client, created_before="2030-01-02T12:00:00Z") == ["Buy a gift", "Send invitations"]
    assert titles(client, created_before="2029-12-31T00:00:00Z") == []


@pytest.mark.points(2, hint="Strictly after and strictly before: > and <, not >= and <=.")
def test_the_limits_are_strict_and_work_together(client, three_tasks):
    """created_after and created_before together keep the tasks in between; a task created exactly at a limit is left out."""
    between = {"created_after": "2030-01-01T12:00:00Z", "created_before": "2030-01-02T12:00:00Z"}
    assert titles(client, **between) == ["Send invitations"]
    assert titles(client, created_after="2030-01-02T09:00:00Z") == ["Plan the party"]
    assert titles(client, created_before="2030-01-02T09:00:00Z") == ["Buy a gift"]


@pytest.mark.points(2, hint="The same moment can be written in many time zones: compare in UTC, with value.astimezone(UTC).")
def test_a_moment_in_another_time_zone_means_the_same_moment(client, three_tasks):
    """A moment written with another time zone (11:00+02:00 is 09:00 UTC) is compared as that same moment, not by the time on its clock."""
    assert titles(client, created_after="2030-01-02T11:00:00+02:00") == ["Plan the party"]
    assert titles(client, created_before="2030-01-02T04:00:00-05:00") == ["Buy a gift"]
    assert titles(client, created_after="2030-01-02T20:00:00+14:00") == ["Plan the party", "Send invitations"]


@pytest.mark.points(1, hint="pydantic's AwareDatetime accepts a date and time only with its time zone.")
@pytest.mark.parametrize(
    "params",
    [
        {"created_after": "2030-01-02T09:00:00"},
        {"created_before": "2030-01-02"},
        {"created_after": "yesterday"},
        {"created_before": "2030-13-01T00:00:00Z"},
    ],
)
def test_a_moment_without_a_time_zone_or_not_a_moment_is_422(client, params):
    """created_after or created_before without a time zone, or that is not a date and time at all, answers 422."""
    response = client.get("/tasks/", params=params)

    assert response.status_code == 422


@pytest.mark.points(2, hint="Filter, then sort, then cut the page with offset and limit.")
def test_everything_works_together(client, session):
    """completed, created_after, sort and paging combine: the page is cut from the filtered, sorted list."""
    for day in (5, 1, 4, 2, 6, 3):
        add(session, f"Day {day}", datetime(2030, 1, day, tzinfo=UTC), completed=day != 4)
    query = {"completed": "true", "created_after": "2030-01-01T12:00:00Z", "sort": "-created_at"}

    assert titles(client, **query) == ["Day 6", "Day 5", "Day 3", "Day 2"]
    assert titles(client, **query, offset=1, limit=2) == ["Day 5", "Day 3"]
