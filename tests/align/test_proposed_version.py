"""From the database to a proposed version and back: the alignment of the JFK interview is
stored as a proposed version (never current by itself) with its provenance, previewed with a
diff for its editors only, accepted through the ordinary restore, and its words appear in the
transcript JSON. The contributor is told in the app and by mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from oralhist.align import runner
from oralhist.extensions import db
from oralhist.models import Interview, Notification, Transcript
from oralhist.transaction import unit_of_work

from .conftest import FIRST, SECOND

pytest.importorskip("pocketsphinx")


def align_now(app, interview_id: int, user_id: int | None) -> int:
    with app.app_context():
        computed = runner.compute_alignment(interview_id, lambda p, s: None)
        with unit_of_work():
            version = runner.save(computed, user_id).version
        return version


def test_alignment_becomes_a_proposed_version_with_provenance(app, users, jfk_interview):
    interview_id, _ = jfk_interview
    version = align_now(app, interview_id, users["contributor"])
    with app.app_context():
        interview = db.session.get(Interview, interview_id)
        assert interview.current_transcript.version == 1  # unchanged
        proposed = db.session.query(Transcript).filter_by(version=version).one()
        assert (proposed.proposed, proposed.is_current) == (True, False)
        p = proposed.provenance
        assert p["engine"] == "pocketsphinx" and p["engine_version"]
        assert p["model"].startswith("cmusphinx en-us")
        assert p["base_version"] == 1 and p["level"] == "words"
        assert p["unaligned"] == [] and p["requested_by_id"] is None
        assert "beam" in p["settings"]
        # English: anchored aeneas' way first (eSpeak NG speaks it), recorded as such
        assert p["settings"]["anchoring"] == "synthesis"
        assert p["settings"]["synthesis_engine"].startswith("espeak-ng")
        segments = proposed.segments
        assert [s.text for s in segments] == [FIRST, SECOND]
        assert all(s.start_ms is not None and s.words for s in segments)
        assert segments[0].speaker_id == interview.current_transcript.segments[0].speaker_id
        # the contributor is told, in the app and by mail (sent after the commit)
        notes = db.session.query(Notification).filter_by(user_id=users["contributor"]).all()
        assert any(f"version {version}" in n.message for n in notes)
    outbox = list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert any("Proposed transcript ready" in f.read_text() for f in outbox)


ROLES = ("anon", "researcher", "contributor", "contributor2", "archivist")


def test_preview_for_editors_only_and_accept_by_restore(app, browser, users, jfk_interview):
    interview_id, _ = jfk_interview
    version = align_now(app, interview_id, users["contributor"])
    url = f"/api/v1/interviews/{interview_id}/transcripts/{version}/preview"
    page = f"/interviews/{interview_id}/transcript/versions/{version}/preview"
    expected = {
        "anon": 404,
        "researcher": 404,
        "contributor": 200,
        "contributor2": 404,
        "archivist": 200,
    }
    for role in ROLES:
        client = browser(None if role == "anon" else role)
        assert client.get(url).status_code == expected[role], role
        answer = client.get(page)
        assert answer.status_code == expected[role], role
        if expected[role] != 200:
            assert "ALIGNMARKER" not in answer.get_data(as_text=True)
    owner = browser("contributor")
    data = owner.get(url).get_json()
    assert data["proposed"] is True and data["against_version"] == 1
    assert [s["aligned"] for s in data["segments"]] == [True, True]
    assert all(s["changed"] and s["before"]["start_ms"] is None for s in data["segments"])
    html = owner.get(page).get_data(as_text=True)
    assert "Accept as the current transcript" in html and "untimed" in html
    # the page lists the proposal on the interview page
    assert f"Version {version}" in owner.get(f"/interviews/{interview_id}").get_data(as_text=True)

    # a reader does not see a proposed version's text in the transcript
    accepted = owner.post(data["accept_url"])
    assert accepted.status_code == 200
    assert accepted.get_json()["proposed"] is False and accepted.get_json()["is_current"]
    transcript = owner.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert len(words) == len((FIRST + " " + SECOND).split())
    assert set(words[0]) >= {"text", "start_ms", "end_ms", "confidence"}
    assert transcript["segments"][1]["start_ms"] > 7000


def test_no_acoustic_model_is_said_plainly(app, browser, jfk_interview):
    interview_id, _ = jfk_interview
    browser("archivist").patch(f"/api/v1/interviews/{interview_id}", json={"language": "yo"})
    with app.app_context():
        db.session.get(Interview, interview_id).current_transcript.language = "yo"
        db.session.commit()
        from oralhist.errors import ValidationError

        with pytest.raises(ValidationError, match="no acoustic model for Yoruba"):
            runner.compute_alignment(interview_id, lambda p, s: None)
