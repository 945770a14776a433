"""The job path for a language with no acoustic model: a Welsh interview (audio made in the
test with eSpeak NG, see ``speech``) is aligned by the ``align`` job at segment level: a
proposed version with segment times and no word times, the level stated in its provenance,
in the job's result and on the preview; accepted through the ordinary restore."""

from __future__ import annotations

import io

from oralhist import jobs
from oralhist.extensions import db
from oralhist.models import Interview
from tests.align import speech

WELSH_TEXT = "\n\n".join(f"ATEB: {t}" for t in speech.WELSH) + "\n"


def _welsh_interview(app, browser) -> tuple[int, list[int]]:
    owner = browser("contributor")
    made = owner.post(
        "/api/v1/interviews", json={"title": "Pwll glo ALIGNMARKER", "language": "cy"}
    )
    assert made.status_code == 201, made.get_json()
    interview_id = made.get_json()["id"]
    samples, onsets = speech.recording()
    answer = owner.post(
        f"/api/v1/interviews/{interview_id}/recordings",
        data={"file": (io.BytesIO(speech.flac_bytes(samples)), "pwll.flac")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    answer = owner.post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data={"file": (io.BytesIO(WELSH_TEXT.encode()), "pwll.txt")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        db.session.get(Interview, interview_id).current_transcript.language = "cy"
        db.session.commit()
    return interview_id, onsets


def test_welsh_gets_segment_times_only_through_the_job(app, browser):
    interview_id, onsets = _welsh_interview(app, browser)
    owner = browser("contributor")
    started = owner.post(f"/api/v1/interviews/{interview_id}/align")
    assert started.status_code == 202, started.get_json()
    jobs.run_pending(app)  # the upload's derivatives too
    job = owner.get(f"/api/v1/jobs/{started.get_json()['id']}").get_json()
    assert job["status"] == "done", job
    result = job["result"]
    assert result["level"] == "segments"
    assert result["aligned_segments"] == len(speech.WELSH)
    version = result["version"]

    html = owner.get(f"/interviews/{interview_id}/transcript/versions/{version}/preview").get_data(
        as_text=True
    )
    assert "segment times only: no acoustic model for Welsh" in html
    assert "espeak-ng" in html

    restored = owner.post(f"/api/v1/interviews/{interview_id}/transcripts/{version}/restore")
    assert restored.status_code == 200, restored.get_json()
    transcript = owner.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    segments = transcript["segments"]
    assert [s["text"] for s in segments] == speech.WELSH
    for segment, onset in zip(segments, onsets, strict=True):
        assert abs(segment["start_ms"] - onset) <= 150, (segment, onset)
        assert segment["end_ms"] > segment["start_ms"]
        assert not segment.get("words")  # never word times without an acoustic model
    versions = owner.get(f"/api/v1/interviews/{interview_id}/transcripts").get_json()["items"]
    current = next(v for v in versions if v["version"] == version)
    assert current["is_current"] is True


def test_the_provenance_states_the_level(app, browser):
    interview_id, _ = _welsh_interview(app, browser)
    from oralhist.align import runner

    with app.app_context():
        computed = runner.compute_alignment(interview_id, lambda p, s: None)
    provenance = computed.provenance
    assert provenance["level"] == "segments"
    assert provenance["level_note"] == "segment times only: no acoustic model for Welsh"
    assert provenance["engine"].startswith("espeak-ng")
    assert provenance["model"] == "eSpeak NG voice cy"
    assert provenance["settings"]["hop_ms"] == 40
    assert computed.result.level == "segments"
