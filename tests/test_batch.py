"""`workbook grade-all`: a class graded in parallel, into a gradebook, again only where needed."""

from __future__ import annotations

import csv
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hostile
from conftest import ECHO_MAIN
from workbook import batch, formats, grader, sandbox
from workbook.catalog import Part
from workbook.cli import app
from workbook.results import Scorecard

runner = CliRunner()


@pytest.fixture
def submissions(tiny_part: Part, tiny_workbook: Path, tmp_path: Path) -> Path:
    """A class of three: the lesson as it is, one with its health check broken, one zipped with the solution."""
    folder = tmp_path / "class"
    shutil.copytree(tiny_part.folder / "app", folder / "ada" / "app")
    shutil.copytree(tiny_part.folder / "app", folder / "bob" / "app")
    main = folder / "bob" / "app" / "main.py"
    main.write_text(main.read_text().replace('{"status": "ok"}', '{"status": "no"}'))
    solved = tmp_path / "cy"
    shutil.copytree(tiny_part.folder / "app", solved / "app")
    (solved / "app" / "main.py").write_text(ECHO_MAIN)
    hostile.zipped(solved, folder / "cy.zip")
    return folder


def scorecard_times(out: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime for p in out.glob("*/scorecard.json")}


def test_grade_all_writes_every_scorecard_a_gradebook_and_a_summary(
    tiny_workbook: Path, tiny_part: Part, submissions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny_workbook)
    out = tmp_path / "out"
    result = runner.invoke(app, ["grade-all", "part1", str(submissions), "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("ada", "bob", "cy"):
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(formats.FILE_FORMATS.values())
    rows = {row["submission"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert {name: rows[name]["score"] for name in rows} == {"ada": "5", "bob": "3", "cy": "9"}
    assert rows["cy"]["echo"] == "4" and rows["bob"]["tests/test_basic.py::test_health"] == "0"
    summary = (out / "summary.md").read_text()
    assert "- median: 5/9 points" in summary and "- submissions: 3" in summary
    assert "Graded 3 submissions (0 up to date" in " ".join(result.output.split())

    # Again: nothing changed, nothing is graded again.
    before = scorecard_times(out)
    time.sleep(0.05)
    again = runner.invoke(app, ["grade-all", "part1", str(submissions), "--out", str(out)])
    assert again.exit_code == 0 and "(3 up to date" in " ".join(again.output.split())
    assert scorecard_times(out) == before

    # A changed submission is graded again, and only that one.
    main = submissions / "bob" / "app" / "main.py"
    main.write_text(main.read_text().replace('{"status": "no"}', '{"status": "ok"}'))
    future = time.time() + 5
    os.utime(main, (future, future))
    runner.invoke(app, ["grade-all", "part1", str(submissions), "--out", str(out)])
    after = scorecard_times(out)
    assert after["ada"] == before["ada"] and after["cy"] == before["cy"] and after["bob"] != before["bob"]
    assert Scorecard.read_json(out / "bob" / "scorecard.json").earned == 5

    # --force: an up-to-date scorecard is not taken again.
    ada = next(s for s in batch.find_submissions(submissions) if s.name == "ada")
    assert batch.Batch(tiny_part, out).previous(ada) is not None
    assert batch.Batch(tiny_part, out, force=True).previous(ada) is None


def test_an_interrupted_batch_keeps_what_finished(tiny_part: Part, submissions: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = batch.Batch(tiny_part, out, jobs=1)
    finished: list[str] = []

    def stop_after_the_first(submission: batch.Submission, card: Scorecard, reused: bool) -> None:
        finished.append(submission.name)
        raise KeyboardInterrupt  # as Ctrl-C arrives in the main thread

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run.run(batch.find_submissions(submissions), on_done=stop_after_the_first)
    assert time.monotonic() - started < 60
    assert finished == ["ada"]
    assert (out / "ada" / "scorecard.json").is_file()
    assert not (out / "cy").exists()
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [row["submission"] for row in rows] == ["ada"]
    assert run.stop.is_set()


def test_a_stop_ends_a_running_submission_quickly(tiny_part: Part, tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    shutil.copytree(tiny_part.folder / "app", slow / "app")
    hostile.in_health(slow, "import time\ntime.sleep(120)")
    stop = threading.Event()
    threading.Timer(3, stop.set).start()
    started = time.monotonic()
    from workbook.grader import grade

    card = grade(tiny_part, slow, per_test_timeout=100, watchdog=200, stop=stop)
    assert time.monotonic() - started < 30
    assert card.earned == 0 or all(r.status != "passed" for r in card.results if r.name == "test_health")


def test_grade_all_refuses_what_is_not_a_class(tiny_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_workbook)
    assert runner.invoke(app, ["grade-all", "part1", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]).exit_code == 2
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["grade-all", "part1", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "holds no submissions" in result.output


@pytest.mark.parametrize("command", [["grade-all"], ["export"], ["export", "gradescope"], ["export", "classroom"]])
def test_the_grading_commands_have_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_each_job_grades_on_cores_of_its_own(tiny_part: Part, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 2 jobs, the gradings that run at the same time are given shares of the cores that do not overlap."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs 2 cores")
    folder = tmp_path / "class"
    for name in ("ada", "bob", "cy", "dee", "eve"):
        shutil.copytree(tiny_part.folder / "app", folder / name / "app")
    lock = threading.Lock()
    running: dict[str, list[int] | None] = {}
    overlaps: list[tuple[list[int] | None, list[int] | None]] = []
    given: dict[str, list[int] | None] = {}

    def fake_grade(part: Part, submission: Path, cpus: list[int] | None = None, **options: object) -> Scorecard:
        with lock:
            overlaps.extend((cpus, other) for other in running.values())
            running[submission.name] = cpus
            given[submission.name] = cpus
        time.sleep(0.3)
        with lock:
            del running[submission.name]
        return Scorecard(part.name, str(submission), [])

    monkeypatch.setattr(grader, "grade", fake_grade)
    batch.Batch(tiny_part, tmp_path / "out", jobs=2).run(batch.find_submissions(folder))
    assert sorted(given) == ["ada", "bob", "cy", "dee", "eve"]
    assert overlaps, "the two jobs never ran at the same time"
    for mine, other in overlaps:
        assert mine and other and not set(mine) & set(other), (mine, other)
    assert all(set(share or []) <= set(cores) for share in given.values())

    given.clear()
    batch.Batch(tiny_part, tmp_path / "out1", jobs=1).run(batch.find_submissions(folder))
    assert len(given) == 5 and all(share is None for share in given.values()), "one job may use every core"


def test_cores_are_shared_out_only_when_there_are_enough() -> None:
    cores = sorted(os.sched_getaffinity(0))
    assert batch.core_shares(1) is None
    assert batch.core_shares(len(cores) + 1) is None
    if len(cores) >= 2:
        shares = batch.core_shares(2)
        assert shares is not None and len(shares) == 2
        assert sorted(shares[0] + shares[1]) == cores


def test_a_run_given_cores_stays_on_them(tmp_path: Path) -> None:
    """The sandbox's launcher puts the run (and so all it starts) on the cores it is given."""
    core = sorted(os.sched_getaffinity(0))[-1]
    (tmp_path / "submission").mkdir()
    script = (
        "import os, subprocess, sys; print('mine', sorted(os.sched_getaffinity(0))); "
        "subprocess.run([sys.executable, '-c', 'import os; print(\"child\", sorted(os.sched_getaffinity(0)))'])"
    )
    result = sandbox.run(["-c", script], tmp_path, 30, cpus=[core])
    assert f"mine [{core}]" in result.output and f"child [{core}]" in result.output, result.output
