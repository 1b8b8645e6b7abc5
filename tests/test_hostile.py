"""The hostile corpus: submissions that crash, hang, flood, escape or forge, graded as one class.

Each must end in a complete scorecard within its watchdog, score no more than
its code honestly earns, and leave nothing behind: no process, no file outside
its scratch folder, no secret of the grader's in what it reports."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

import hostile
from conftest import make_tiny_workbook
from workbook import batch, sandbox
from workbook.catalog import Part, get_part
from workbook.grader import grade
from workbook.results import Scorecard

WATCHDOG = 20
PER_TEST = 3
NAMES = [entry.name for entry in hostile.corpus({})]
SECRET_NAME = "WORKBOOK_HOSTILE_TEST_SECRET"


def isolation() -> str:
    probe = Path(__import__("tempfile").mkdtemp(prefix="workbook-probe-"))
    try:
        (probe / "submission").mkdir()
        return sandbox.run(["-c", "pass"], probe, 30).isolation
    finally:
        sandbox.remove(probe)


def processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                continue
    return found


class Graded:
    """The corpus, graded once for the session (see hostile.once)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.cards = {name: Scorecard.from_dict(card) for name, card in data["cards"].items()}
        self.targets = {name: Path(path) for name, path in data["targets"].items()}
        self.seconds, self.secret, self.mode = data["seconds"], data["secret"], data["mode"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return Graded(hostile.once(tmp_path_factory.getbasetemp(), "hostile", lambda: grade_the_corpus(tmp_path_factory)))


def grade_the_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    mode = isolation()
    base = tmp_path_factory.mktemp("hostile")
    part = get_part(make_tiny_workbook(base / "workbook"), "part1")
    folder = base / "submissions"
    folder.mkdir()
    targets = {"workbook tests": part.folder / "tests", "submissions": folder, "site": Path(shutil.__file__).parent}
    for entry in hostile.corpus(targets):
        if entry.name == "peek-and-kill" and mode not in ("root", "user"):
            continue  # without a PID namespace, kill(-1) would reach the test run itself
        copy = folder / entry.name
        shutil.copytree(part.folder, copy, ignore=shutil.ignore_patterns("tests", "challenges", "conftest.py"))
        entry.build(copy)
    hostile.zipped(part.folder, folder / "zipped.zip")
    hostile.unsafe_zip(folder / "unsafe.zip")
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    secret = secrets.token_hex(16)
    os.environ[SECRET_NAME] = secret
    try:
        started = time.monotonic()
        run = batch.Batch(part, base / "out", jobs=2, per_test_timeout=PER_TEST, watchdog=WATCHDOG, hide=[folder])
        cards = dict(run.run(batch.find_submissions(folder)))
        seconds = time.monotonic() - started
    finally:
        del os.environ[SECRET_NAME]
    return {"cards": {name: card.as_dict() for name, card in cards.items()}, "seconds": seconds,
            "targets": {name: str(path) for name, path in targets.items()}, "secret": secret, "mode": mode}  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_each_submission_gets_a_complete_honest_scorecard_in_time(graded: Graded, name: str) -> None:
    if name not in graded.cards:
        pytest.skip(f"not safe to run without a PID namespace (sandbox: {graded.mode})")
    entry = {e.name: e for e in hostile.corpus({})}[name]
    card = graded.cards[name]
    assert {r.name for r in card.results} == {"test_health", "test_missing_route_is_404", "test_echo"}
    assert all(r.reason for r in card.results if r.status != "passed"), card.results
    assert card.earned <= entry.honest, (card.earned, [(r.name, r.status, r.reason) for r in card.results])
    assert bool(card.problem) == entry.problem, card.problem
    assert card.seconds <= WATCHDOG + 10


def test_the_forgers_are_flagged_for_the_instructor(graded: Graded) -> None:
    for name in ("plugin-from-app-init", "plugin-in-a-route", "fake-result-lines", "pytest-and-client-monkeypatch"):
        assert graded.cards[name].flags, name


def test_no_process_is_left_behind(graded: Graded) -> None:
    assert processes_with(hostile.MARKER) == []


def test_nothing_was_written_outside_the_scratch_folder(graded: Graded) -> None:
    if graded.mode not in ("root", "user"):
        pytest.skip(f"the sandbox here has no private mounts ({graded.mode})")
    leaked = [p for place in [*graded.targets.values(), Path("/tmp"), Path.home()] if place.is_dir()
              for p in place.glob(f"{hostile.MARKER}*")]  # fmt: skip
    leaked += list(Path("/tmp").glob("huge-*.bin"))
    assert leaked == []


def test_the_graders_environment_does_not_leak(graded: Graded) -> None:
    if graded.mode not in ("root", "user"):
        pytest.skip(f"the sandbox here does not hide the grader's processes ({graded.mode})")
    for card in graded.cards.values():
        assert graded.secret not in card.to_json()


def test_zips_are_unwrapped_refused_or_explained(graded: Graded) -> None:
    assert graded.cards["zipped"].groups() == {"lesson": (5.0, 5.0), "echo": (0.0, 4.0)}
    assert graded.cards["unsafe"].problem == "unsafe.zip was refused: it holds an unsafe path (../../escaped.py)."
    assert "broken.zip is not a zip file that can be read" in str(graded.cards["broken"].problem)
    assert graded.cards["unsafe"].earned == graded.cards["broken"].earned == 0


def test_the_impostor_module_is_left_out(graded: Graded) -> None:
    notes = " ".join(graded.cards["impostor-module"].notes)
    assert "httpx.py (it would hide the installed httpx module from the tests)" in notes


def test_nothing_leads_from_the_submission_to_pytest_or_the_signer(tiny_part: Part, tmp_path: Path) -> None:
    # The app searches everything it can reach without frames or the garbage collector (both refused),
    # at import and during a test, for pytest's config, session, items and plugin manager, and for
    # the plugin's signer; its health check answers ok only if it found none.
    copy = tmp_path / "reach"
    shutil.copytree(tiny_part.folder / "app", copy / "app")
    hostile.reach(copy)
    card = grade(tiny_part, copy, challenges=[], per_test_timeout=300, watchdog=600)
    health = next(r for r in card.results if r.name == "test_health")
    assert health.status == "passed", health.reason


def test_the_signer_stays_out_of_reach(graded: Graded) -> None:
    card = graded.cards["steal-the-signer"]
    assert {r.name: r.status for r in card.results}["test_echo"] == "failed"
    assert any("__defaults__ of the workbook plugin" in flag for flag in card.flags)
