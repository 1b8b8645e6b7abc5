"""What the book computes while it is built (an MkDocs hook: see `hooks:` in mkdocs.yml).

- Every notebook in notebooks/ is run, each in its own kernel, and the executed
  copy becomes the page `partN/notebook.ipynb` (rendered by mkdocs-jupyter).
  A cell that raises stops the build, with the notebook and the error named.
- `<!-- book:changes partN -->` on a page becomes a unified diff per file that
  changed between lessons/part(N-1) and lessons/partN, made now from the two
  snapshots, so no diff text is ever committed.
- `<!-- book:cli -->` becomes the reference of every `workbook` command, read
  from the Typer app itself, so a new command or option shows up on its own.
- Each challenge gets a page, `partN/challenges/<slug>.md`, that includes its
  README with a snippet (never a copy); `<!-- book:challenges partN -->` lists
  them. The READMEs' `<details><summary>` hints (collapsed on GitHub) become
  collapsed `???` blocks here.

Environment: BOOK_EXECUTE_NOTEBOOKS=0 renders the notebooks as committed, without
running them (for quick builds); BOOK_NOTEBOOK_CACHE=0 runs them even when
nothing they depend on has changed since the last build.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import inspect
import os
import re
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = ROOT / "lessons"
CACHE = Path(tempfile.gettempdir()) / "task-manager-book-notebooks"
CELL_TIMEOUT = 120  # seconds one notebook cell may take

# The book's own marker comments (`# --8<-- [start:name]`) are not part of the code.
SNIPPET_MARKER = re.compile(r"^\s*(#|//)\s*-+8<-+\s*\[\s*(start|end)\s*:[^\]]*\]\s*$")
CHANGES = re.compile(r"<!--\s*book:changes\s+part(\d)\s*-->")
CLI = re.compile(r"<!--\s*book:cli\s*-->")
CHALLENGE_LIST = re.compile(r"<!--\s*book:challenges\s+part(\d)\s*-->")
HINT = re.compile(r"^<details>\s*<summary>(?P<title>.*?)</summary>[ \t]*\n(?P<body>.*?)\n</details>[ \t]*$", re.S | re.M)
SNAPSHOT_FILES = ("app/**/*", "conftest.py", "pytest.ini")

_executed_dir: Path | None = None


def _flag(name: str) -> bool:
    return os.environ.get(name, "1").strip().lower() not in {"0", "false", "no", "off"}


# ---- notebooks --------------------------------------------------------------------------


def _cache_key(notebook: Path) -> str:
    """A digest of the notebook and of every file of the part it explores."""
    digest = hashlib.sha256(notebook.read_bytes())
    digest.update(sys.version.encode())
    part = LESSONS / notebook.stem
    for path in sorted(part.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".db", ".log"}:
            digest.update(path.relative_to(part).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


async def _execute(notebook: Path) -> str:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        # Errors in cells still arrive as outputs; this only quiets the kernel's own start-up notices.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    try:
        await client.async_execute()
    except CellExecutionError as error:
        name = notebook.relative_to(ROOT) if notebook.is_relative_to(ROOT) else notebook
        raise PluginError(f"{name}: a cell raised an error.\n{error}") from None
    return nbformat.writes(nb)


def execute_notebooks(notebooks: list[Path], use_cache: bool = True) -> dict[Path, str]:
    """Run the notebooks, all at once (each has a kernel process of its own),
    and return each one's executed JSON. Raises PluginError if a cell fails."""
    results: dict[Path, str] = {}
    pending = []
    for notebook in notebooks:
        cached = CACHE / f"{_cache_key(notebook)}.ipynb"
        if use_cache and cached.exists():
            results[notebook] = cached.read_text(encoding="utf-8")
        else:
            pending.append(notebook)

    async def run_all() -> list[str]:
        return await asyncio.gather(*(_execute(notebook) for notebook in pending))

    if pending:
        for notebook, executed in zip(pending, asyncio.run(run_all())):
            results[notebook] = executed
            if use_cache:
                CACHE.mkdir(exist_ok=True)
                (CACHE / f"{_cache_key(notebook)}.ipynb").write_text(executed, encoding="utf-8")
    return results


# ---- challenges -------------------------------------------------------------------------


def challenges(number: int) -> list[Path]:
    return sorted(path.parent for path in (LESSONS / f"part{number}" / "challenges").glob("*/README.md"))


