"""What a careless or hostile client cannot do: crash a 422, fill the memory, confuse a 405, or need a CDN for /docs."""

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from pwdlib.hashers.argon2 import Argon2Hasher

PASSWORD = "correct horse battery"

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


# ---- strict parsing ----------------------------------------------------------


@pytest.mark.points(1, hint="StrictBool accepts true and false only; a plain bool also takes 0, 1, \"yes\" and \"on\".")
@pytest.mark.parametrize("value", [0, 1, "yes", "true", "on"])
def test_booleans_are_true_or_false_and_nothing_else(client, auth_headers, admin_headers, value):
    """`completed` and an admin's `is_admin` or `is_active` must be JSON true or false: 0, 1, "yes", "true" or "on" answer 422."""
    task = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers).json()
    user_id = client.get("/auth/me", headers=auth_headers).json()["id"]

    answers = [
        client.post("/tasks/", json={"title": "Buy bread", "completed": value}, headers=auth_headers),
        client.patch(f"/tasks/{task['id']}", json={"completed": value}, headers=auth_headers),
        client.patch(f"/admin/users/{user_id}", json={"is_admin": value}, headers=admin_headers),
        client.patch(f"/admin/users/{user_id}", json={"is_active": value}, headers=admin_headers),
    ]

    assert [response.status_code for response in answers] == [422] * 4
    assert client.get("/auth/me", headers=auth_headers).json()["is_admin"] is False


def signed(claims: dict) -> str:
    from app.config import get_settings

    return jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm="HS256")


# The same number written so that Python's int() still reads it.
OTHER_SPELLINGS = {
    "spaces": lambda n: f" {n} ",
    "plus sign": lambda n: f"+{n}",
    "leading zero": lambda n: f"0{n}",
    "underscore": lambda n: f"0_{n}",
    "newline": lambda n: f"{n}\n",
    "arabic-indic digits": lambda n: "".join(chr(0x0660 + int(digit)) for digit in str(n)),
}


