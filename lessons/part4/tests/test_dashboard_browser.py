"""The dashboard in a real headless Chromium, against the app in a real server.

Two tabs of one browser are two users' screens: each logs in on its own (the
token is kept per tab), and what one tab changes shows up in the other through
the live feed, without reloading. Nothing here sleeps: every check waits for
what it expects to appear, up to a time limit.
"""

import os
import shutil
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.timeout(60)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000  # how long any one check waits for the page to get there
PASSWORD = "a long enough passphrase"


def find_chromium() -> str | None:
    if os.environ.get("CHROMIUM_PATH"):
        return os.environ["CHROMIUM_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium for the tests of this file."""
    executable = find_chromium()
    if executable is None:
        message = (
            "needs Chromium: install it with your package manager "
            "(e.g. apt-get install chromium) or set CHROMIUM_PATH"
        )
        # In CI the browser test must run: a missing browser is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_tab(browser, live_server) -> Iterator:
    """A function that opens the dashboard of the live server in a new tab."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(WAIT_MS)

    def open_tab():
        page = context.new_page()
        page.goto("/")
        return page

    yield open_tab
    context.close()


def expect(locator):
    from playwright.sync_api import expect

    return expect(locator)


def fill_in(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)


def register(page, username: str) -> None:
    fill_in(page, username, PASSWORD)
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("live-status")).to_have_text("connected")


def log_in(page, username: str, password: str = PASSWORD) -> None:
    fill_in(page, username, password)
    page.get_by_test_id("login").click()


def add_task(page, title: str) -> None:
    page.get_by_label("New task").fill(title)
    page.get_by_test_id("add-task").click()


def task_titles(page):
    return page.get_by_test_id("task-list").get_by_test_id("task-title")


@pytest.mark.points(
    5, hint="Watch the browser's console: open / with `uv run fastapi dev` and your browser's developer tools."
)
def test_a_task_added_in_one_tab_shows_up_live_in_the_other(new_tab):
    """A task added in one tab appears in a second tab of the same user at once, in its live events and in its task list."""
    first = new_tab()
    register(first, "dana")
    second = new_tab()
    expect(second.get_by_test_id("login-form")).to_be_visible()  # a new tab has to log in
    log_in(second, "dana")
    expect(second.get_by_test_id("live-status")).to_have_text("connected")
    expect(second.get_by_test_id("who")).to_contain_text("dana")

    add_task(first, "Water the plants")

    expect(second.get_by_test_id("events")).to_contain_text("Task created: Water the plants")
    expect(task_titles(second)).to_have_text(["Water the plants"])
    expect(task_titles(first)).to_have_text(["Water the plants"])


@pytest.mark.points(2)
def test_completing_and_deleting_in_one_tab_shows_up_in_the_other(new_tab):
    """Ticking a task done, then deleting it, in one tab is shown live in the other tab, event by event."""
    first = new_tab()
    register(first, "eric")
    add_task(first, "Buy stamps")
    expect(task_titles(first)).to_have_text(["Buy stamps"])
    second = new_tab()
    log_in(second, "eric")
    expect(second.get_by_test_id("live-status")).to_have_text("connected")
    expect(second.get_by_label("Buy stamps", exact=True)).not_to_be_checked()

    first.get_by_label("Buy stamps", exact=True).check()

    expect(second.get_by_test_id("events")).to_contain_text("Task updated: Buy stamps")
    expect(second.get_by_label("Buy stamps", exact=True)).to_be_checked()

    first.get_by_role("button", name='Delete "Buy stamps"').click()

    expect(second.get_by_test_id("events")).to_contain_text("Task deleted: Buy stamps")
    expect(task_titles(second)).to_have_count(0)
    expect(second.get_by_test_id("no-tasks")).to_be_visible()


@pytest.mark.points(1)
def test_another_users_tab_sees_none_of_it(new_tab):
    """A tab logged in as another user sees neither the task nor its event."""
    first = new_tab()
    register(first, "fred")
    other = new_tab()
    register(other, "gina")

    add_task(first, "Fred's secret plan")
    expect(task_titles(first)).to_have_text(["Fred's secret plan"])
    add_task(other, "Gina's own task")  # an event the other tab does get, after fred's

    expect(other.get_by_test_id("events")).to_contain_text("Task created: Gina's own task")
    expect(other.get_by_test_id("events")).not_to_contain_text("secret plan")
    expect(task_titles(other)).to_have_text(["Gina's own task"])


@pytest.mark.points(2)
def test_the_dashboard_explains_what_went_wrong(new_tab):
    """A wrong password, a password that is too short and a blank title each show a message that says what is wrong."""
    page = new_tab()
    fill_in(page, "hana", "short")
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("message")).to_contain_text("password")
    expect(page.get_by_test_id("message")).to_contain_text("at least 8 characters")

    register(page, "hana")
    add_task(page, "   ")
    expect(page.get_by_test_id("message")).to_contain_text("title")

    page.get_by_test_id("logout").click()
    log_in(page, "hana", "not the right passphrase")
    expect(page.get_by_test_id("message")).to_contain_text("Incorrect username or password")
    expect(page.get_by_test_id("login-form")).to_be_visible()
