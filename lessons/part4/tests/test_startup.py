"""Settings, the database engine, start-up and the server's log."""

import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def key_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "SECRET_KEY" in record.getMessage()
    ]


# ---- settings ------------------------------------------------------------------------


@pytest.mark.points(2, hint="In get_settings(): when secret_key is None, log a warning and make a random key.")
def test_without_a_secret_key_the_app_makes_one_and_says_so(settings_env, caplog):
    """With no SECRET_KEY the app makes a random key of its own and logs one warning saying that tokens will not survive a restart."""
    from app.config import get_settings

    settings = settings_env(SECRET_KEY=None)

    assert len(settings.secret_key.get_secret_value()) >= 32
    assert get_settings() is settings, "get_settings() should be cached: read the settings once"
    warnings = key_warnings(caplog)
    assert len(warnings) == 1
    assert "restart" in warnings[0]


@pytest.mark.points(1)
def test_with_a_secret_key_the_app_uses_it_quietly(settings_env, caplog, client):
    """With SECRET_KEY set, tokens are signed with it, and nothing is logged about the key."""
    import jwt

    key = "a secret key for the tests, long enough for HS256"
    settings = settings_env(SECRET_KEY=key, ACCESS_TOKEN_EXPIRE_MINUTES="5")
    client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    token = client.post("/auth/token", data={"username": "alice", "password": PASSWORD}).json()["access_token"]

    assert settings.secret_key.get_secret_value() == key
    assert key not in repr(settings), "keep the key a SecretStr, so that it never shows in a log"
    claims = jwt.decode(token, key, algorithms=["HS256"])
    assert claims["exp"] - time.time() == pytest.approx(5 * 60, abs=60)
    assert key_warnings(caplog) == []


# ---- the database engine ---------------------------------------------------------------


@pytest.mark.points(1, hint="Catch SQLAlchemy's ArgumentError and NoSuchModuleError, and raise SystemExit with a sentence.")
@pytest.mark.parametrize("url", ["not a database url", "nosuchdatabase://somewhere/tasks"])
def test_an_unusable_database_url_stops_with_a_sentence(url):
    """A DATABASE_URL that is no database URL stops the app with one sentence naming DATABASE_URL, not a traceback."""
    from app.db import create_db_engine

    with pytest.raises(SystemExit) as stopped:
        create_db_engine(url)

    assert "DATABASE_URL" in str(stopped.value.code)


@pytest.mark.points(1, hint='Give check_same_thread=False to SQLite only: other databases do not know that option.')
def test_only_sqlite_gets_the_same_thread_option(tmp_path):
    """SQLite engines may be used from any thread (FastAPI runs `def` endpoints on a pool of threads); other databases get no SQLite options."""
    import app.db
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = app.db.create_db_engine(f"sqlite:///{tmp_path / 'threads.db'}")
    answers: list[int] = []
    with engine.connect() as connection:  # made here, used on another thread
        worker = threading.Thread(target=lambda: answers.append(connection.execute(text("select 1")).scalar()))
        worker.start()
        worker.join(5)
    engine.dispose()
    assert answers == [1]

    # Nothing listens on port 1: PostgreSQL's driver tries to connect and is refused,
    # unless it first refuses an option it does not know.
    other = app.db.create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/tasks")
    with pytest.raises(DBAPIError) as failed:
        other.connect()
    other.dispose()
    assert "check_same_thread" not in str(failed.value), "a PostgreSQL engine was given SQLite's check_same_thread option"


# ---- start-up: tables and the first admin ------------------------------------------------


@pytest.mark.points(2, hint="create_first_admin() in the lifespan reads FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD.")
def test_startup_creates_the_tables_and_the_first_admin_once(temp_database, settings_env):
    """At start-up the app creates its tables and the first admin from the settings; starting again creates no second one."""
    from app.main import app

    settings_env(FIRST_ADMIN_USERNAME="boss", FIRST_ADMIN_PASSWORD="the boss's passphrase")
    for _ in range(2):  # two starts, one database
        with TestClient(app) as http:
            response = http.post("/auth/token", data={"username": "boss", "password": "the boss's passphrase"})
            assert response.status_code == 200
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
            users = http.get("/admin/users", headers=headers).json()

    assert [(user["username"], user["is_admin"]) for user in users] == [("boss", True)]


