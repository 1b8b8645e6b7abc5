"""Why a test did not pass, in words a beginner can act on.

pytest's own report is written for the person who wrote the test: `E` lines,
`+ where` chains, memory addresses, truncated reprs and "use -vv" advice.
These functions keep what says what went wrong, in the student's terms:

- an exception raised in the student's `app/` names the file, line and function;
- an assertion on a status code says which status came back and which was expected;
- a missing key in a JSON answer says which field is missing;
- a timeout names the request the test made and where the app was stuck.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MAX_REASON = 300
STUDENT_CODE = "app/"

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
STATUS_WHERE = re.compile(r"^\+\s+where (\d+) = <Response \[(\d+)(?: ([^\]]*))?\]>\.status_code$")
GET_WHERE = re.compile(r"^\+\s+where (.+?) = <built-in method get of dict object>\((.+)\)$")
DICT_WHERE = re.compile(r"^\+\s+where <built-in method get of dict object> = (.+)\.get$")
COMPARISON = re.compile(r"^assert (.+?) (==|!=|in|not in|<=|>=|<|>|is|is not) (.+)$")
NOISE = (
    re.compile(r"^Omitting \d+ identical items?, use -vv to show$"),
    re.compile(r"^Use -v to get more diff$"),
    re.compile(r"^Full diff:"),
    re.compile(r"^Skipping \d+ identical (leading|trailing) characters in diff"),
    re.compile(r"^[-+?]( |$)"),  # the lines of a diff: the values on the first line say it shorter
)
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')
REQUEST = re.compile(r"\.(get|post|put|patch|delete|head|options|websocket_connect)\(\s*f?([\"'])(.*?)\2")
IMPORT_NAME = re.compile(r"cannot import name '([^']+)' from '([^']+)'(?: \(([^)]+)\))?")
NO_MODULE = re.compile(r"No module named '([^']+)'")


def shorten(text: str, limit: int = MAX_REASON) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relative(path: str, folder: Path | None = None) -> str:
    """A path as the student sees it: relative to the folder the tests ran in."""
    base = str(folder or Path.cwd()).rstrip("/") + "/"
    return path[len(base) :] if path.startswith(base) else path


def in_student_code(path: str) -> bool:
    return path.startswith(STUDENT_CODE)


def explain(report: Any) -> str:
    """A short sentence saying why a test phase did not pass ('' if it did)."""
    if report.passed:
        return ""
    longrepr = report.longrepr
    if report.skipped:
        return shorten(str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr))
    crash = getattr(longrepr, "reprcrash", None)
    if crash is None or not crash.message:
        return explain_text(str(longrepr or "failed"))
    where = crash_site(report)
    message = crash.message
    if where:
        return shorten(f"{where}: {plain(message)}")
    if message.startswith(("AssertionError", "assert ")):
        return shorten(explain_assertion(message))
    return shorten(plain(message.removeprefix("Failed: ")))


def crash_site(report: Any) -> str:
    """"app/x.py line 3, in f" for the deepest frame of the student's code, or ''."""
    longrepr = report.longrepr
    chain = getattr(longrepr, "chain", None)
    traceback = chain[-1][0] if chain else getattr(longrepr, "reprtraceback", None)
    message = getattr(getattr(longrepr, "reprcrash", None), "message", "")
    if traceback is None or message.startswith(("AssertionError", "assert ", "Failed: ")):
        return ""
    for entry in reversed(getattr(traceback, "reprentries", [])):
        location = getattr(entry, "reprfileloc", None)
        if location is None:
            continue
        path = relative(str(location.path))
        if in_student_code(path):
            function = function_of(entry)
            return f"{path} line {location.lineno}" + (f", in {function}" if function else "")
    return ""


def function_of(entry: Any) -> str:
    """The name of the function a traceback entry is in, from its source lines."""
    for line in reversed(getattr(entry, "lines", [])):
        match = re.match(r"^[ >]\s*(?:async\s+)?def\s+(\w+)\s*\(", line)
        if match:
            return match.group(1)
    return ""


