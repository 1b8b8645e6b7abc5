"""Challenge: search tasks by title with GET /tasks/?q=..."""

import pytest


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def titles(client, **params) -> list[str]:
    response = client.get("/tasks/", params=params)
    assert response.status_code == 200, response.text
    return sorted(task["title"] for task in response.json())


@pytest.mark.points(2, hint="Add a query parameter `q: str | None = None` to list_tasks and pass it on to the store.")
def test_search_finds_titles_that_contain_the_text(client):
    """GET /tasks/?q=milk lists the tasks whose title contains "milk" anywhere, and only those."""
    create(client, "Buy milk")
    create(client, "Walk the dog")
    create(client, "Oat milk latte")

    assert titles(client, q="milk") == ["Buy milk", "Oat milk latte"]


@pytest.mark.points(2, hint="Compare both sides in lower case: q.lower() in title.lower() (or casefold()).")
def test_search_ignores_upper_and_lower_case(client):
    """The search ignores case, in the title and in q: ?q=mIlK finds "Buy MILK" and "Milkshake"."""
    create(client, "Buy MILK")
    create(client, "Milkshake")
    create(client, "Walk the dog")

    assert titles(client, q="mIlK") == ["Buy MILK", "Milkshake"]


@pytest.mark.points(1)
def test_a_search_without_matches_is_an_empty_list(client):
    """A search that matches no title answers 200 with an empty list."""
    create(client, "Buy milk")

    assert titles(client, q="pizza") == []


@pytest.mark.points(1)
def test_search_looks_at_the_title_only(client):
    """A task whose description mentions the text, but whose title does not, is not found."""
    create(client, "Go shopping", description="milk, bread, eggs")
    create(client, "Buy milk")

    assert titles(client, q="milk") == ["Buy milk"]


@pytest.mark.points(2, hint="Apply the completed filter and the search one after the other.")
def test_search_combines_with_the_completed_filter(client):
    """?q=milk&completed=true lists only the completed tasks whose title contains "milk"."""
    create(client, "Buy milk", completed=True)
    create(client, "Oat milk latte")
    create(client, "Walk the dog", completed=True)

    assert titles(client, q="milk", completed="true") == ["Buy milk"]
    assert titles(client, q="milk", completed="false") == ["Oat milk latte"]


@pytest.mark.points(2, hint="Search first, then cut the page: tasks[offset : offset + limit].")
def test_offset_and_limit_page_through_the_matches(client):
    """With q, offset and limit count matching tasks only, so pages hold nothing but matches."""
    for n in range(3):
        create(client, f"Walk the dog {n}")
    for n in range(3):
        create(client, f"Buy milk {n}")

    first = titles(client, q="milk", limit=2)
    rest = titles(client, q="milk", offset=2, limit=2)

    assert len(first) == 2 and len(rest) == 1
    assert sorted(first + rest) == ["Buy milk 0", "Buy milk 1", "Buy milk 2"]


@pytest.mark.points(1, hint="Query(min_length=..., max_length=...) works for text the way ge and le work for numbers.")
@pytest.mark.parametrize("q", ["", "x" * 101])
def test_an_empty_or_too_long_search_is_422(client, q):
    """An empty q, or one longer than 100 characters, answers 422."""
    response = client.get("/tasks/", params={"q": q})

    assert response.status_code == 422
