"""A student's working copy of a part, and what the workbook remembers about it.

`workbook init part2` makes `work/part2/`: the lesson's code, conftest, tests
and challenges, for the student to change while `lessons/` stays as the
workbook shipped it. (`--from-previous` starts from part 1's code instead, to
build part 2 yourself.) A student may also work in `lessons/partN` directly;
`check` then grades it with the pristine tests from the manifest.

Each copy keeps its state in `.workbook/state.json` (ignored by git): the hints
already shown and the scores of the last checks. Backups made by `reset` go
to `.workbook/backups/`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbook import manifest, patches
from workbook.catalog import Part, get_part

WORK = "work"
STATE_DIR = ".workbook"
STATE_FILE = "state.json"
# Never copied into a working copy: caches and the data a running app writes.
LEFT_OUT = ("__pycache__", ".pytest_cache", ".workbook", "*.db", "*.db-journal", "notifications.log", ".coverage", "htmlcov")


class WorkCopyError(Exception):
    """A working copy cannot be made or reset; the message says why and what to do."""


def default_copy(part: Part) -> Path:
    """The copy `check partN` grades when given none: work/partN once made, else the lesson."""
    work = part.root / WORK / part.name
    return work if (work / "app").is_dir() else part.folder


def shown(folder: Path, root: Path) -> str:
    """A folder as a student would type it: relative to the workbook when inside it."""
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder)


# --- state -----------------------------------------------------------------


def state_path(folder: Path) -> Path:
    return folder / STATE_DIR / STATE_FILE


def load_state(folder: Path) -> dict[str, Any]:
    path = state_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(folder: Path, state: dict[str, Any]) -> None:
    path = state_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


@dataclass
class GroupScore:
    earned: float
    possible: float
    next: str = ""  # the sentence of the first test that does not pass yet

    @property
    def complete(self) -> bool:
        return self.possible > 0 and self.earned >= self.possible


def record_check(folder: Path, part: str, scores: dict[str, GroupScore]) -> None:
    """Remember the scores of a check; groups not checked this time keep their last score."""
    state = load_state(folder)
    checks = state.setdefault("checks", {}).setdefault(part, {})
    for group, score in scores.items():
        checks[group] = {"earned": score.earned, "possible": score.possible, "next": score.next, "at": round(time.time())}
    save_state(folder, state)


def last_scores(folder: Path, part: str) -> dict[str, GroupScore]:
    checks = load_state(folder).get("checks", {}).get(part, {})
    return {
        group: GroupScore(float(data.get("earned", 0)), float(data.get("possible", 0)), str(data.get("next", "")))
        for group, data in checks.items()
        if isinstance(data, dict)
    }


def hints_seen(folder: Path, part: str, slug: str) -> int:
    return int(load_state(folder).get("hints", {}).get(f"{part}/{slug}", 0))


def set_hints_seen(folder: Path, part: str, slug: str, count: int) -> None:
    state = load_state(folder)
    state.setdefault("hints", {})[f"{part}/{slug}"] = count
    save_state(folder, state)


# --- making and resetting copies ---------------------------------------------


def made_from(folder: Path, part: Part) -> int:
    """The number of the part whose app/ this copy started from (part N-1 with --from-previous)."""
    return int(load_state(folder).get("made_from", part.number))


def init(part: Part, target: Path, from_previous: bool = False) -> Path:
    """Make a working copy of `part` in `target`; with `from_previous`, part N-1's app/."""
    source_app = part.folder / "app"
    start = part.number
    if from_previous:
        previous = part.previous()
        if previous is None:
            raise WorkCopyError(f"{part.name} is the first part: there is no earlier code to start from.")
        source_app, start = previous.folder / "app", previous.number
    if target.exists() and any(target.iterdir()):
        raise WorkCopyError(
            f"{target} already exists and is not empty. Check it with `uv run workbook check {part.name}`, "
            f"or give another folder: `uv run workbook init {part.name} FOLDER`."
        )
    ignore = shutil.ignore_patterns(*LEFT_OUT)
    shutil.copytree(part.folder, target, ignore=ignore, dirs_exist_ok=True)
    if from_previous:
        shutil.rmtree(target / "app")
        shutil.copytree(source_app, target / "app", ignore=ignore)
    for relative in manifest.expected(part):  # the tests as the workbook shipped them
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(manifest.pristine_bytes(part, relative))
    save_state(target, {"part": part.name, "made_from": start})
    return target


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder.parent).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@dataclass
class ResetPlan:
    restore: dict[str, bytes]  # relative path -> the workbook's bytes
    remove: list[str]  # files the lesson does not have

    @property
    def empty(self) -> bool:
        return not self.restore and not self.remove