def is_crash(report: Any) -> bool:
    """Did the student's own code raise (as opposed to a test finding a wrong answer)?"""
    return bool(report.failed and report.when == "call" and crash_site(report))


def plain(message: str) -> str:
    """An exception message without memory addresses, on one line."""
    return " ".join(ADDRESS.sub("", message).split())


def explain_assertion(message: str) -> str:
    """pytest's assertion report, rewritten for a student.

    The tests put the answer on the left and what they expect on the right
    (`assert response.status_code == 201`), so "left" is what the code gave."""
    lines = [line.strip() for line in ADDRESS.sub("", message).splitlines()]
    lines = [line for line in lines if line]
    first = lines[0].removeprefix("AssertionError").removeprefix(":").strip() if lines else ""
    rest = lines[1:]
    if not first and rest:
        first, rest = rest[0], rest[1:]
    if not first.startswith("assert"):
        return first or "a check of the test failed"  # the test's own message says it best
    comparison = COMPARISON.match(first)
    wheres = [line for line in rest if line.startswith("+")]
    for line in wheres:
        status = STATUS_WHERE.match(line)
        if status and comparison and comparison.group(2) == "==":
            got = f"{status.group(2)} {status.group(3) or ''}".strip()
            return f"the answer's status was {got}; the test expected {comparison.group(3)}"
        missing = GET_WHERE.match(line)
        if missing and missing.group(1) == "None" and comparison:
            answer = next((found.group(1) for where in wheres if (found := DICT_WHERE.match(where))), "")
            said = f" (the answer was {answer})" if answer else ""
            return f"no {missing.group(2)} in the answer{said}; the test expected {comparison.group(3)}"
    details = explain_details([line for line in rest if line not in wheres])
    if "..." in first and details:
        return "; ".join(details)  # pytest cut the values short: its explanation says more
    return "; ".join([first, *details])


def explain_details(lines: list[str]) -> list[str]:
    """pytest's explanation of a comparison, without its advice and in plainer words."""
    full_diff = next((i for i, line in enumerate(lines) if line.startswith("Full diff:")), len(lines))
    lines = lines[:full_diff]  # the rest is the whole diff (complete when CI is set): the lines above say it
    lines = [line for line in lines if not any(noise.match(line) for noise in NOISE)]
    merged: list[str] = []
    for line in lines:  # "Differing items:" / "Right contains 1 more item:" introduce the next line
        if merged and merged[-1].endswith(":"):
            merged[-1] = f"{merged[-1]} {line}"
        else:
            merged.append(line)
    return [rewrite_detail(line) for line in merged]


DETAIL_REWRITES = (
    (re.compile(r"^At index (\d+) diff: (.*) != (.*)$"), r"at position \1 the answer has \2 where \3 was expected"),
    (re.compile(r"^Differing items?: (.*) != (.*)$"), r"the answer has \1 where \2 was expected"),
    (re.compile(r"^Left contains one more item: (.*)$"), r"the answer has one item too many: \1"),
    (re.compile(r"^Left contains (\d+) more items, first extra item: (.*)$"), r"the answer has \1 items too many, the first: \2"),
    (re.compile(r"^Right contains one more item: (.*)$"), r"the answer lacks one item: \1"),
    (re.compile(r"^Right contains (\d+) more items, first extra item: (.*)$"), r"the answer lacks \1 items, the first: \2"),
    (re.compile(r"^Left contains (\d+) more items: (.*)$"), r"the answer has \1 items too many: \2"),
    (re.compile(r"^Right contains (\d+) more items: (.*)$"), r"the answer lacks \1 items: \2"),
)


def rewrite_detail(line: str) -> str:
    for pattern, replacement in DETAIL_REWRITES:
        if pattern.match(line):
            return pattern.sub(replacement, line)
    return line