@pytest.mark.points(2, hint="Accept a \"sub\" only if it matches [1-9][0-9]* exactly: int() also reads \" 19 \", \"0_19\" and other scripts' digits.")
@pytest.mark.parametrize("spelling", OTHER_SPELLINGS)
def test_a_token_names_its_user_in_plain_digits_only(client, auth_headers, spelling):
    """A signed token whose "sub" is the user's id written any other way (spaces, a sign, a leading zero, an underscore, other digits) answers 401."""
    claims = jwt.decode(auth_headers["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    other = OTHER_SPELLINGS[spelling](int(claims["sub"]))
    assert int(other) == int(claims["sub"])  # the same number, for Python

    token = signed({**claims, "sub": other})

    assert client.get("/auth/me", headers=auth_headers).status_code == 200
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.points(1, hint="Usernames are ASCII: look up only ASCII names, since Python lower-cases the Kelvin sign to \"k\".")
def test_a_look_alike_letter_does_not_log_in_as_someone_else(client):
    """Logging in as karl spelt with the Kelvin sign (U+212A, which Python lower-cases to "k") answers 401, as registering that name answers 422."""
    assert client.post("/auth/register", json={"username": "karl", "password": PASSWORD}).status_code == 201

    look_alike = "\u212arl"
    login = client.post("/auth/token", data={"username": look_alike, "password": PASSWORD})
    register = client.post("/auth/register", json={"username": look_alike, "password": PASSWORD})

    assert login.status_code == 401
    assert register.status_code == 422
    assert client.post("/auth/token", data={"username": "KARL", "password": PASSWORD}).status_code == 200


def schema_of(client, name: str) -> dict:
    return client.get("/openapi.json").json()["components"]["schemas"][name]


def allows_null(field: dict) -> bool:
    return field.get("type") == "null" or any(allows_null(option) for option in field.get("anyOf", []))


@pytest.mark.points(1, hint="`Title | SkipJsonSchema[None] = None` keeps the field optional without offering null in the schema.")
def test_the_schema_offers_null_only_where_patch_accepts_it(client, auth_headers):
    """The OpenAPI schema of a PATCH body allows null for the description (which PATCH accepts) but not for the title or completed (which it refuses)."""
    fields = schema_of(client, "TaskUpdate")["properties"]
    task = client.post("/tasks/", json={"title": "Buy milk", "description": "Two litres"}, headers=auth_headers).json()

    assert allows_null(fields["description"])
    changed = client.patch(f"/tasks/{task['id']}", json={"description": None}, headers=auth_headers)
    assert changed.json()["description"] is None
    assert not allows_null(fields["title"]) and not allows_null(fields["completed"])


@pytest.mark.points(2, hint="responses={...} on a route, or on its APIRouter for all of its routes, puts an answer in the schema.")
def test_every_answer_is_documented(client, auth_headers, admin_headers):
    """Each answer a route gives (400, 401, 403, 404, 409, 413, 429) is in its OpenAPI entry, with WWW-Authenticate on a 401 and Retry-After on a 429."""
    from app.core.rate_limit import AuthLimiter, get_auth_limiter

    paths = client.get("/openapi.json").json()["paths"]
    root_id = client.get("/auth/me", headers=admin_headers).json()["id"]
    answers = [
        ("get", "/tasks/{task_id}", client.get("/tasks/999", headers=auth_headers)),
        ("patch", "/tasks/{task_id}", client.patch("/tasks/999", json={"completed": True}, headers=auth_headers)),
        ("delete", "/tasks/{task_id}", client.delete("/tasks/999", headers=auth_headers)),
        ("post", "/tasks/", client.post("/tasks/", content=b'{"title": "\xff"}', headers={**JSON, **auth_headers})),
        ("post", "/tasks/", client.post("/tasks/", json={"title": "x" * (64 * 1024)}, headers=auth_headers)),
        ("get", "/tasks/", client.get("/tasks/")),
        ("get", "/auth/me", client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})),
        ("get", "/admin/users", client.get("/admin/users", headers=auth_headers)),
        ("patch", "/admin/users/{user_id}", client.patch(f"/admin/users/{root_id}", json={"is_admin": False}, headers=admin_headers)),
        ("patch", "/admin/users/{user_id}", client.patch("/admin/users/999", json={"is_admin": True}, headers=admin_headers)),
        ("post", "/auth/register", client.post("/auth/register", json={"username": "alice", "password": PASSWORD})),
        ("post", "/auth/token", client.post("/auth/token", data={"username": "alice", "password": "wrong"})),
    ]
    client.app.dependency_overrides[get_auth_limiter] = lambda: AuthLimiter(per_client=0, per_username=0)
    answers.append(("post", "/auth/token", client.post("/auth/token", data={"username": "alice", "password": PASSWORD})))

    seen = set()
    for method, path, response in answers:
        assert response.status_code >= 400, f"{method.upper()} {path} answered {response.status_code}"
        documented = paths[path][method]["responses"].get(str(response.status_code))
        assert documented, f"{method.upper()} {path} answers {response.status_code}, which its schema does not list"
        for header in documented.get("headers", {}):
            assert header.lower() in response.headers, f"{method.upper()} {path} documents {header}, but sends none"
        seen.add(response.status_code)
    assert seen == {400, 401, 403, 404, 409, 413, 429}


# ---- limits on logins and registrations ------------------------------------------------


class Clock:
    """A clock that only moves when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limits(client):
    """The app's limiter replaced by one with the default settings and a clock the test moves."""
    from app.config import get_settings
    from app.core.rate_limit import AuthLimiter, get_auth_limiter

    settings = get_settings()
    clock = Clock()
    limiter = AuthLimiter(settings.auth_attempts_per_client, settings.auth_attempts_per_username, clock=clock)
    client.app.dependency_overrides[get_auth_limiter] = lambda: limiter
    return limiter


def log_in(client, username: str, password: str = "not the password"):
    return client.post("/auth/token", data={"username": username, "password": password})


@pytest.mark.points(2, hint="Count attempts per username before checking the password; over the limit raise HTTPException(429, headers={'Retry-After': ...}).")
def test_too_many_logins_for_one_username_answer_429(client, session, limits):
    """After AUTH_ATTEMPTS_PER_USERNAME tries in a minute, logging in as that user answers 429 with a Retry-After, even with the right password; another user still logs in."""
    from app.users import create_user

    for name in ("alice", "bob"):
        create_user(session, name, PASSWORD)  # not through /auth/register, which counts as a try
    # Right and wrong in turn: every try counts, and none of them locks the account.
    passwords = [PASSWORD if n % 2 else "not the password" for n in range(limits.per_username)]
    tries = [log_in(client, "alice", password).status_code for password in passwords]
    limits.clock.now += 15

    locked = log_in(client, "ALICE", PASSWORD)

    assert tries == [200 if password == PASSWORD else 401 for password in passwords]
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "45", "Retry-After should say how many seconds are left in the minute"
    assert log_in(client, "bob", PASSWORD).status_code == 200
    limits.clock.now += 45
    assert log_in(client, "alice", PASSWORD).status_code == 200, "the limit should lift after the minute"


