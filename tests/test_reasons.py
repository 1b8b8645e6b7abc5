"""Why a test failed, as a student reads it: no pytest internals, the student's file and line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

APP = '''
from fastapi import FastAPI

app = FastAPI()
TASK = {"id": 1, "title": "Buy milk"}


@app.get("/task")
def task() -> dict:
    return TASK


@app.get("/titles")
def titles() -> list[str]:
    return ["Buy milk", "Walk the dog", "Pay the rent", "Water the plants"]


@app.get("/crash")
def crash() -> dict:
    store = {}
    return stor.get("x")
'''

TESTS = '''
import pytest
from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_status():
    assert client.get("/nowhere").status_code == 200


def test_missing_field():
    assert client.get("/task").json().get("priority") == "high"


def test_long_lists():
    assert client.get("/titles").json() == ["Buy milk", "Walk the dog", "Pay the rent", "Water plants"]


def test_own_message():
    assert "due_date" in client.get("/task").json(), "the task has no due_date field"


def test_crash():
    client.get("/crash")


def test_object_in_the_message():
    assert object() is None


@pytest.mark.parametrize("title", ["", "x" * 300])
def test_case(title):
    assert title == "ok"
'''


@pytest.fixture(scope="module")
def reasons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The plugin's results for the sample tests, run once for the module."""
    folder = tmp_path_factory.mktemp("reasons")
    (folder / "app").mkdir()
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "main.py").write_text(APP.lstrip("\n"))
    (folder / "test_reasons_sample.py").write_text(TESTS.lstrip("\n"))
    results = folder / "results.jsonl"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--workbook-results", str(results)]
    subprocess.run(command, cwd=folder, env={**os.environ, "PYTHONPATH": str(folder)}, capture_output=True, timeout=120, check=False)
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    return {line["nodeid"].split("::")[1]: line for line in lines if "nodeid" in line}


def test_no_pytest_internals_reach_the_student(reasons: dict[str, dict[str, str]]) -> None:
    for name, outcome in reasons.items():
        reason = outcome["reason"]
        assert " at 0x" not in reason and "E " not in reason, name
        assert not re.search(r"\+\s+where|\bwhere \S+ = ", reason), name
        assert "-v" not in reason and "Omitting" not in reason, name


def test_a_wrong_status_code_says_which_came_back(reasons: dict[str, dict[str, str]]) -> None:
    assert reasons["test_status"]["reason"] == "the answer's status was 404 Not Found; the test expected 200"


def test_a_missing_field_is_named(reasons: dict[str, dict[str, str]]) -> None:
    assert reasons["test_missing_field"]["reason"] == (
        "no 'priority' in the answer (the answer was {'id': 1, 'title': 'Buy milk'}); the test expected 'high'"
    )


def test_long_values_cut_short_by_pytest_give_way_to_the_difference(reasons: dict[str, dict[str, str]]) -> None:
    reason = reasons["test_long_lists"]["reason"]
    assert "..." not in reason
    assert reason == "at position 3 the answer has 'Water the plants' where 'Water plants' was expected"


def test_the_tests_own_message_comes_first(reasons: dict[str, dict[str, str]]) -> None:
    assert reasons["test_own_message"]["reason"] == "the task has no due_date field"


def test_an_exception_in_the_app_names_file_line_and_function(reasons: dict[str, dict[str, str]]) -> None:
    crash = reasons["test_crash"]
    assert crash["status"] == "error"  # a crash, not a wrong answer: no hint is shown for it
    line = APP.lstrip("\n").splitlines().index('    return stor.get("x")') + 1
    assert crash["reason"] == f"app/main.py line {line}, in crash: NameError: name 'stor' is not defined"


def test_a_parametrized_case_is_named(reasons: dict[str, dict[str, str]]) -> None:
    assert reasons["test_case[]"]["reason"] == "with title='': assert '' == 'ok'"
    long_case = reasons["test_case[title1]"]  # pytest names a long value by its position
    assert re.fullmatch(r"with title='x{30,40}…: assert .*", long_case["reason"])
