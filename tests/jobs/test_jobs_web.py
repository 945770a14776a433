"""The jobs API, the progress panel on the interview page and ``oralhist jobs``, per role:
the creator and archivists see, cancel and retry a job; everyone else is told it does not
exist."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from oralhist import jobs
from oralhist.extensions import db
from oralhist.models import Job

from .conftest import enqueue, job_row

ROLE_COLUMNS = ("anon", "researcher", "contributor", "contributor2", "archivist", "admin")

#: (method, url, job status before, expected status per role column). The job was started
#: by "contributor". A write without credentials is refused before anything is looked up.
MATRIX = [
    ("GET", "/api/v1/jobs/{job}", "queued", (404, 404, 200, 404, 200, 200)),
    ("POST", "/api/v1/jobs/{job}/cancel", "queued", (401, 404, 200, 404, 200, 200)),
    ("POST", "/api/v1/jobs/{job}/cancel", "running", (401, 404, 202, 404, 202, 202)),
    ("POST", "/api/v1/jobs/{job}/cancel", "done", (401, 404, 409, 404, 409, 409)),
    ("POST", "/api/v1/jobs/{job}/retry", "failed", (401, 404, 202, 404, 202, 202)),
    ("POST", "/api/v1/jobs/{job}/retry", "done", (401, 404, 409, 404, 409, 409)),
    ("GET", "/api/v1/jobs/999999", "queued", (404, 404, 404, 404, 404, 404)),
]


@pytest.mark.parametrize(
    ("method", "template", "before", "expected"),
    MATRIX,
    ids=[f"{m} {t} {b}" for m, t, b, _ in MATRIX],
)
def test_jobs_api_role_matrix(app, users, owned, browser, method, template, before, expected):
    mismatches = []
    for role, status in zip(ROLE_COLUMNS, expected, strict=True):
        with app.app_context():
            db.session.query(Job).delete()
            db.session.commit()
        job_id = enqueue(app, "test.count", owned, users=users)
        with app.app_context():
            db.session.execute(
                update(Job).where(Job.id == job_id).values(status=before, worker="w:1:x")
            )
            db.session.commit()
        client = browser(None if role == "anon" else role)
        url = template.format(job=job_id)
        response = client.get(url) if method == "GET" else client.post(url)
        if response.status_code != status:
            mismatches.append((role, status, response.status_code))
        if response.status_code == 404:
            assert "test.count" not in response.get_data(as_text=True)
    assert mismatches == []


def test_the_job_json_has_the_contract_fields(app, users, owned, browser):
    job_id = enqueue(app, "test.count", owned, users=users, steps=2)
    jobs.run_pending(app)
    body = browser("contributor").get(f"/api/v1/jobs/{job_id}").json
    for key in (
        "id",
        "kind",
        "status",
        "progress",
        "stage",
        "result",
        "error",
        "interview_id",
        "recording_id",
        "created_at",
        "started_at",
        "finished_at",
    ):
        assert key in body, key
    assert body["id"] == job_id
    assert (body["kind"], body["status"], body["progress"]) == ("test.count", "done", 100)
    assert body["result"]["version"] == 7
    assert body["interview_id"] == owned and body["recording_id"] is None
    assert body["title"] == "Counting for a test"


def test_cancel_and_retry_through_the_api(app, users, owned, browser):
    client = browser("contributor")
    job_id = enqueue(app, "test.count", owned, users=users)
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    retried = client.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202
    assert retried.json["status"] == "queued" and retried.json["retry_of"] == job_id
    jobs.run_pending(app)
    assert client.get(f"/api/v1/jobs/{retried.json['id']}").json["status"] == "done"


def test_a_retry_refused_by_the_exclusive_rule_is_a_409(app, users, owned, browser):
    failed = enqueue(app, "test.exclusive", owned, users=users)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == failed).values(status="failed"))
        db.session.commit()
    running = enqueue(app, "test.exclusive", owned, users=users)
    answer = browser("contributor").post(f"/api/v1/jobs/{failed}/retry")
    assert answer.status_code == 409
    assert answer.json["error"]["details"]["job_id"] == running


# --- the interview page -----------------------------------------------------------------------


def test_the_interview_page_shows_a_live_progress_bar_to_whoever_may_see_the_job(
    app, users, owned, browser
):
    job_id = enqueue(app, "test.count", owned, users=users)
    page = browser("contributor").get(f"/interviews/{owned}").get_data(as_text=True)
    assert f'data-job-id="{job_id}"' in page
    assert '<progress max="100" value="0"' in page
    assert f'aria-labelledby="job-{job_id}-title"' in page
    assert "Counting for a test" in page
    assert "job-cancel" in page
    assert "jobs.js" in page
    assert f'data-job-id="{job_id}"' in browser("archivist").get(f"/interviews/{owned}").text
    for role in (None, "researcher", "contributor2"):
        other = browser(role).get(f"/interviews/{owned}").get_data(as_text=True)
        assert "data-job-id" not in other, role
        assert "jobs.js" not in other, role


def test_a_done_job_links_to_its_result(app, users, owned, browser):
    enqueue(app, "test.count", owned, users=users)
    jobs.run_pending(app)
    page = browser("contributor").get(f"/interviews/{owned}").get_data(as_text=True)
    assert "Done: proposed version 7" in page
    assert f'<a href="/interviews/{owned}">review it</a>' in page
    assert "job-cancel" not in page


def test_a_failed_job_says_why_on_the_page(app, users, owned, browser):
    enqueue(app, "test.fail", owned, users=users)
    jobs.run_pending(app)
    page = browser("contributor").get(f"/interviews/{owned}").get_data(as_text=True)
    assert "The test job cannot go on: the input has no line 3." in page


# --- the command line -----------------------------------------------------------------------


def test_jobs_list_cancel_retry_on_the_command_line(app, users, owned):
    runner = app.test_cli_runner()
    job_id = enqueue(app, "test.count", owned, users=users)
    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0
    assert f"{job_id}" in listed.output and "queued" in listed.output
    assert "test.count" in listed.output
    cancelled = runner.invoke(args=["jobs", "cancel", str(job_id)])
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Job {job_id} cancelled." in cancelled.output
    assert job_row(app, job_id).status == "cancelled"
    twice = runner.invoke(args=["jobs", "cancel", str(job_id)])
    assert twice.exit_code == 1 and "already cancelled" in twice.output
    assert "Traceback" not in twice.output
    retried = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0, retried.output
    assert f"Job {job_id} queued again as job" in retried.output
    active = runner.invoke(args=["jobs", "list", "--status", "active"])
    assert "queued" in active.output and "cancelled" not in active.output
    missing = runner.invoke(args=["jobs", "cancel", "999999"])
    assert missing.exit_code == 1 and "There is no job 999999." in missing.output
    empty = runner.invoke(args=["jobs", "list", "--status", "running"])
    assert "No jobs." in empty.output


def test_worker_once_runs_the_queued_jobs(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "jobs: ran 1" in result.output
    assert job_row(app, job_id).status == "done"