def explain_text(text: str) -> str:
    """A report with no structured crash (collection errors, plain strings)."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return shorten(ADDRESS.sub("", errors[-1] if errors else text.strip().splitlines()[-1]))


def explain_import_error(message: str, location: str) -> str:
    """"cannot import name 'x' from 'app.y'" -> "app/y.py has no x, which the tests import (conftest.py line 9)"."""
    message = plain(message)
    name = IMPORT_NAME.search(message)
    if name:
        module_file = relative(name.group(3)) if name.group(3) else name.group(2).replace(".", "/") + ".py"
        return f"{module_file} has no {name.group(1)}, which the tests import ({location})"
    module = NO_MODULE.search(message)
    if module and module.group(1).split(".")[0] == "app":
        wanted = module.group(1).replace(".", "/")
        return f"there is no {wanted}.py, which the tests import ({location})"
    return f"{location}: {message}"


def describe_conftest_crash(output: str) -> str:
    """Why the tests' own conftest.py could not be imported against the student's code.

    `output` is a Python traceback with paths relative to the part's folder."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "it failed without saying why"
    kind, _, message = last.partition(": ")
    frames = list(FRAME.finditer(output))
    importer = next((frame for frame in reversed(frames) if frame["file"] == "conftest.py"), None)
    line = importer["line"] if importer else "?"
    if kind in ("ImportError", "ModuleNotFoundError"):
        why = explain_import_error(message, f"conftest.py line {line}")
    elif deepest := stuck_at(output):
        why = f"{deepest}: {plain(last)}"
    else:
        why = f"conftest.py line {line}: {plain(last)}"
    return shorten(f"The tests could not start: {why}.")


CASE = re.compile(r"^with .*?: (?=\S)")


def without_case(reason: str) -> str:
    """A reason without the "with title='': " a parametrized case puts before it."""
    return CASE.sub("", reason, count=1)


def case_label(params: dict[str, Any]) -> str:
    """The parameters of a parametrized case, short enough to read: title='', limit=0."""
    return ", ".join(f"{name}={shorten(repr(value), 40)}" for name, value in params.items())


def stuck_frame(output: str) -> re.Match[str] | None:
    """The deepest frame of the student's code in a stack dump, if any."""
    frames = [match for match in FRAME.finditer(output) if in_student_code(match["file"])]
    return frames[-1] if frames else None


def stuck_at(output: str) -> str:
    """Where the student's code was running when a test was stopped: "app/x.py line 3, in f"."""
    frame = stuck_frame(output)
    return f"{frame['file']} line {frame['line']}, in {frame['function']}" if frame else ""


def stuck_function(output: str) -> str:
    """The function of the student's code a stopped test was in: "f (app/x.py)"; '' if none."""
    frame = stuck_frame(output)
    return f"{frame['function']} ({frame['file']})" if frame else ""


def stuck_request(output: str) -> str:
    """The request the timed-out test was making, from the test's frame: "GET /tasks/"."""
    for match in reversed(list(FRAME.finditer(output))):
        if in_student_code(match["file"]) or not re.match(r"^(tests|challenges)/|^conftest\.py$", match["file"]):
            continue
        source = output[match.end() :].split("\n", 2)[1] if "\n" in output[match.end() :] else ""
        request = REQUEST.search(source)
        if request:
            verb = request.group(1)
            verb = "WebSocket" if verb == "websocket_connect" else verb.upper()
            return f"{verb} {request.group(3)}"
    return ""


def describe_timeout(output: str, limit: str) -> str:
    """Why a test was stopped, from pytest-timeout's stack dump (paths relative)."""
    request, where = stuck_request(output), stuck_at(output)
    what = f"{request} did not answer within {limit}" if request else f"took longer than {limit}"
    if where:
        return f"{what}; it was still running {where} (an endless loop, or waiting for something that never comes?)"
    return f"{what} and was stopped (an endless loop, or waiting for something that never comes?)"