class Shipped:
    """The files of a part as the workbook shipped them, for one working copy.

    Graded files come from the manifest. The app comes from the lesson the copy
    started from, or from git's last commit when the copy is lessons/partN itself."""

    def __init__(self, part: Part, folder: Path) -> None:
        self.part = part
        self.in_place = folder.resolve() == part.folder.resolve()
        self.start = part if self.in_place else get_part(part.root, str(made_from(folder, part)))
        if self.in_place:
            listed = manifest.git(part.root, "ls-tree", "-r", "--name-only", "HEAD", "--", f"lessons/{part.name}/app")
            if listed is None or listed.returncode != 0 or not listed.stdout.strip():
                raise WorkCopyError(
                    f"lessons/{part.name} is the workbook's own copy and cannot be restored without git. "
                    f"Next time, work in a copy of your own: `uv run workbook init {part.name}`."
                )
            prefix = f"lessons/{part.name}/"
            self.app = {line.removeprefix(prefix) for line in listed.stdout.decode().splitlines()}
        else:
            self.app = files_under(self.start.folder / "app")

    def read(self, relative: str) -> bytes | None:
        """The shipped bytes of one file, or None when the workbook has no such file."""
        if relative in manifest.expected(self.part):
            return manifest.pristine_bytes(self.part, relative)
        if relative.startswith("app/") and relative not in self.app:
            return None
        if self.in_place:
            shown_file = manifest.git(self.part.root, "cat-file", "blob", f"HEAD:lessons/{self.part.name}/{relative}")
            return shown_file.stdout if shown_file is not None and shown_file.returncode == 0 else None
        path = (self.start if relative.startswith("app/") else self.part).folder / relative
        return path.read_bytes() if path.is_file() else None


def plan_reset(part: Part, folder: Path, challenge: str | None = None) -> ResetPlan:
    """What `reset` would change: only the files that differ from the workbook's copy.

    The whole copy: app/ and every graded file. One challenge: its tests, and the
    files its reference solution changes (so also other work in those files)."""
    shipped = Shipped(part, folder)
    if challenge is None:
        candidates = files_under(folder / "app") | shipped.app | set(manifest.expected(part))
    else:
        solution = part.challenge(challenge).solution
        changed = set(patches.touched_files(solution.read_text(encoding="utf-8"))) if solution.is_file() else set()
        candidates = changed | {r for r in manifest.expected(part) if r.startswith(f"challenges/{challenge}/")}
    plan = ResetPlan({}, [])
    for relative in sorted(candidates):
        wanted = shipped.read(relative)
        path = folder / relative
        if wanted is None:
            if path.is_file():
                plan.remove.append(relative)
        elif not path.is_file() or path.read_bytes() != wanted:
            plan.restore[relative] = wanted
    return plan


def apply_reset(folder: Path, plan: ResetPlan) -> Path:
    """Back up every file the plan touches, then apply it. Returns the backup folder."""
    backup = folder / STATE_DIR / "backups" / time.strftime("%Y%m%d-%H%M%S")
    suffix = 1
    while backup.exists():
        backup = backup.with_name(f"{backup.name.split('.')[0]}.{suffix}")
        suffix += 1
    for relative in [*plan.restore, *plan.remove]:
        path = folder / relative
        if path.is_file():
            (backup / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, backup / relative)
    for relative, data in plan.restore.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    for relative in plan.remove:
        (folder / relative).unlink()
    return backup
