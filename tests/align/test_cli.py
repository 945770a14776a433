"""``oralhist align`` / ``oralhist transcribe``: in-process, with a progress bar, each result a
proposed version."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import Interview, Transcript
from tests import conftest

from .conftest import add_recording

pytest.importorskip("pocketsphinx")


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_align_by_accession_proposes_a_version(app, jfk_interview):
    interview_id, _ = jfk_interview
    with app.app_context():
        accession = db.session.get(Interview, interview_id).accession
    result = cli(app, "align", accession)
    assert result.exit_code == 0, result.output
    assert f"proposed version 2 of interview {interview_id}" in result.output
    with app.app_context():
        proposed = (
            db.session.query(Transcript).filter_by(interview_id=interview_id, version=2).one()
        )
        assert proposed.proposed and not proposed.is_current
        assert proposed.provenance["requested_via"] == "command line"


def test_all_untimed_finds_the_untimed_interview_and_nothing_after(app, jfk_interview):
    interview_id, _ = jfk_interview
    result = cli(app, "align", "--all-untimed")
    assert result.exit_code == 0, result.output
    assert f"Interview {interview_id}: proposed version 2" in result.output


def test_align_says_what_is_wrong(app, jfk_interview):
    assert "Give one INTERVIEW or --all-untimed" in cli(app, "align").output
    missing = cli(app, "align", "OH-NOPE")
    assert missing.exit_code != 0 and "No interview has the id or accession 'OH-NOPE'" in (
        missing.output
    )


def test_transcribe_makes_a_labelled_machine_draft(app, browser):
    owner = browser("contributor")
    interview_id = owner.post("/api/v1/interviews", json={"title": "No transcript"}).get_json()[
        "id"
    ]
    recording = add_recording(owner, interview_id, conftest.testdata("jfk-speech", "jfk.wav"))
    result = cli(app, "transcribe", "--all-untranscribed")
    assert result.exit_code == 0, result.output
    assert f"Recording {recording['id']}: proposed version 1" in result.output
    with app.app_context():
        draft = db.session.query(Transcript).filter_by(interview_id=interview_id).one()
        assert draft.proposed and not draft.is_current
        assert draft.provenance["machine_draft"] is True
        assert "Whisper" in draft.provenance["note"]
        words = [w[0] for s in draft.segments for w in s.words]
        # the recogniser is rough, but the speech is there and timed
        assert {"country", "you"} <= set(words)
        assert all(s.start_ms is not None and s.start_ms < s.end_ms for s in draft.segments)
        marked = [s.text for s in draft.segments if "[[" in s.text]
        low = draft.provenance["stats"]["low_confidence"]
        assert bool(marked) == (low > 0)
