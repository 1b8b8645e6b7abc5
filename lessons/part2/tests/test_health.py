"""The app is alive and describes itself: /health, /docs and /openapi.json."""

import re

import pytest


@pytest.mark.points(1)
def test_health_says_ok(client):
    """GET /health answers 200 with {"status": "ok"}."""
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.points(1, hint="FastAPI serves /docs by itself unless docs_url=None was passed to FastAPI().")
def test_interactive_docs_are_served(client):
    """GET /docs answers 200 with the Swagger UI page."""
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()


@pytest.mark.points(1, hint="Is the tasks router included in the app with app.include_router(...)?")
def test_openapi_lists_every_task_route(client):
    """GET /openapi.json describes all five task routes: POST and GET on /tasks/, GET, PATCH and DELETE on /tasks/{task_id}."""
    response = client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"post", "get"} <= set(paths["/tasks/"])
    item = [path for path in paths if re.fullmatch(r"/tasks/\{[^/]+\}", path)]
    assert len(item) == 1, f"expected one /tasks/{{...}} path, found {item}"
    assert {"get", "patch", "delete"} <= set(paths[item[0]])


@pytest.mark.points(2, hint="created_at belongs to the table model Task and to TaskPublic, never to TaskCreate or TaskUpdate.")
def test_only_the_output_model_has_id_and_created_at(client):
    """The API documents TaskCreate, TaskUpdate and TaskPublic; only TaskPublic has an `id` and a `created_at`."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    for name in ("TaskCreate", "TaskUpdate", "TaskPublic"):
        assert name in schemas, f"no {name} model in the API's schemas"
    for name in ("TaskCreate", "TaskUpdate"):
        assert "id" not in schemas[name]["properties"], f"{name} lets a client send an id"
        assert "created_at" not in schemas[name]["properties"], f"{name} lets a client send created_at"
    assert {"id", "created_at"} <= set(schemas["TaskPublic"]["properties"])


@pytest.mark.points(1, hint='@app.get("/", include_in_schema=False) returning RedirectResponse(url="/docs").')
def test_home_page_sends_the_browser_to_the_docs(client):
    """GET / redirects to /docs, so opening the bare address shows the API instead of a 404."""
    response = client.get("/", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == "/docs"
