"""Grading on a platform's machines: a Gradescope autograder zip, a GitHub Classroom workflow.

Both run the same `workbook grade` with the pristine tests of the part, and
check those tests against a SHA-256 manifest before grading, so that neither
the student's copy of the tests nor a changed copy on the platform is used.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import zipfile
from pathlib import Path

import workbook
from workbook import manifest
from workbook.catalog import Part
from workbook.grader import pristine_files
from workbook.listing import LESSON

PACKAGE = Path(workbook.__file__).resolve().parent


def part_digests(part: Part) -> dict[str, str]:
    return pristine_files(part, [LESSON, *(c.slug for c in part.challenges())])


def manifest_lines(part: Part) -> list[str]:
    """`sha256sum -c` lines for the part's pristine files, relative to the workbook's root."""
    prefix = part.folder.relative_to(part.root).as_posix()
    return [f"{digest}  {prefix}/{path}" for path, digest in part_digests(part).items()]


def needs_a_browser(part: Part) -> bool:
    return any("playwright" in path.read_text(encoding="utf-8") for path in part.folder.rglob("test_*.py"))


SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image.
set -euo pipefail
cd "$(dirname "$0")/workbook"
export DEBIAN_FRONTEND=noninteractive
if ! command -v uv >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq python3-pip >/dev/null
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --break-system-packages uv
fi
# The locked dependencies, compiled once: every submission then runs on a read-only copy.
uv sync --locked --compile-bytecode
{browser}"""

BROWSER_SETUP = """\
# Part {number}'s dashboard test drives a real Chromium.
uv run playwright install --with-deps chromium
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission: the pristine tests of {part} against /autograder/submission.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
cd "$ROOT/source/workbook" || exit 1
fail() {{
  printf '{{"score": 0, "output": "%s", "tests": []}}\\n' "$1" > "$RESULTS/results.json"
  echo "$1"
  exit 0
}}
# The tests must be the pristine ones this zip was built with.
sha256sum --quiet --check ../manifest.sha256 || fail "The autograder's tests differ from its manifest; rebuild it with: workbook export gradescope {part}"
{browser}.venv/bin/workbook grade {part} "$ROOT/submission" --format table --format gradescope --format json \\
  --out "$RESULTS" --timeout {timeout:g} --watchdog {watchdog:g}
[ -s "$RESULTS/results.json" ] || fail "The grader stopped before writing a result; see the autograder output."
"""

BROWSER_RUN = """\
CHROMIUM_PATH="$(ls -d "$HOME"/.cache/ms-playwright/chromium-*/chrome-linux/chrome 2>/dev/null | head -n 1)"
export CHROMIUM_PATH
"""


