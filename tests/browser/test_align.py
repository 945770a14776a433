"""Aligning the sample's untimed transcript in Chromium: press "Align to the audio", watch
the progress bar reach 100, open the preview, accept it, then click a time in the transcript
and the player lands on that segment's true start (from the synthesis)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from oralhist import jobs
from oralhist.extensions import db
from oralhist.models import Interview
from oralhist.services import sample

from .conftest import sign_in

pytest.importorskip("pocketsphinx")


@pytest.fixture
def untimed(app, users):
    with app.app_context():
        sample.load_sample()
        db.session.commit()
        return db.session.scalar(select(Interview.id).where(Interview.accession == "OH-SAMPLE-003"))


def test_align_the_sample_preview_accept_and_land_on_a_segment(app, page, untimed):
    truth = json.loads((sample.SAMPLE_DIR / "untimed_truth.json").read_text())
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{untimed}")
    assert page.locator("#tx-list a.time").count() == 0  # untimed
    page.click("button.align-button")
    page.wait_for_load_state()
    page.wait_for_selector("li.job[data-job-kind=align][data-job-status=queued]")

    assert jobs.run_pending(app, kinds=["align"]) == 1  # the worker's work, in this process
    page.wait_for_function(
        "() => { const b = document.querySelector('li.job[data-job-kind=align] progress');"
        " return b && b.value === 100; }",
        timeout=30_000,
    )
    page.wait_for_selector("li.job[data-job-kind=align][data-job-status=done] .job-result a")
    assert (
        "Done: proposed version 2"
        in page.locator("li.job[data-job-kind=align] .job-result").inner_text()
    )
    page.click("li.job[data-job-kind=align] .job-result a")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Proposed transcript, version 2"
    assert page.locator("tr.unaligned").count() == 0
    assert page.locator("tr.aligned").count() == len(truth["turns"])
    page.click("button.accept-proposed")
    page.wait_for_load_state()

    page.goto(f"{page.base}/interviews/{untimed}")
    page.wait_for_function("() => window.oralhistPlayer !== undefined")
    links = page.locator("#tx-list a.time")
    assert links.count() == len(truth["turns"])
    links.nth(3).click()
    want = truth["turns"][3]["start_ms"]
    page.wait_for_function(
        f"() => Math.abs(window.oralhistPlayer.currentMs() - {want}) < 1000", timeout=10_000
    )
    assert page.console_errors == []
    assert page.outside == []
