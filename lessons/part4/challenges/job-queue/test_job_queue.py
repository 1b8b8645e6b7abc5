"""Challenge: heavy work on a real job queue (ARQ, on Redis).

These tests run the app with `uvicorn` and the queue worker with
`arq app.worker.WorkerSettings`, each in a process of its own, sharing a SQLite
file, a folder for the exports and a real redis-server. To make an export fail,
a test puts a plain file where the exports folder should be: writing there
fails as a full or missing disk would, until the test takes the file away.
"""

import csv
import io
import shutil
import time
from datetime import datetime, timedelta

import httpx
import pytest
from websockets.sync.client import connect

from conftest import AppProcesses, QueueWorker, require_settings

ATTEMPTS = 3
SETTINGS = {
    "EXPORT_BATCH_SIZE": "2",
    "JOB_MAX_ATTEMPTS": str(ATTEMPTS),
    "JOB_RETRY_BASE_SECONDS": "0.4",
    "JOB_RETRY_MAX_SECONDS": "2",
}
FINISHED = ("complete", "failed")
WAIT = 15  # seconds for a job to finish


class Stack:
    """The API, the queue worker, and what they share."""

    def __init__(self, api: AppProcesses, worker: QueueWorker, exports) -> None:
        self.api, self.worker, self.exports = api, worker, exports
        self.http = httpx.Client(base_url=api.url, timeout=10)

    def login(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api.new_user(self.http, username)}"}

    def add_tasks(self, headers: dict[str, str], *titles: str) -> list[dict]:
        return [self.http.post("/tasks/", json={"title": title}, headers=headers).json() for title in titles]

    def start_export(self, headers: dict[str, str]) -> dict:
        response = self.http.post("/tasks/export", headers=headers)
        assert response.status_code == 202, f"POST /tasks/export answered {response.status_code}: {response.text}"
        return response.json()

    def job(self, job_id: str, headers: dict[str, str]) -> dict:
        response = self.http.get(f"/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, f"GET /jobs/{job_id} answered {response.status_code}: {response.text}"
        return response.json()

    def wait_for(self, job_id: str, headers: dict[str, str], until=lambda job: job["status"] in FINISHED) -> dict:
        """The job, polled until `until(job)` holds (by default: until it has finished)."""
        deadline = time.monotonic() + WAIT
        while not until(job := self.job(job_id, headers)):
            if time.monotonic() > deadline:
                pytest.fail(f"after {WAIT} s the job is still {job}", pytrace=False)
            time.sleep(0.05)
        return job

    def block_exports(self) -> None:
        """Put a plain file where the exports folder should be: writing an export now fails."""
        shutil.rmtree(self.exports, ignore_errors=True)
        self.exports.write_text("not a folder")

    def unblock_exports(self) -> None:
        if self.exports.is_file():
            self.exports.unlink()


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    require_settings("redis_url", "exports_dir", "export_batch_size", "job_max_attempts")
    redis_server.client.flushall()
    folder = tmp_path_factory.mktemp("job-queue")
    exports = folder / "exports"
    api = AppProcesses(folder, {"REDIS_URL": redis_server.url, "EXPORTS_DIR": str(exports), **SETTINGS}, workers=1)
    worker = QueueWorker(folder, api.env)
    api.start()
    worker.start()
    stack = Stack(api, worker, exports)
    yield stack
    stack.http.close()
    worker.stop()
    api.stop()


@pytest.mark.points(2, hint="Answer 202 with the job's id at once; the queue worker does the rest.")
def test_an_export_is_accepted_at_once_and_completed_by_the_worker(stack):
    """POST /tasks/export answers 202 with a queued job; GET /jobs/{id} then shows it complete, with all 3 tasks done."""
    headers = stack.login("ada")
    stack.add_tasks(headers, "One", "Two", "Three")

    job = stack.start_export(headers)
    assert job["status"] == "queued" and job["id"]
    job = stack.wait_for(job["id"], headers)

    assert job["status"] == "complete", f"the job did not complete: {job}"
    assert (job["done"], job["total"]) == (3, 3)


@pytest.mark.points(2, hint="csv.writer, with the header row id,title,description,completed,created_at first.")
def test_the_result_is_a_csv_of_the_owners_tasks(stack):
    """GET /jobs/{id}/result gives a text/csv file with a header row and one row per task of the owner, and no one else's."""
    mine, theirs = stack.login("grace"), stack.login("other")
    tasks = stack.add_tasks(mine, "Write the report", "Send it")
    stack.add_tasks(theirs, "Someone else's task")
    job = stack.wait_for(stack.start_export(mine)["id"], mine)

    response = stack.http.get(f"/jobs/{job['id']}/result", headers=mine)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["id", "title", "description", "completed", "created_at"]
    assert [(int(row["id"]), row["title"]) for row in rows] == [(task["id"], task["title"]) for task in tasks]
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert created.utcoffset() == timedelta(0), "created_at should be in UTC"


@pytest.mark.points(2, hint="Look the job up with its owner, as get_own_task does: someone else's job is 'not found' too.")
def test_only_the_owner_can_see_the_job_and_download_its_result(stack):
    """Another user gets 404 for the job and for its result, and without a token both answer 401."""
    owner, stranger = stack.login("linus"), stack.login("mallory")
    stack.add_tasks(owner, "Private plans")
    job = stack.wait_for(stack.start_export(owner)["id"], owner)

    for path in (f"/jobs/{job['id']}", f"/jobs/{job['id']}/result"):
        assert stack.http.get(path, headers=stranger).status_code == 404
        assert stack.http.get(path).status_code == 401


@pytest.mark.points(2, hint="After each batch, update the job's row and publish 'Export {id}: done/total' on Redis for the API to relay.")
def test_progress_is_reported_over_the_websocket(stack):
    """With EXPORT_BATCH_SIZE=2, the owner's live feed says "Export {id}: 2/5", "4/5", "5/5", then "Export {id}: complete"."""
    headers = stack.login("barbara")
    stack.add_tasks(headers, *(f"Task {n}" for n in range(5)))
    url = stack.api.url.replace("http", "ws", 1) + "/ws/tasks?token=" + headers["Authorization"].split()[1]
    with connect(url, proxy=None, open_timeout=10) as websocket:
        time.sleep(0.2)  # the "Task created" events of the tasks above have all gone by now
        job = stack.start_export(headers)
        heard = []
        while not heard or not heard[-1].endswith(FINISHED):
            try:
                message = websocket.recv(timeout=WAIT)
            except TimeoutError:
                pytest.fail(f"the live feed said nothing more after {heard}", pytrace=False)
            if message.startswith("Export"):
                heard.append(message)

    prefix = f"Export {job['id']}: "
    assert heard == [prefix + "2/5", prefix + "4/5", prefix + "5/5", prefix + "complete"]


@pytest.mark.points(3, hint="The job lives in Redis, not in the API's memory: BackgroundTasks would lose it.")
def test_a_queued_job_waits_for_a_worker_and_survives_an_api_crash(stack):
    """With no queue worker running, a job stays queued; after the API is killed and started again, a new worker completes it."""
    headers = stack.login("edsger")
    stack.add_tasks(headers, "Survive this")
    stack.worker.stop()
    try:
        job = stack.start_export(headers)
        time.sleep(0.5)
        assert stack.job(job["id"], headers)["status"] == "queued", "no worker is running: nothing should run the job"

        stack.api.kill()
        stack.worker.start()
        stack.api.start()
        job = stack.wait_for(job["id"], headers)
    finally:
        if stack.worker.process.process is None:
            stack.worker.start()

    assert job["status"] == "complete", f"the job did not complete: {job}"
    response = stack.http.get(f"/jobs/{job['id']}/result", headers=headers)
    assert "Survive this" in response.text


@pytest.mark.points(2, hint="Catch OSError, record it on the job, and raise arq's Retry(defer=...) to be tried again.")
def test_a_failed_attempt_is_retried_and_the_job_completes(stack):
    """While the exports folder is unusable the job shows "retrying" with the error; once it is usable again, a later attempt completes it."""
    headers = stack.login("frances")
    stack.add_tasks(headers, "Try, try again")
    stack.block_exports()
    try:
        job = stack.start_export(headers)
        retrying = stack.wait_for(job["id"], headers, until=lambda job: job["status"] in ("retrying", *FINISHED))
        assert retrying["status"] == "retrying", f"the first attempt should fail and wait for another: {retrying}"
        assert retrying["error"], "the job should say why the attempt failed"
    finally:
        stack.unblock_exports()
    job = stack.wait_for(job["id"], headers)

    assert job["status"] == "complete", f"the job did not complete once the folder was back: {job}"
    assert job["attempts"] >= 2


@pytest.mark.points(2, hint="On the last attempt, record status 'failed' and the error, and do not retry.")
def test_a_job_that_keeps_failing_stops_after_the_last_attempt_and_says_why(stack):
    """With JOB_MAX_ATTEMPTS=3 and no usable exports folder, the job ends "failed" after 3 attempts, with an error, and its result answers 409."""
    headers = stack.login("hedy")
    stack.add_tasks(headers, "Doomed")
    stack.block_exports()
    try:
        job = stack.wait_for(stack.start_export(headers)["id"], headers)
    finally:
        stack.unblock_exports()

    assert job["status"] == "failed"
    assert job["attempts"] == ATTEMPTS
    assert job["error"]
    assert stack.http.get(f"/jobs/{job['id']}/result", headers=headers).status_code == 409


@pytest.mark.points(1, hint="longest = min(cap, base * 2 ** (attempt - 1)); then random.uniform(longest / 2, longest).")
def test_retry_delays_grow_with_each_attempt_and_have_jitter():
    """app.jobs.retry_delay(attempt, base, cap) waits between half of and all of min(cap, base x 2^(attempt-1)), a different time on each call."""
    try:
        from app.jobs import retry_delay
    except ImportError as error:
        pytest.fail(f"app/jobs.py has no retry_delay function yet ({error})", pytrace=False)

    for attempt, longest in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        delays = [retry_delay(attempt, base=1.0, cap=5.0) for _ in range(200)]
        assert all(longest / 2 <= delay <= longest for delay in delays), f"attempt {attempt}: {min(delays)}..{max(delays)}"
        assert len(set(delays)) > 100, "the delays should be random (jitter), not all the same"
        assert max(delays) > longest * 0.9 and min(delays) < longest * 0.6, "they should spread over the whole range"
