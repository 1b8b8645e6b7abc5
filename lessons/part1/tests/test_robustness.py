"""What a careless or hostile client cannot do: crash a 422, fill the memory, confuse a 405, or need a CDN for /docs."""

import re

import pytest

JSON = {"Content-Type": "application/json"}
# "\ud800" is half of a UTF-16 pair: valid JSON, but text that UTF-8 cannot encode.
LONE_SURROGATE = rb'"\ud800"'


@pytest.mark.points(2, hint="A RequestValidationError handler that leaves out each error's `input` (app/core/errors.py).")
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/tasks/", b'{"title": ' + LONE_SURROGATE + b"}"),
        ("POST", "/tasks/", b'{"title": "Buy milk", "description": ' + LONE_SURROGATE + b"}"),
        ("PATCH", "/tasks/{id}", b'{"title": ' + LONE_SURROGATE + b"}"),
    ],
    ids=["title", "description", "patch"],
)
def test_text_that_cannot_be_encoded_answers_422_without_echo(client, method, path, body):
    """A title or description holding a lone surrogate ("\\ud800") answers 422 as JSON, without repeating the input, never 500."""
    task = client.post("/tasks/", json={"title": "Buy milk"}).json()

    response = client.request(method, path.format(id=task["id"]), content=body, headers=JSON)

    assert response.status_code == 422
    assert all("input" not in error for error in response.json()["detail"])
    assert client.get("/tasks/").json() == [task]


@pytest.mark.points(2, hint="FastAPI(max_body_size=64 * 1024) refuses bigger bodies with 413.")
def test_a_body_over_64_kib_answers_413(client):
    """A request body larger than 64 KiB answers 413 and nothing is stored, while a task near the largest allowed size is accepted."""
    big = client.post("/tasks/", json={"title": "Too big", "description": "x" * (64 * 1024)})
    largest = client.post("/tasks/", json={"title": "x" * 200, "description": "x" * 2000})

    assert big.status_code == 413
    assert largest.status_code == 201
    assert [task["title"] for task in client.get("/tasks/").json()] == ["x" * 200]


@pytest.mark.points(1, hint="The limit counts the bytes as they arrive, so it also holds for a body sent in chunks.")
def test_a_body_sent_in_chunks_is_limited_too(client):
    """A body sent in chunks, with no Content-Length header, is cut off at 64 KiB with 413 as well."""

    def chunks():
        yield b'{"title": "Sneaky", "description": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/tasks/", content=chunks(), headers=JSON)

    assert response.status_code == 413
    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert client.get("/tasks/").json() == []


@pytest.mark.points(1, hint="A handler for 405 can list every method that the OpenAPI schema gives the path.")
@pytest.mark.parametrize(
    "method, path, allowed",
    [("PUT", "/tasks/1", {"GET", "PATCH", "DELETE"}), ("OPTIONS", "/tasks/", {"GET", "POST"})],
)
def test_a_wrong_method_names_every_allowed_one(client, method, path, allowed):
    """A method a path does not support answers 405 with an Allow header that names every method the path does support."""
    response = client.request(method, path)

    assert response.status_code == 405
    assert {name.strip() for name in response.headers["allow"].split(",")} == allowed


@pytest.mark.points(1, hint="FastAPI(docs_url=None), then serve Swagger UI's files yourself (app/core/docs.py).")
def test_the_docs_page_needs_no_internet(client):
    """GET /docs loads Swagger UI's script and style sheet from the app itself, and both are served."""
    page = client.get("/docs")

    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(asset.endswith(".js") for asset in assets) and any(asset.endswith(".css") for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), f"/docs loads {asset} from another site"
        assert client.get(asset).status_code == 200, f"{asset} is not served"


@pytest.mark.points(1, hint="StrictBool accepts true and false only; a plain bool also takes 0, 1, \"yes\" and \"on\".")
@pytest.mark.parametrize("value", [0, 1, "yes", "true", "on"])
def test_completed_is_true_or_false_and_nothing_else(client, value):
    """`completed` must be a JSON true or false: 0, 1, "yes", "true" or "on" answer 422, in POST and in PATCH."""
    task = client.post("/tasks/", json={"title": "Buy milk"}).json()

    created = client.post("/tasks/", json={"title": "Buy bread", "completed": value})
    changed = client.patch(f"/tasks/{task['id']}", json={"completed": value})

    assert created.status_code == changed.status_code == 422
    assert client.get("/tasks/").json() == [task]


def schema_of(client, name: str) -> dict:
    return client.get("/openapi.json").json()["components"]["schemas"][name]


def allows_null(field: dict) -> bool:
    return field.get("type") == "null" or any(allows_null(option) for option in field.get("anyOf", []))


@pytest.mark.points(1, hint="`Title | SkipJsonSchema[None] = None` keeps the field optional without offering null in the schema.")
def test_the_schema_offers_null_only_where_patch_accepts_it(client):
    """The OpenAPI schema of a PATCH body allows null for the description (which PATCH accepts) but not for the title or completed (which it refuses)."""
    fields = schema_of(client, "TaskUpdate")["properties"]
    task = client.post("/tasks/", json={"title": "Buy milk", "description": "Two litres"}).json()

    assert allows_null(fields["description"])
    assert client.patch(f"/tasks/{task['id']}", json={"description": None}).json()["description"] is None
    assert not allows_null(fields["title"]) and not allows_null(fields["completed"])


@pytest.mark.points(2, hint="responses={404: {...}} on the route decorator puts an answer in the schema.")
def test_every_answer_is_documented(client):
    """Each answer a route gives (404 for a missing task, 400 for a body that is not text, 413 for a too large one) is in its OpenAPI entry."""
    paths = client.get("/openapi.json").json()["paths"]
    not_text = b'{"title": "\xff"}'
    answers = [
        ("get", "/tasks/{task_id}", client.get("/tasks/999")),
        ("patch", "/tasks/{task_id}", client.patch("/tasks/999", json={"completed": True})),
        ("delete", "/tasks/{task_id}", client.delete("/tasks/999")),
        ("post", "/tasks/", client.post("/tasks/", content=not_text, headers=JSON)),
        ("post", "/tasks/", client.post("/tasks/", json={"title": "x" * (64 * 1024)})),
    ]

    for method, path, response in answers:
        assert response.status_code >= 400, f"{method.upper()} {path} answered {response.status_code}"
        documented = paths[path][method]["responses"]
        assert str(response.status_code) in documented, f"{method.upper()} {path} answers {response.status_code}, undocumented"