@pytest.mark.points(2, hint="Count attempts per client address too (request.client.host), registrations included.")
def test_too_many_attempts_from_one_client_answer_429(client):
    """After the limit of logins and registrations per minute from one address, both answer 429 with a Retry-After, whatever the username."""
    from app.core.rate_limit import AuthLimiter, get_auth_limiter

    limits = AuthLimiter(per_client=6, per_username=100)
    client.app.dependency_overrides[get_auth_limiter] = lambda: limits
    answers = [
        client.post("/auth/register", json={"username": f"user{n}", "password": PASSWORD}).status_code
        if n % 2
        else log_in(client, f"stranger{n}").status_code
        for n in range(limits.per_client)
    ]

    assert 429 not in answers
    for response in (log_in(client, "newcomer"), client.post("/auth/register", json={"username": "late", "password": PASSWORD})):
        assert response.status_code == 429
        assert 0 < int(response.headers["retry-after"]) <= 60
    assert log_in(client, "late", PASSWORD).status_code == 429


@pytest.mark.points(2, hint="The server reads request.client.host: try it on a real server, through uvicorn.")
def test_a_real_server_limits_logins_too(live_server):
    """On a real server (5 tries per username, see the live_server fixture), the sixth login for one username in a minute answers 429 with a Retry-After."""
    with live_server.client() as http:
        tries = [http.post("/auth/token", data={"username": "mallory", "password": "guess"}) for _ in range(6)]

    assert [response.status_code for response in tries] == [401] * 5 + [429]
    assert 0 < int(tries[-1].headers["retry-after"]) <= 60


@pytest.mark.points(2, hint="Wrap hashing and verifying in a threading.BoundedSemaphore(os.cpu_count()).")
def test_no_more_password_checks_run_at_once_than_there_are_cores(monkeypatch):
    """However many password checks are asked for at once, no more run at the same time than the machine has cores (each takes 64 MiB)."""
    from app.core.security import hash_password, verify_password

    running, peak = 0, 0
    lock = threading.Lock()
    real_verify = Argon2Hasher.verify

    def counting_verify(self, password, hash):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)  # long enough for the others to pile up, if they may
        with lock:
            running -= 1
        return real_verify(self, password, hash)

    hashed = hash_password(PASSWORD)
    monkeypatch.setattr(Argon2Hasher, "verify", counting_verify)
    cores = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=4 * cores) as pool:
        results = list(pool.map(lambda _: verify_password(PASSWORD, hashed), range(8 * cores)))

    assert all(results)
    assert 1 <= peak <= cores, f"{peak} password checks ran at once on {cores} cores"


# ---- the secret key ------------------------------------------------------------------


@pytest.mark.points(2, hint="In get_settings(), raise SystemExit with one sentence when the key is shorter than 32 bytes or a placeholder.")
@pytest.mark.parametrize("key", ["abc", "x" * 31, "change-me", "replace-me-with-a-long-random-string"])
def test_a_weak_secret_key_stops_the_app_with_one_sentence(monkeypatch, key):
    """A SECRET_KEY shorter than 32 bytes, or a placeholder such as change-me, stops the app with one sentence naming SECRET_KEY."""
    from app.config import get_settings

    monkeypatch.setenv("SECRET_KEY", key)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            get_settings()
        monkeypatch.setenv("SECRET_KEY", "x" * 32)
        get_settings.cache_clear()
        assert get_settings().secret_key.get_secret_value() == "x" * 32, "a key of 32 bytes is long enough"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()  # read again, as before the test

    message = str(stopped.value.code)
    assert "SECRET_KEY" in message and "\n" not in message.strip()


@pytest.mark.points(1, hint="Say it in the warning of get_settings(): each worker process makes its own random key.")
def test_without_a_secret_key_the_log_warns_about_several_workers(live_server):
    """With no SECRET_KEY, the server's one line about the key also says that several workers would reject each other's tokens."""
    lines = [line for line in live_server.log.splitlines() if "SECRET_KEY" in line]

    assert len(lines) == 1
    assert "worker" in lines[0].lower()
