"""Where things are: the parts, their challenges, and their solutions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PART_NAME = re.compile(r"^part(\d+)$")


class CatalogError(Exception):
    """A part, challenge or folder that does not exist; the message says what to do."""


def find_root(start: Path | None = None) -> Path:
    """The workbook's top folder: the nearest one holding `lessons/` and `pyproject.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "lessons").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    installed = Path(__file__).resolve().parents[2]
    if (installed / "lessons").is_dir():
        return installed
    raise CatalogError("Could not find the workbook (a folder with lessons/ in it); run this inside it.")


@dataclass(frozen=True)
class Challenge:
    part: Part
    slug: str

    @property
    def folder(self) -> Path:
        return self.part.folder / "challenges" / self.slug

    @property
    def solution(self) -> Path:
        """The reference solution: a patch against the lesson folder."""
        return self.part.root / "solutions" / self.part.name / f"{self.slug}.patch"

    @property
    def title(self) -> str:
        return heading(self.folder / "README.md") or self.slug


@dataclass(frozen=True)
class Part:
    root: Path
    number: int

    @property
    def name(self) -> str:
        return f"part{self.number}"

    @property
    def folder(self) -> Path:
        return self.root / "lessons" / self.name

    @property
    def title(self) -> str:
        return heading(self.folder / "README.md") or self.name

    @property
    def default_port(self) -> int:
        # 8000 is where `mkdocs serve` and `fastapi dev` listen; part N gets 8000 + N.
        return 8000 + self.number

    def challenges(self) -> list[Challenge]:
        folder = self.folder / "challenges"
        if not folder.is_dir():
            return []
        return [
            Challenge(self, path.name)
            for path in sorted(folder.iterdir())
            if path.is_dir() and any(path.glob("test_*.py"))
        ]

    def challenge(self, slug: str) -> Challenge:
        for challenge in self.challenges():
            if challenge.slug == slug:
                return challenge
        known = ", ".join(c.slug for c in self.challenges()) or "none"
        raise CatalogError(f"{self.name} has no challenge {slug!r} (its challenges: {known}).")

    def previous(self) -> Part | None:
        earlier = [part for part in parts(self.root) if part.number < self.number]
        return earlier[-1] if earlier else None


def parts(root: Path) -> list[Part]:
    lessons = root / "lessons"
    found = []
    for path in lessons.iterdir() if lessons.is_dir() else []:
        match = PART_NAME.match(path.name)
        # A part has its app, or (in an autograder built by `workbook export`) only its pristine tests.
        if match and ((path / "app" / "main.py").is_file() or (path / "tests").is_dir()):
            found.append(Part(root, int(match.group(1))))
    return sorted(found, key=lambda part: part.number)


def get_part(root: Path, name: str) -> Part:
    """`part1`, `1` or `Part1` -> that part, or a CatalogError naming the known ones."""
    wanted = name.strip().lower().removeprefix("part")
    for part in parts(root):
        if str(part.number) == wanted:
            return part
    known = ", ".join(part.name for part in parts(root)) or "none"
    raise CatalogError(f"There is no part called {name!r}; the parts are: {known}.")


def heading(readme: Path) -> str | None:
    """The text of a Markdown file's first `# ` heading."""
    if not readme.is_file():
        return None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None
