"""The hints of a challenge, read from its brief: one `<details>` block each, gentlest first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DETAILS = re.compile(r"<details>\s*<summary>(?P<title>.*?)</summary>(?P<body>.*?)</details>", re.S)


@dataclass(frozen=True)
class Hint:
    title: str
    body: str  # Markdown


def read_hints(readme: Path) -> list[Hint]:
    """The hints in the brief's "## Hints" section, in order."""
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    section = text.split("\n## Hints", 1)[1] if "\n## Hints" in text else ""
    section = section.split("\n## ", 1)[0]
    return [Hint(m["title"].strip(), m["body"].strip()) for m in DETAILS.finditer(section)]