@pytest.mark.points(1)
@pytest.mark.parametrize("missing", ["FIRST_ADMIN_USERNAME", "FIRST_ADMIN_PASSWORD"])
def test_without_a_first_admin_setting_nobody_is_created(temp_database, settings_env, missing):
    """Without both FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD the app starts with no users, and data survives a restart."""
    from app.main import app

    first_admin = {"FIRST_ADMIN_USERNAME": "boss", "FIRST_ADMIN_PASSWORD": "the boss's passphrase"}
    settings_env(**{**first_admin, missing: None})
    with TestClient(app) as http:
        assert http.post("/auth/token", data={"username": "boss", "password": "the boss's passphrase"}).status_code == 401
        assert http.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
    with TestClient(app) as http:  # started again: alice is still there
        assert http.post("/auth/token", data={"username": "alice", "password": PASSWORD}).status_code == 200


# ---- the server's log -----------------------------------------------------------------------


def redact(*args):
    from app.core.logging import RedactTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s %s", args, None)
    assert RedactTokens().filter(record) is True, "a filter that returns False would drop the line"
    return record


@pytest.mark.points(1)
def test_the_log_filter_blanks_out_tokens():
    """The log filter replaces the value of ?token= (and only that) in a log line's arguments, and keeps the line."""
    record = redact("127.0.0.1:5000", "/ws/tasks?token=eyJ.abc.def&lang=en")

    assert record.getMessage() == "127.0.0.1:5000 /ws/tasks?token=[redacted]&lang=en"


@pytest.mark.points(1)
def test_the_log_filter_leaves_other_lines_alone():
    """Lines without a token, with arguments that are not text, or with no arguments pass the filter unchanged."""
    assert redact("127.0.0.1:5000", "/tasks/?completed=true").getMessage() == "127.0.0.1:5000 /tasks/?completed=true"
    assert redact(200, None).args == (200, None)

    from app.core.logging import RedactTokens

    plain = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process", None, None)
    assert RedactTokens().filter(plain) is True
    assert plain.getMessage() == "Started server process"


@pytest.mark.points(
    2, hint="redact_tokens_in_server_logs() in the lifespan adds the filter to uvicorn.access and uvicorn.error."
)
def test_tokens_never_reach_the_server_log(live_server, caplog):
    """On a real server, connecting to /ws/tasks?token=... logs the connection, but never the token itself."""
    from websockets.sync.client import connect

    caplog.set_level(logging.INFO)
    with live_server.client() as http:
        token = live_server.login(http, "alice")["Authorization"].removeprefix("Bearer ")
        with connect(f"{live_server.ws_url}/ws/tasks?token={token}", open_timeout=5):
            pass
        http.get("/tasks/", params={"token": token})  # a token in any URL

    server_lines = [record.getMessage() for record in caplog.records if record.name.startswith("uvicorn")]
    assert any("/ws/tasks" in line for line in server_lines), "the server logged no WebSocket connection"
    assert any("/tasks/?token=[redacted]" in line for line in server_lines), "the server logged no request"
    assert [line for line in server_lines if token in line] == []


@pytest.mark.points(2, hint="Split the query into name=value pairs and decode each name (urllib.parse.unquote_plus) before comparing it.")
@pytest.mark.parametrize(
    "query",
    ["%74oken=SECRET", "t%6Fken=SECRET", "TOKEN=SECRET", "lang=en&token=SECRET&token=SECRET", "access_token=SECRET"],
)
def test_the_log_filter_reads_the_query_as_the_app_does(query):
    """A token is blanked out however its parameter's name is spelled or encoded (%74oken is token too), and other parameters stay."""
    line = redact("127.0.0.1:5000", f"/ws/tasks?{query}").getMessage()

    assert "SECRET" not in line
    assert "[redacted]" in line
    assert line.startswith("127.0.0.1:5000 /ws/tasks?")
    assert ("lang=en" in line) == ("lang=en" in query)


@pytest.mark.points(2, hint="The filter must blank out exactly what the app would read as the token.")
def test_an_encoded_token_name_does_not_reach_the_log(live_server, caplog):
    """On a real server, a socket opened with /ws/tasks?%74oken=... is accepted (it is the token parameter), and the token is not logged."""
    from websockets.sync.client import connect

    caplog.set_level(logging.INFO)
    with live_server.client() as http:
        token = live_server.login(http, "alice")["Authorization"].removeprefix("Bearer ")
    with connect(f"{live_server.ws_url}/ws/tasks?%74oken={token}", open_timeout=5) as websocket:
        with live_server.client() as http:
            headers = {"Authorization": f"Bearer {token}"}
            assert http.post("/tasks/", json={"title": "Encoded"}, headers=headers).status_code == 201
        assert websocket.recv(timeout=5) == "Task created: Encoded"

    server_lines = [record.getMessage() for record in caplog.records if record.name.startswith("uvicorn")]
    assert any("/ws/tasks" in line for line in server_lines), "the server logged no WebSocket connection"
    assert [line for line in server_lines if token in line or token.split(".")[2] in line] == []
