"""The ``align`` and ``transcribe`` jobs through the API and the pages: who may start them,
the job from 202 to done (enqueue -> run_pending -> proposed version -> restore), one job per
interview at a time, and the errors a person can act on."""

from __future__ import annotations

import pytest

from oralhist import jobs

from .conftest import FIRST, SECOND

pytest.importorskip("pocketsphinx")

ROLES = ("anon", "researcher", "contributor", "contributor2", "archivist")


def client_for(browser, role):
    return browser(None if role == "anon" else role)


def cancel(browser, job_id):
    answer = browser("archivist").post(f"/api/v1/jobs/{job_id}/cancel")
    assert answer.status_code in (200, 202), answer.get_json()


@pytest.mark.parametrize("kind", ["align", "transcribe"])
def test_who_may_start_a_job_on_a_draft(browser, jfk_interview, kind):
    interview_id, recording_id = jfk_interview
    url = (
        f"/api/v1/interviews/{interview_id}/align"
        if kind == "align"
        else f"/api/v1/recordings/{recording_id}/transcribe"
    )
    expected = {
        "anon": 401,
        "researcher": 404,
        "contributor": 202,
        "contributor2": 404,
        "archivist": 202,
    }
    for role in ROLES:
        answer = client_for(browser, role).post(url)
        assert answer.status_code == expected[role], (role, answer.get_json())
        body = answer.get_data(as_text=True)
        if answer.status_code == 202:
            job = answer.get_json()
            assert job["kind"] == kind and job["status"] == "queued"
            assert job["interview_id"] == interview_id
            assert answer.headers["Location"] == f"/api/v1/jobs/{job['id']}"
            cancel(browser, job["id"])
        else:
            assert "ALIGNMARKER" not in body


def test_on_a_published_interview_only_archivists_start_it(browser, jfk_interview):
    interview_id, _ = jfk_interview
    assert (
        browser("archivist").post(f"/api/v1/interviews/{interview_id}/publish").status_code == 200
    )
    expected = {
        "anon": 401,
        "researcher": 403,
        "contributor": 403,
        "contributor2": 403,
        "archivist": 202,
    }
    for role in ROLES:
        answer = client_for(browser, role).post(f"/api/v1/interviews/{interview_id}/align")
        assert answer.status_code == expected[role], (role, answer.get_json())


def test_align_job_end_to_end_then_accept(app, browser, jfk_interview):
    interview_id, _ = jfk_interview
    owner = browser("contributor")
    started = owner.post(f"/api/v1/interviews/{interview_id}/align")
    assert started.status_code == 202
    job_id = started.get_json()["id"]
    # one job per interview at a time
    second = owner.post(f"/api/v1/interviews/{interview_id}/align")
    assert second.status_code == 409 and str(job_id) in second.get_data(as_text=True)

    assert jobs.run_pending(app, kinds=["align"]) == 1
    job = owner.get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["status"] == "done", job
    assert job["progress"] == 100
    version = job["result"]["version"]
    assert job["result"]["unaligned"] == 0 and job["result"]["words"] == 22

    # still the old transcript until accepted
    current = owner.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert all(s["start_ms"] is None for s in current["segments"])
    preview = owner.get(f"/api/v1/interviews/{interview_id}/transcripts/{version}/preview")
    data = preview.get_json()
    assert data["provenance"]["job_id"] == job_id
    assert data["provenance"]["requested_by_id"] is not None
    assert owner.post(data["accept_url"]).status_code == 200
    current = owner.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert [s["text"] for s in current["segments"]] == [FIRST, SECOND]
    assert all(s["start_ms"] is not None and s["words"] for s in current["segments"])
    # the contributor's notice links to the preview
    account = owner.get("/account/").get_data(as_text=True)
    assert f"is ready to check (version {version})" in account


def test_transcribe_job_makes_a_machine_draft(app, browser):
    from tests import conftest

    from .conftest import add_recording

    owner = browser("contributor")
    made = owner.post("/api/v1/interviews", json={"title": "Untranscribed"}).get_json()
    recording = add_recording(owner, made["id"], conftest.testdata("jfk-speech", "jfk.opus"))
    page = owner.get(f"/interviews/{made['id']}").get_data(as_text=True)
    assert "Transcribe" in page and "Whisper" in page
    started = owner.post(f"/api/v1/recordings/{recording['id']}/transcribe")
    assert started.status_code == 202
    jobs.run_pending(app)
    job = owner.get(f"/api/v1/jobs/{started.get_json()['id']}").get_json()
    assert job["status"] == "done", job
    assert job["result"]["machine_draft"] is True
    versions = owner.get(f"/api/v1/interviews/{made['id']}/transcripts").get_json()["items"]
    assert versions[0]["proposed"] is True and versions[0]["is_current"] is False
    html = owner.get(
        f"/interviews/{made['id']}/transcript/versions/{job['result']['version']}/preview"
    ).get_data(as_text=True)
    assert "Machine draft." in html and "Whisper" in html


def test_nothing_to_align_is_a_clear_422(browser):
    owner = browser("contributor")
    made = owner.post("/api/v1/interviews", json={"title": "Empty"}).get_json()
    answer = owner.post(f"/api/v1/interviews/{made['id']}/align")
    assert answer.status_code == 422
    assert "no transcript to align" in answer.get_json()["error"]["message"]


def test_a_language_without_a_model_or_a_voice_fails_the_job_saying_so(app, browser, jfk_interview):
    interview_id, _ = jfk_interview
    owner = browser("contributor")
    assert (
        owner.patch(f"/api/v1/interviews/{interview_id}", json={"language": "yo"}).status_code
        == 200
    )
    from oralhist.extensions import db
    from oralhist.models import Interview

    with app.app_context():
        db.session.get(Interview, interview_id).current_transcript.language = "yo"
        db.session.commit()
    job_id = owner.post(f"/api/v1/interviews/{interview_id}/align").get_json()["id"]
    jobs.run_pending(app)
    job = owner.get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["status"] == "failed"
    assert "no acoustic model for Yoruba" in job["error"]
    assert "eSpeak NG does not speak it" in job["error"]


def test_the_page_button_starts_the_job_for_editors_only(app, browser, jfk_interview):
    interview_id, _ = jfk_interview
    owner = browser("contributor")
    page = owner.get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert "Align to the audio" in page
    for role in ("anon", "researcher", "contributor2"):
        assert "Align to the audio" not in client_for(browser, role).get(
            f"/interviews/{interview_id}"
        ).get_data(as_text=True)
    answer = owner.post(f"/interviews/{interview_id}/align", data={})
    assert answer.status_code == 302
    assert (
        browser("contributor2").post(f"/interviews/{interview_id}/align", data={}).status_code
        == 404
    )
    assert jobs.run_pending(app, kinds=["align"]) == 1
