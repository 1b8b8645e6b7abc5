"""GET / serves the dashboard: an HTML page, its script and its style sheet, all from the app itself."""

import re
from html.parser import HTMLParser

import pytest

STATIC_FILES = ["/static/app.js", "/static/style.css"]


class Inventory(HTMLParser):
    """Collects the ids, labels and inputs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.labelled: set[str] = set()
        self.inputs: list[dict] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "label" and "for" in attributes:
            self.labelled.add(attributes["for"])
        if tag in ("input", "select", "textarea"):
            self.inputs.append(attributes)
        if tag == "script" and "src" in attributes:
            self.scripts.append(attributes["src"])


def page(client) -> Inventory:
    inventory = Inventory()
    inventory.feed(client.get("/").text)
    return inventory


@pytest.mark.points(2, hint='@app.get("/") returning FileResponse(STATIC_DIR / "index.html").')
def test_the_root_serves_the_dashboard(client):
    """GET / answers 200 with an HTML page that loads /static/app.js."""
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page(client).scripts


@pytest.mark.points(1, hint='app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")')
@pytest.mark.parametrize("path, kind", [("/static/app.js", "javascript"), ("/static/style.css", "text/css")])
def test_the_dashboards_files_are_served(client, path, kind):
    """The dashboard's script and style sheet are served from /static with the right content type."""
    response = client.get(path)

    assert response.status_code == 200
    assert kind in response.headers["content-type"]
    assert response.text.strip()


@pytest.mark.points(1)
def test_the_dashboard_loads_nothing_from_elsewhere(client):
    """The page, its script and its style sheet load nothing from another site: no CDN, no web fonts."""
    for path in ["/", *STATIC_FILES]:
        text = client.get(path).text
        assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}", text), f"{path} refers to another site"
        assert "@import" not in text


@pytest.mark.points(1)
def test_every_field_of_the_dashboard_has_a_label(client):
    """Every input of the dashboard has a <label for=...>, so that screen readers (and tests) can find it."""
    inventory = page(client)

    assert inventory.inputs
    for field in inventory.inputs:
        assert field.get("id") in inventory.labelled, f"the input {field} has no label"


@pytest.mark.points(1)
def test_the_dashboard_uses_the_api_and_the_live_feed(client):
    """The script logs in at /auth/token, lists at /tasks/, listens on /ws/tasks and keeps its token per tab."""
    script = client.get("/static/app.js").text

    for needed in ["/auth/token", "/auth/register", "/tasks/", "/ws/tasks", "sessionStorage"]:
        assert needed in script
    assert "localStorage" not in script, "a token in localStorage is shared by every tab and outlives them"
    assert ".innerHTML" not in script, "task titles are text: put them in with textContent, never innerHTML"


@pytest.mark.points(1)
def test_the_api_still_answers_next_to_the_dashboard(client):
    """GET /health answers 200 {"status": "ok"}, and the API's docs are still served at /docs."""
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0].lower(): part[1:] for part in parts}


@pytest.mark.points(2, hint="Give FileResponse(..., headers=...) and a StaticFiles subclass the same security headers.")
@pytest.mark.parametrize("path", ["/", *STATIC_FILES])
def test_the_dashboard_is_sent_with_security_headers(client, path):
    """The page and its files come with a Content-Security-Policy of default-src 'self' and frame-ancestors 'none', X-Content-Type-Options: nosniff and a Referrer-Policy."""
    headers = client.get(path).headers

    policy = directives(headers.get("content-security-policy", ""))
    assert policy.get("default-src") == ["'self'"], "only this site may provide scripts, styles and connections"
    assert policy.get("frame-ancestors") == ["'none'"], "no other site may show the dashboard in a frame"
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") in {"no-referrer", "same-origin", "strict-origin"}


@pytest.mark.points(1)
def test_the_dashboards_files_can_only_be_read(client):
    """The dashboard's files answer 405 to anything but reading them, and the page itself to POST."""
    assert client.post("/static/app.js").status_code == 405
    response = client.post("/")
    assert response.status_code == 405
    assert response.headers.get("allow") == "GET"