def challenge_list_markdown(number: int) -> str:
    items = []
    for folder in challenges(number):
        title = folder.joinpath("README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        items.append(f"- [{title}]({folder.name}.md) (`{folder.name}`)")
    return "\n".join(items) + "\n"


class CollapsedHints(Preprocessor):
    """`<details><summary>Hint 1</summary> ... </details>` becomes `??? tip "Hint 1"`."""

    def run(self, lines: list[str]) -> list[str]:
        def collapse(match: re.Match) -> str:
            title = match["title"].strip().replace('"', "&quot;")
            body = textwrap.indent(textwrap.dedent(match["body"]).strip("\n"), "    ")
            return f'??? tip "{title}"\n\n{body}\n'

        return HINT.sub(collapse, "\n".join(lines)).split("\n")


class CollapsedHintsExtension(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 (Markdown's name)
        # After snippets (32) has put the README in, before superfences (25) reads code blocks.
        md.preprocessors.register(CollapsedHints(md), "book_collapsed_hints", 30)


def on_config(config):
    config["markdown_extensions"].append(CollapsedHintsExtension())
    return config


@event_priority(100)  # before mkdocs-jupyter looks at the files
def on_files(files: Files, config) -> Files:
    global _executed_dir
    for number in range(1, 5):
        for folder in challenges(number):
            readme = folder.joinpath("README.md").relative_to(ROOT).as_posix()
            files.append(
                File.generated(config, f"part{number}/challenges/{folder.name}.md", content=f'--8<-- "{readme}"\n')
            )
    notebooks = sorted(NOTEBOOKS.glob("part*.ipynb"))
    _executed_dir = Path(tempfile.mkdtemp(prefix="book-notebooks-"))
    if _flag("BOOK_EXECUTE_NOTEBOOKS"):
        executed = execute_notebooks(notebooks, use_cache=_flag("BOOK_NOTEBOOK_CACHE"))
    else:
        executed = {notebook: notebook.read_text(encoding="utf-8") for notebook in notebooks}
    for notebook, text in executed.items():
        page = _executed_dir / notebook.stem / "notebook.ipynb"
        page.parent.mkdir(parents=True)
        page.write_text(text, encoding="utf-8")
        files.append(
            File(
                f"{notebook.stem}/notebook.ipynb",
                src_dir=str(_executed_dir),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _clean_up() -> None:
    if _executed_dir is not None:
        shutil.rmtree(_executed_dir, ignore_errors=True)


def on_post_build(config) -> None:
    _clean_up()


def on_build_error(error) -> None:
    _clean_up()


# ---- what changed since the part before -------------------------------------------------


def _snapshot(part: Path) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for pattern in SNAPSHOT_FILES:
        for path in part.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                files[path.relative_to(part).as_posix()] = [line for line in lines if not SNIPPET_MARKER.match(line)]
    return files


def changes_markdown(number: int) -> str:
    """Markdown with one collapsible unified diff per file that differs
    between part number-1 and part number."""
    before, after = _snapshot(LESSONS / f"part{number - 1}"), _snapshot(LESSONS / f"part{number}")
    blocks, unchanged = [], []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name, []), after.get(name, [])
        if old == new:
            unchanged.append(f"`{name}`")
            continue
        diff = list(
            difflib.unified_diff(old, new, f"part{number - 1}/{name}", f"part{number}/{name}", n=3)
        )
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        if not old:
            summary = f"new file, {len(new)} lines"
        elif not new:
            summary = f"removed, it had {len(old)} lines"
        else:
            summary = f"+{added} −{removed}"
        body = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
        body = "".join(f"    {line}" for line in body.splitlines(keepends=True))
        blocks.append(f'??? abstract "`{name}`: {summary}"\n\n    ````diff\n{body}    ````\n')
    text = "\n".join(blocks) if blocks else "Nothing changed.\n"
    if unchanged:
        text += "\nUnchanged: " + ", ".join(unchanged) + ".\n"
    return text


# ---- the CLI reference ------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def cli_commands(group, prefix: str = "workbook"):
    """(full name, command) for every command of the CLI, subcommands of groups included."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from cli_commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def cli_markdown() -> str:
    """Markdown describing every command of the `workbook` CLI and its parameters."""
    import typer

    from workbook.cli import app

    group = typer.main.get_command(app)
    parts = [inspect.cleandoc(group.help or ""), ""]
    for name, command in cli_commands(group):
        arguments = [param for param in command.params if param.param_type_name == "argument"]
        usage = [name, "[OPTIONS]"]
        for argument in arguments:
            shown = argument.name.upper() + ("..." if argument.nargs == -1 else "")
            usage.append(shown if argument.required else f"[{shown}]")
        parts += [f"## `{name}`", "", inspect.cleandoc(command.help or ""), "", f"`{' '.join(usage)}`", ""]
        rows = []
        for param in command.params:
            if param in arguments:
                label = f"`{param.name.upper()}`"
                kind = "argument" + ("" if param.required else ", optional")
            else:
                label = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
                kind = "flag" if param.is_flag else "option"
                if param.multiple:
                    kind += ", repeatable"
                if param.default not in (None, False, ()) and not param.is_flag:
                    kind += f", default `{param.default}`"
            rows.append(f"| {label} | {kind} | {_cell(getattr(param, 'help', None) or '')} |")
        rows.append("| `-h`, `--help` | flag | Show the command's help and exit. |")
        parts += ["| parameter | kind | what it does |", "|---|---|---|", *rows, ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = CHANGES.sub(lambda match: changes_markdown(int(match.group(1))), markdown)
    markdown = CHALLENGE_LIST.sub(lambda match: challenge_list_markdown(int(match.group(1))), markdown)
    if CLI.search(markdown):
        markdown = CLI.sub(lambda match: cli_markdown(), markdown)
    return markdown
