"""`workbook export`: a Gradescope autograder and a GitHub Classroom workflow that really grade.

The Gradescope zip is unpacked into an /autograder-shaped folder and its
run_autograder is run; the Classroom workflow's grading step is run as the
workflow runs it. setup.sh and the workflow's install step need the network,
so a test stands in for them with this workbook's own environment."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from test_formats import check_gradescope
from workbook.catalog import Part
from workbook.cli import app

runner = CliRunner()


def broken_health(tiny_part: Part, target: Path) -> Path:
    import shutil

    shutil.copytree(tiny_part.folder / "app", target / "app")
    main = target / "app" / "main.py"
    main.write_text(main.read_text().replace('{"status": "ok"}', '{"status": "no"}'))
    return target


def test_the_gradescope_autograder_grades_a_submission(tiny_workbook: Path, tiny_part: Part, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tiny_workbook)
    result = runner.invoke(app, ["export", "gradescope", "part1", "--out", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    archive = tmp_path / "export" / "autograder-part1.zip"
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in zipped.infolist()}
        autograder = tmp_path / "autograder"
        zipped.extractall(autograder / "source")
    assert {"setup.sh", "run_autograder", "manifest.sha256"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "workbook/lessons/part1/tests/test_basic.py" in names and "workbook/src/workbook/grader.py" in names
    assert not any(name.startswith("workbook/lessons/part1/app/") for name in names)  # no reference app
    assert not any(name.startswith("workbook/solutions") for name in names)
    subprocess.run(["bash", "-n", str(autograder / "source" / "setup.sh")], check=True)

    # What setup.sh leaves behind: the workbook installed in source/workbook/.venv.
    (autograder / "source" / "workbook" / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    broken_health(tiny_part, autograder / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(autograder)}
    done = subprocess.run(["bash", str(autograder / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    results = json.loads((autograder / "results" / "results.json").read_text())
    check_gradescope(results)
    assert results["score"] == 3, done.stdout + done.stderr
    assert "Score: 3/9 points" in " ".join(done.stdout.split())

    # A changed test on the platform is caught before anything is graded.
    test_file = autograder / "source" / "workbook" / "lessons" / "part1" / "tests" / "test_basic.py"
    test_file.write_text(test_file.read_text() + "\n# changed\n")
    subprocess.run(["bash", str(autograder / "source" / "run_autograder")], env=env, capture_output=True, timeout=120)
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert results["score"] == 0 and "differ from its manifest" in results["output"]


def test_the_classroom_workflow_grades_with_the_pristine_tests(tiny_workbook: Path, tiny_part: Part, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tiny_workbook)
    starter = tmp_path / "starter"
    result = runner.invoke(app, ["export", "classroom", "part1", "--out", str(starter), "--workbook-repo",
                                 "school/workbook", "--ref", "0123abc"])  # fmt: skip
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((starter / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    checkout = next(step for step in steps if step.get("with", {}).get("repository"))
    assert checkout["with"] == {"repository": "school/workbook", "ref": "0123abc", "path": "workbook"}
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter")
    assert reporter["with"]["runners"] == "workbook"
    grade_step = next(step for step in steps if step.get("id") == "workbook")

    # The job's folder, as the checkout steps leave it: the student's repository (with a copy of
    # the tests that passes everything) and the workbook, installed.
    job = tmp_path / "job"
    submission = broken_health(tiny_part, job / "submission")
    (submission / "tests").mkdir()
    (submission / "tests" / "test_basic.py").write_text("def test_health():\n    pass\n")
    (job / "workbook").symlink_to(tiny_workbook, target_is_directory=True)
    (tiny_workbook / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    output = job / "github_output"
    done = subprocess.run(["bash", "-e", "-c", grade_step["run"]], cwd=job, capture_output=True, text=True,
                          env={**os.environ, "GITHUB_OUTPUT": str(output)}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in output.read_text().splitlines() if line.startswith("result="))
    data = json.loads(base64.b64decode(line.removeprefix("result=")))
    assert data["version"] == 1 and data["status"] == "fail" and data["max_score"] == 9
    assert sum(test["score"] for test in data["tests"]) == 3
    assert {test["name"]: test["status"] for test in data["tests"]}["The health check answers ok."] == "fail"
