"""The bare address of the API leads to its interactive docs."""

import pytest


@pytest.mark.points(1, hint='@app.get("/", include_in_schema=False) returning RedirectResponse(url="/docs").')
def test_home_page_sends_the_browser_to_the_docs(client):
    """GET / redirects to /docs, so opening the bare address shows the API instead of a 404."""
    response = client.get("/", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == "/docs"
