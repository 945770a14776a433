"""The interview page's job panel in Chromium: the progress bar moves while a job runs, the
finished job links to its result, and Cancel stops a running job."""

from __future__ import annotations

import threading

from oralhist import jobs
from tests.jobs import handlers  # noqa: F401  (registers the test.* handlers)
from tests.jobs.conftest import enqueue, job_row, owned  # noqa: F401  (the fixture)

from .conftest import sign_in


def test_the_progress_bar_follows_a_running_job_to_its_result(page, app, users, owned, tmp_path):  # noqa: F811
    release = tmp_path / "release"
    job_id = enqueue(app, "test.wait", owned, users=users, release_file=str(release), version=3)
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        sign_in(page, "contributor@example.org")
        page.goto(f"{page.base}/interviews/{owned}")
        item = page.locator(f"li.job[data-job-id='{job_id}']")
        bar = item.locator("progress")
        assert bar.get_attribute("aria-labelledby") == f"job-{job_id}-title"
        page.wait_for_function(
            "id => document.querySelector(`li.job[data-job-id='${id}'] progress`).value > 0",
            arg=job_id,
        )
        assert "Working" in item.locator(".job-stage").inner_text()
        release.touch()
        page.wait_for_function(
            "id => document.querySelector(`li.job[data-job-id='${id}']`).dataset.jobStatus"
            " === 'done'",
            arg=job_id,
        )
    finally:
        release.touch()
        worker.join(60)
    assert bar.evaluate("el => el.value") == 100
    assert item.locator(".job-result").inner_text() == "Done: proposed version 3, review it."
    assert item.locator(".job-result a").get_attribute("href") == f"/interviews/{owned}"
    assert item.locator("button.job-cancel").count() == 0
    assert page.console_errors == []


def test_cancel_stops_a_running_job(page, app, users, owned):  # noqa: F811
    job_id = enqueue(app, "test.wait", owned, users=users, always_wait=True)
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        sign_in(page, "contributor@example.org")
        page.goto(f"{page.base}/interviews/{owned}")
        item = page.locator(f"li.job[data-job-id='{job_id}']")
        page.wait_for_function(
            "id => document.querySelector(`li.job[data-job-id='${id}']`).dataset.jobStatus"
            " === 'running'",
            arg=job_id,
        )
        item.locator("button.job-cancel").click()
        page.wait_for_function(
            "id => document.querySelector(`li.job[data-job-id='${id}']`).dataset.jobStatus"
            " === 'cancelled'",
            arg=job_id,
        )
    finally:
        worker.join(60)
    assert job_row(app, job_id).status == "cancelled"
    assert "Cancelled" in item.locator(".job-stage").inner_text()
    assert page.console_errors == []
