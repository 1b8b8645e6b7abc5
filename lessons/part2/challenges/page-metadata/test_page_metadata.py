"""Challenge: GET /tasks/page answers one page of tasks together with how many there are in all."""

import pytest

MAX_SQL_INT = 2**63 - 1


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def page(client, **params) -> dict:
    response = client.get("/tasks/page", params=params)
    assert response.status_code == 200, f"GET /tasks/page answered {response.status_code}: {response.text[:300]}"
    return response.json()


@pytest.mark.points(3, hint='A new route @router.get("/page"), placed before @router.get("/{task_id}"), returning a TaskPage model.')
def test_a_page_holds_items_total_offset_and_limit(client):
    """GET /tasks/page answers 200 with {"items": [...], "total": N, "offset": 0, "limit": 100}, the items being the tasks as GET /tasks/ lists them."""
    tasks = [create(client, f"Task {n}") for n in range(3)]

    assert page(client) == {"items": tasks, "total": 3, "offset": 0, "limit": 100}


@pytest.mark.points(1)
def test_a_page_with_no_tasks(client):
    """With no tasks at all, GET /tasks/page answers an empty list of items and a total of 0."""
    assert page(client) == {"items": [], "total": 0, "offset": 0, "limit": 100}


@pytest.mark.points(3, hint="Count with the same filters but without offset and limit: select(func.count()).select_from(query.subquery()).")
def test_total_counts_every_task_not_only_the_page(client):
    """With offset=1 and limit=2 the items are the 2nd and 3rd tasks, while total still counts all 5, and offset and limit are answered back."""
    tasks = [create(client, f"Task {n}") for n in range(5)]

    assert page(client, offset=1, limit=2) == {"items": tasks[1:3], "total": 5, "offset": 1, "limit": 2}


@pytest.mark.points(2)
def test_pages_cover_every_task_once(client):
    """Asking for pages of 2 with offset 0, 2, 4... until offset reaches total gives every task exactly once, by id."""
    ids = [create(client, f"Task {n}")["id"] for n in range(7)]

    seen, offset = [], 0
    while offset < (answer := page(client, offset=offset, limit=2))["total"]:
        seen += [task["id"] for task in answer["items"]]
        offset += 2
        assert offset <= 100, "the pages never end"

    assert seen == ids


@pytest.mark.points(1)
def test_a_page_past_the_end_is_empty(client):
    """An offset past the last task answers no items, but still the true total."""
    for n in range(3):
        create(client, f"Task {n}")

    assert page(client, offset=10, limit=5) == {"items": [], "total": 3, "offset": 10, "limit": 5}


@pytest.mark.points(2, hint="Apply the completed filter to the query before you count it and before you cut the page.")
def test_completed_filters_the_items_and_the_total(client):
    """GET /tasks/page?completed=true counts and lists completed tasks only, and completed=false the others."""
    done = [create(client, f"Done {n}", completed=True) for n in range(3)]
    open_ = [create(client, f"Open {n}") for n in range(2)]

    assert page(client, completed="true", limit=2) == {"items": done[:2], "total": 3, "offset": 0, "limit": 2}
    assert page(client, completed="false") == {"items": open_, "total": 2, "offset": 0, "limit": 100}


@pytest.mark.points(1, hint="Use the same Query(ge=..., le=...) limits as GET /tasks/.")
@pytest.mark.parametrize(
    "params",
    [{"offset": -1}, {"offset": MAX_SQL_INT + 1}, {"limit": 0}, {"limit": 101}, {"completed": "maybe"}],
)
def test_paging_rules_are_those_of_the_list(client, params):
    """GET /tasks/page follows the rules of GET /tasks/: a negative or huge offset, a limit outside 1 to 100, or a non-boolean completed answers 422."""
    assert page(client, offset=0, limit=100)["total"] == 0

    response = client.get("/tasks/page", params=params)

    assert response.status_code == 422


@pytest.mark.points(1, hint="Give the route a return type (-> TaskPage), and FastAPI documents the shape of the answer.")
def test_the_page_is_documented(client):
    """/openapi.json describes GET /tasks/page, and its answer has items, total, offset and limit."""
    spec = client.get("/openapi.json").json()

    assert "get" in spec["paths"].get("/tasks/page", {}), "GET /tasks/page is not in the API description"
    answer = spec["paths"]["/tasks/page"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    name = answer["$ref"].rsplit("/", 1)[-1]
    assert {"items", "total", "offset", "limit"} <= set(spec["components"]["schemas"][name]["properties"])
