"""The book: it builds strictly, quotes only tested code, works offline, and
teaches what FastAPI really does.

`mkdocs build --strict` runs once per test session (the `site` fixture), into a
temporary folder, with every notebook executed; the tests below read what it
built. The examples the pages quote from docs/examples/ are run here too.
"""

from __future__ import annotations

import fcntl
import functools
import html.parser
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BUILD_TIMEOUT = 300  # seconds; it takes about 20 on a busy 2-core machine

# A fenced block longer than this must be a snippet include, unless its
# language is one of these (a terminal session, a diff, a diagram).
MAX_PASTED_LINES = 3
PASTE_ALLOWED = {"sh", "bash", "console", "shell", "diff", "mermaid"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*$")
SNIPPET = re.compile(r"""^\s*-{1,}8<-{1,}\s+(?P<quote>["'])(?P<target>[^"']+)(?P=quote)\s*$""")


def build(root: Path, site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build --strict` for the book in `root`, into `site`."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )


def repo_state() -> set[str]:
    """Every file in the repository that git does not track (ignored ones included)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {
        line[3:] for line in out.splitlines() if line[:2] in {"??", "!!"} and not line[3:].startswith(".venv/")
    }


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book, built once for the whole test run, with every notebook executed.

    With parallel workers, the first one to get here builds it; the others wait
    for that build and read the same folder."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    site, log = shared / "book-site", shared / "book-build.log"
    with (shared / "book-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log.exists():
            before = repo_state()
            result = build(ROOT, site, BOOK_NOTEBOOK_CACHE="0")
            left_behind = sorted(repo_state() - before)
            problem = ""
            if result.returncode != 0:
                problem = f"`mkdocs build --strict` failed:\n{(result.stdout + result.stderr)[-4000:]}"
            elif left_behind:
                problem = f"building the book left files in the repository: {left_behind}"
            log.write_text(problem, encoding="utf-8")
    problem = log.read_text(encoding="utf-8")
    if problem:
        pytest.fail(problem)
    return site


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at `path`, freshly imported, leaving no __pycache__ next to it."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


def load_example(name: str) -> ModuleType:
    """A module of docs/examples/."""
    return load_module(DOCS / "examples" / f"{name}.py", f"book_example_{name}")


# ---- the pages' sources --------------------------------------------------------------------


def fenced_blocks(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, language, content lines) of every fenced code block of a page."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, start = opening["fence"], index
        index += 1
        content = []
        while index < len(lines) and not (
            lines[index].strip().startswith(fence) and lines[index].strip().strip(fence[0]) == ""
        ):
            content.append(lines[index])
            index += 1
        index += 1
        yield start + 1, opening["lang"].lower(), content


def pasted_code(text: str) -> list[str]:
    """Where a page holds a block of more than three lines that is not included."""
    found = []
    for line, lang, content in fenced_blocks(text):
        code = [row for row in content if row.strip()]
        if len(code) <= MAX_PASTED_LINES or lang in PASTE_ALLOWED:
            continue
        if not all(SNIPPET.match(row) for row in code):
            found.append(f"line {line}: a {lang or 'plain'} block of {len(code)} lines")
    return found


def snippets(text: str) -> list[str]:
    return [match["target"] for row in text.splitlines() if (match := SNIPPET.match(row))]


def test_the_check_for_pasted_code_finds_a_pasted_block() -> None:
    page = '```python\n--8<-- "lessons/part1/app/main.py"\n```\n\n```python\na = 1\nb = 2\nc = 3\nd = 4\n```\n'
    assert pasted_code(page) == ["line 5: a python block of 4 lines"]
    assert pasted_code("```sh\n" + "uv run pytest\n" * 5 + "```\n") == []
    assert pasted_code("    ```python\n    x = 1\n    y = 2\n    ```\n") == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(DOCS).as_posix())
def test_code_on_the_pages_is_included_never_pasted(page: Path) -> None:
    assert pasted_code(page.read_text(encoding="utf-8")) == []


def test_every_snippet_names_a_file_and_a_section_that_exist() -> None:
    missing = []
    for page in PAGES:
        for target in snippets(page.read_text(encoding="utf-8")):
            path, _, section = target.partition(":")
            source = ROOT / path
            if not source.is_file():
                missing.append(f"{page.relative_to(ROOT)}: no file {path}")
                continue
            text = source.read_text(encoding="utf-8")
            for end in ("start", "end"):
                if section and not re.search(rf"-8<-+\s*\[\s*{end}\s*:\s*{re.escape(section)}\s*\]", text):
                    missing.append(f"{page.relative_to(ROOT)}: {path} has no [{end}:{section}]")
    assert missing == []


def snippets_settings() -> dict[str, object]:
    """The pymdownx.snippets settings of mkdocs.yml."""
    from mkdocs.utils.yaml import yaml_load

    config = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return next(item["pymdownx.snippets"] for item in config["markdown_extensions"] if "pymdownx.snippets" in item)


def test_a_snippet_of_a_missing_section_stops_the_build() -> None:
    """The book's own snippets settings (check_paths) refuse a file or a section that is not there."""
    import markdown

    settings = snippets_settings()
    assert settings["check_paths"] is True
    md = markdown.Markdown(extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": settings})
    cwd = Path.cwd()
    os.chdir(ROOT)  # base_path "." is the repository's root, as for `mkdocs build`
    try:
        assert "TaskCreate" in md.convert('--8<-- "lessons/part1/app/models.py:task-create"')
        with pytest.raises(Exception, match="no-such-section"):
            md.reset().convert('--8<-- "lessons/part1/app/models.py:no-such-section"')
        with pytest.raises(Exception, match=r"nowhere\.py"):
            md.reset().convert('--8<-- "lessons/part1/app/nowhere.py"')
    finally:
        os.chdir(cwd)


def test_every_challenge_has_a_page_in_the_nav() -> None:
    from mkdocs.utils.yaml import yaml_load

    def pages(item: Any) -> Iterator[str]:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from pages(value)
        else:
            for value in item:
                yield from pages(value)

    listed = set(pages(yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]))
    challenges = {
        f"{readme.parts[-4]}/challenges/{readme.parent.name}.md"
        for readme in ROOT.glob("lessons/part*/challenges/*/README.md")
    }
    assert len(challenges) >= 12
    assert sorted(challenges - listed) == [], "add these challenge pages to `nav` in mkdocs.yml"


def workbook_commands() -> dict[str, set[str]]:
    """Every `workbook` command ("workbook export gradescope" for a group's), with the options it takes."""
    import typer

    from workbook.cli import app

    hook = load_module(DOCS / "hooks" / "book.py", "book_hook")
    return {
        name: {opt for param in command.params if param.param_type_name == "option" for opt in [*param.opts, *param.secondary_opts]}
        | {"--help", "-h"}
        for name, command in hook.cli_commands(typer.main.get_command(app))
    }


def test_every_workbook_command_the_book_mentions_exists() -> None:
    commands = workbook_commands()
    groups = {name.rsplit(" ", 1)[0] for name in commands if name.count(" ") > 1}
    unknown = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"(?:uv run |`)(workbook [a-z][-a-z]*)((?: [a-z][-a-z]*)?)([^`\n#]*)", text):
            name, sub, rest = match.groups()
            if name in groups and sub:
                name += sub
            else:
                rest = sub + rest
            if name not in commands:
                unknown.append(f"{page.relative_to(DOCS)}: {name}")
                continue
            for option in re.findall(r"(?<![\w-])(--?[a-z][-a-z]*)", rest):
                if option not in commands[name]:
                    unknown.append(f"{page.relative_to(DOCS)}: {name} {option}")
    assert unknown == []


# ---- the built site ------------------------------------------------------------------------


class Assets(html.parser.HTMLParser):
    """The scripts, stylesheets, fonts and inline styles a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        src, href = values.get("src"), values.get("href")
        if tag == "script" and src:
            self.urls.append(src)
        elif tag == "link" and href:
            rel = (values.get("rel") or "").lower()
            if any(kind in rel for kind in ("stylesheet", "preload", "modulepreload", "preconnect", "icon")):
                self.urls.append(href)
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


CSS_REMOTE = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])(https?:)?//""", re.I)


def remote_assets(html_text: str, css_texts: tuple[str, ...] | list[str] = ()) -> list[str]:
    parser = Assets()
    parser.feed(html_text)
    found = [url for url in parser.urls if re.match(r"(https?:)?//", url)]
    found += [match.group(0) for css in [*parser.styles, *css_texts] for match in CSS_REMOTE.finditer(css)]
    return found


def test_the_check_for_remote_assets_finds_them() -> None:
    page = (
        '<link rel="stylesheet" href="https://fonts.example/css"><script src="//cdn.example/x.js"></script>'
        '<script src="assets/local.js"></script><a href="https://example.org/">a link is fine</a>'
        "<style>@font-face { src: url(https://fonts.example/a.woff2) }</style>"
    )
    assert len(remote_assets(page)) == 3
    assert remote_assets("<p>x</p>", ["@import 'https://fonts.example/css';"]) != []


def test_the_built_site_loads_nothing_from_the_network(site: Path) -> None:
    css = [path.read_text(encoding="utf-8", errors="replace") for path in site.rglob("*.css")]
    offenders = {
        str(page.relative_to(site)): found
        for page in site.rglob("*.html")
        if (found := remote_assets(page.read_text(encoding="utf-8")))
    }
    assert remote_assets("", css) == []
    assert offenders == {}
    assert (site / "javascripts" / "mermaid.min.js").stat().st_size > 100_000


def test_the_cli_reference_lists_every_command(site: Path) -> None:
    page = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for name, options in workbook_commands().items():
        anchor = name.replace(" ", "-")
        assert f'id="{anchor}"' in page, f"the CLI reference has no section for `{name}`"
        for option in options - {"-h", "--help"}:
            assert f"<code>{option}</code>" in page, f"the CLI reference does not show `{name} {option}`"


def test_the_diff_pages_show_what_each_part_changed(site: Path) -> None:
    page = (site / "part4" / "changes" / "index.html").read_text(encoding="utf-8")
    assert "app/live.py" in page and "new file" in page
    assert '<span class="gi">+' in page  # highlighted as a diff: added lines are marked
    assert "BackgroundTasks" in page  # a line part 4 added to app/routers/tasks.py
    assert "--8&lt;--" not in page, "the book's snippet markers are not part of the code"


def test_each_challenge_page_shows_its_readme_with_collapsed_hints(site: Path) -> None:
    readme = ROOT / "lessons" / "part1" / "challenges" / "search" / "README.md"
    page = (site / "part1" / "challenges" / "search" / "index.html").read_text(encoding="utf-8")
    title = readme.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    assert title in page
    hints = readme.read_text(encoding="utf-8").count("<summary>")
    assert page.count('<details class="tip">') == hints > 0
    listing = (site / "part1" / "challenges" / "index.html").read_text(encoding="utf-8")
    assert 'href="search/"' in listing


def test_notebooks_are_committed_without_outputs() -> None:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert [path.name for path in paths] == ["part1.ipynb", "part2.ipynb", "part3.ipynb", "part4.ipynb"]
    for path in paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        assert code, f"{path.name} has no code"
        assert all(not cell["outputs"] and cell["execution_count"] is None for cell in code), (
            f"{path.name} is committed with outputs: clear them (Kernel > Restart and clear outputs)"
        )


@pytest.mark.parametrize("part", [1, 2, 3, 4])
def test_each_notebook_page_shows_it_executed_without_errors(site: Path, part: int) -> None:
    page = (site / f"part{part}" / "notebook" / "index.html").read_text(encoding="utf-8")
    assert page.count("jp-OutputArea-output") >= 3, "the notebook page shows (almost) no outputs"
    assert "Traceback" not in page and "jp-OutputArea-error" not in page
    if part == 4:
        assert re.search(r'<img[^>]+src="data:image/png;base64,', page), "part 4's notebook shows no plot"


def test_a_notebook_cell_that_raises_stops_the_build(tmp_path: Path) -> None:
    import nbformat
    from mkdocs.exceptions import PluginError

    hook = load_module(DOCS / "hooks" / "book.py", "book_hook")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(PluginError, match=r"broken\.ipynb(.|\n)*ZeroDivisionError"):
        hook.execute_notebooks([path], use_cache=False)


# Builds one page only, with the book's Markdown settings (inherited from mkdocs.yml).
ONE_PAGE_CONFIG = """\
INHERIT: mkdocs.yml
strict: false
hooks: []
plugins: []
extra_javascript: []
watch: []
nav:
  - part1/index.md
"""


def test_changing_a_quoted_line_changes_the_page(tmp_path: Path, site: Path) -> None:
    """The page shows the lesson file as it is at build time: edit a line, rebuild, see it."""
    copy = tmp_path / "repo"
    skip = shutil.ignore_patterns("__pycache__", "*.db", "*.log", ".coverage*")
    shutil.copytree(ROOT / "lessons" / "part1", copy / "lessons" / "part1", ignore=skip)
    (copy / "docs" / "part1").mkdir(parents=True)
    shutil.copy(DOCS / "part1" / "index.md", copy / "docs" / "part1")
    shutil.copy(ROOT / "mkdocs.yml", copy)
    (copy / "one-page.yml").write_text(ONE_PAGE_CONFIG, encoding="utf-8")
    router = copy / "lessons" / "part1" / "app" / "routers" / "tasks.py"
    original = "    return store.add(task_in)\n"
    assert router.read_text(encoding="utf-8").count(original) == 1
    router.write_text(router.read_text(encoding="utf-8").replace(original, "    return store.add(task_in)  # edited by a test\n"))

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", "one-page.yml", "-d", str(tmp_path / "site")],
        cwd=copy, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip

    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    edited = (tmp_path / "site" / "part1" / "index.html").read_text(encoding="utf-8")
    assert "# edited by a test" in edited
    assert "# edited by a test" not in (site / "part1" / "index.html").read_text(encoding="utf-8")


# ---- in a real browser, with no network ------------------------------------------------------


def chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served_site(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def shadow_svg_text(node: dict[str, Any]) -> list[str]:
    """The text of every <svg> anywhere below `node` of a CDP DOM tree, shadow roots included."""
    found = []
    children = [*node.get("children", []), *node.get("shadowRoots", [])]
    if node.get("nodeName", "").lower() == "svg":
        found.append(" ".join(collect_text(node)))
    for child in children:
        found += shadow_svg_text(child)
    return found


def collect_text(node: dict[str, Any]) -> list[str]:
    if node.get("nodeType") == 3:
        return [node.get("nodeValue", "")]
    return [text for child in [*node.get("children", []), *node.get("shadowRoots", [])] for text in collect_text(child)]


def test_the_book_works_in_a_browser_with_no_network(served_site: str) -> None:
    """Mermaid draws its diagram, tabs switch, admonitions show and the plot appears,
    with every request outside this machine refused."""
    executable = chromium()
    if executable is None:
        message = "no Chromium found: apt-get install chromium, or set CHROMIUM_PATH"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import Route, sync_playwright

    refused: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlparse(route.request.url).hostname in {"127.0.0.1", "localhost"} or route.request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=args)
        try:
            context = browser.new_context()
            context.route("**/*", only_this_machine)
            page = context.new_page()

            page.goto(f"{served_site}/part4/under-the-hood/")
            page.wait_for_selector("div.mermaid", state="attached", timeout=20_000)
            # Material draws the diagram in a closed shadow root: read it through the DevTools protocol.
            cdp = context.new_cdp_session(page)
            tree = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
            diagrams = shadow_svg_text(tree)
            assert any("BackgroundTasks" in text and "Client" in text for text in diagrams), diagrams[:3]
            assert page.locator(".admonition.warning").first.is_visible()

            page.goto(f"{served_site}/part1/")
            tabs = page.locator(".tabbed-set").first
            tabs.locator("label").nth(1).click()
            assert "class TaskUpdate" in tabs.locator(".tabbed-block").nth(1).inner_text()
            assert tabs.locator(".tabbed-block").nth(1).is_visible()
            assert not tabs.locator(".tabbed-block").nth(0).is_visible()

            page.goto(f"{served_site}/part4/notebook/")
            plot = page.locator('img[src^="data:image/png"]').first
            plot.wait_for(timeout=10_000)
            assert plot.evaluate("image => image.complete && image.naturalWidth > 100")
        finally:
            browser.close()
    assert refused == [], f"the book tried to reach the network: {refused}"


# ---- what the pages say about BackgroundTasks, run ---------------------------------------------


# --8<-- [start:failing-task]
def test_a_failing_background_task_stops_the_tasks_after_it() -> None:
    example = load_example("background_rules")
    client = TestClient(example.app, raise_server_exceptions=False)

    response = client.post("/chain")

    assert response.status_code == 200  # the answer had gone before the tasks ran
    assert example.ran == ["first"]  # "third" never ran
    with pytest.raises(RuntimeError, match="mail server"):
        TestClient(example.app).post("/chain")  # by default TestClient raises it
# --8<-- [end:failing-task]


# --8<-- [start:refused-request]
def test_tasks_added_before_an_exception_never_run() -> None:
    example = load_example("background_rules")
    client = TestClient(example.app)

    response = client.post("/refuse")

    assert response.status_code == 409
    assert example.ran == []
# --8<-- [end:refused-request]


# --8<-- [start:kinds]
def test_sync_tasks_run_on_a_worker_thread_and_async_ones_on_the_loop() -> None:
    example = load_example("background_rules")

    loop_thread = TestClient(example.app).post("/kinds").json()["endpoint_thread"]

    assert len(example.ran) == 2
    assert example.ran[0].startswith("sync on ") and example.ran[0] != f"sync on {loop_thread}"
    assert example.ran[1] == f"async on {loop_thread}"
# --8<-- [end:kinds]


# --8<-- [start:patch-versus-override]
def test_patch_cannot_replace_a_dependency_but_an_override_can() -> None:
    example = load_example("override_rules")
    client = TestClient(example.app)

    with mock.patch.object(example, "get_greeting", return_value="patched"):
        assert client.get("/greet").json() == {"greeting": "hello from the real dependency"}

    example.app.dependency_overrides[example.get_greeting] = lambda: "overridden"
    assert client.get("/greet").json() == {"greeting": "overridden"}
# --8<-- [end:patch-versus-override]
