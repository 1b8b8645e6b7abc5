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
def test_text_that_cannot_be_encoded_answers_422_without_echo(client, auth_headers, method, path, body):
    """A title or description holding a lone surrogate ("\\ud800") answers 422 as JSON, without repeating the input, never 500."""
    task = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers).json()

    response = client.request(method, path.format(id=task["id"]), content=body, headers={**JSON, **auth_headers})

    assert response.status_code == 422
    assert all("input" not in error for error in response.json()["detail"])
    assert client.get("/tasks/", headers=auth_headers).json() == [task]


@pytest.mark.points(2, hint="FastAPI(max_body_size=64 * 1024) refuses bigger bodies with 413.")
def test_a_body_over_64_kib_answers_413(client, auth_headers):
    """A request body larger than 64 KiB answers 413 and nothing is stored, while a task near the largest allowed size is accepted."""
    big = client.post("/tasks/", json={"title": "Too big", "description": "x" * (64 * 1024)}, headers=auth_headers)
    largest = client.post("/tasks/", json={"title": "x" * 200, "description": "x" * 2000}, headers=auth_headers)
    registration = client.post("/auth/register", json={"username": "bob", "password": "x" * (64 * 1024)})

    assert big.status_code == registration.status_code == 413
    assert largest.status_code == 201
    assert [task["title"] for task in client.get("/tasks/", headers=auth_headers).json()] == ["x" * 200]


@pytest.mark.points(1, hint="The limit counts the bytes as they arrive, so it also holds for a body sent in chunks.")
def test_a_body_sent_in_chunks_is_limited_too(client, auth_headers):
    """A body sent in chunks, with no Content-Length header, is cut off at 64 KiB with 413 as well."""

    def chunks():
        yield b'{"title": "Sneaky", "description": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/tasks/", content=chunks(), headers={**JSON, **auth_headers})

    assert response.status_code == 413
    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert client.get("/tasks/", headers=auth_headers).json() == []


@pytest.mark.points(1, hint="A handler for 405 can list every method that the OpenAPI schema gives the path.")
@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/tasks/1", {"GET", "PATCH", "DELETE"}),
        ("OPTIONS", "/tasks/", {"GET", "POST"}),
        ("DELETE", "/admin/users/1", {"PATCH"}),
    ],
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