def workbook_files(part: Part, root: Path) -> dict[str, Path]:
    """What the autograder needs of the workbook, by path in the zip: the package, the lock, the pristine tests."""
    files: dict[str, Path] = {}
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        if (root / name).is_file():
            files[f"workbook/{name}"] = root / name
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.name != manifest.MANIFEST.name:
            files[f"workbook/src/workbook/{path.relative_to(PACKAGE).as_posix()}"] = path
    lesson = f"workbook/{part.folder.relative_to(part.root).as_posix()}"
    for name in ("conftest.py", "pytest.ini", "README.md"):
        if (part.folder / name).is_file():
            files[f"{lesson}/{name}"] = part.folder / name
    for path in sorted((part.folder / "tests").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[f"{lesson}/{path.relative_to(part.folder).as_posix()}"] = path
    for challenge in part.challenges():
        for path in sorted(challenge.folder.iterdir()):
            if path.is_file() and (path.name == "README.md" or path.suffix == ".py"):
                files[f"{lesson}/{path.relative_to(part.folder).as_posix()}"] = path
    return files


def gradescope(part: Part, out: Path, timeout: float = 60, watchdog: float = 600, root: Path | None = None) -> Path:
    """Build `autograder-<part>.zip` in `out`: setup.sh, run_autograder, the manifest and the workbook.

    `part` has the pristine tests; `root` (default: the part's) the workbook's project files."""
    out.mkdir(parents=True, exist_ok=True)
    browser = needs_a_browser(part)
    scripts = {
        "setup.sh": SETUP_SH.format(browser=BROWSER_SETUP.format(number=part.number) if browser else ""),
        "run_autograder": RUN_AUTOGRADER.format(part=part.name, timeout=timeout, watchdog=watchdog,
                                                browser=BROWSER_RUN if browser else ""),  # fmt: skip
        "manifest.sha256": "\n".join(manifest_lines(part)) + "\n",
        # The package's own manifest, for the one part the autograder grades.
        f"workbook/{manifest.MANIFEST.as_posix()}": json.dumps({part.name: part_digests(part)}, indent=2, sort_keys=True) + "\n",
    }
    path = out / f"autograder-{part.name}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(info, text)
        for name, source in workbook_files(part, root or part.root).items():
            zipped.write(source, name)
    return path


WORKFLOW = """\
# Written by `workbook export classroom {part}`: GitHub Classroom runs this on every push.
# It grades the student's repository with the pristine tests of {part}, taken from the
# workbook's own repository at a fixed commit and checked against their manifest:
# the tests in the student's repository are never run.
name: Autograding Tests
"on":
  - push
  - repository_dispatch
  - workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 20
    steps:
      - name: Check out the submission
        uses: actions/checkout@v4
        with:
          path: submission
      - name: Check out the workbook
        uses: actions/checkout@v4
        with:
          repository: {repository}
          ref: {ref}
          path: workbook
      - name: Install uv
        uses: astral-sh/setup-uv@v6
      - name: Install the workbook
        working-directory: workbook
        run: |
          uv sync --locked --compile-bytecode{browser_install}
      - name: Grade {part}
        id: workbook
        run: |
{grade_script}
      - name: Report to GitHub Classroom
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          WORKBOOK_RESULTS: ${{{{ steps.workbook.outputs.result }}}}
        with:
          runners: workbook
"""

GRADE_SCRIPT = """\
set -u
job="$PWD"
cd workbook
sha256sum --quiet --check - <<'MANIFEST'
{manifest}
MANIFEST
# As root (passwordless sudo on hosted runners) the grader can sandbox the submission fully.
as_root=""
if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then as_root="sudo -E"; fi
{browser}$as_root .venv/bin/workbook grade {part} "$job/submission" --format classroom --out "$job/results" \\
  --timeout {timeout:g} --watchdog {watchdog:g} || true
echo "result=$(base64 -w 0 "$job/results/classroom.json")" >> "$GITHUB_OUTPUT"
"""


def grade_script(part: Part, timeout: float = 60, watchdog: float = 600) -> str:
    """The shell script of the workflow's grading step (run from the job's working folder)."""
    return GRADE_SCRIPT.format(part=part.name, manifest="\n".join(manifest_lines(part)), timeout=timeout,
                               watchdog=watchdog, browser=BROWSER_RUN if needs_a_browser(part) else "")  # fmt: skip


def head_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def classroom(part: Part, out: Path, repository: str, ref: str | None = None, root: Path | None = None) -> list[Path]:
    """Write `.github/workflows/classroom.yml` into the starter repository at `out`."""
    commit = ref or head_commit(root or part.root) or "main"
    script = grade_script(part)
    indented = "\n".join(("          " + line) if line else "" for line in script.splitlines())
    browser = "\n          uv run playwright install --with-deps chromium" if needs_a_browser(part) else ""
    workflow = WORKFLOW.format(
        part=part.name,
        repository=repository,
        ref=shlex.quote(commit) if " " in commit else commit,
        grade_script=indented,
        browser_install=browser,
    )
    path = out / ".github" / "workflows" / "classroom.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow, encoding="utf-8")
    return [path]
