"""The one-step deposit (#14 item 5): staged audio, the form saved as one unit of work, a bad
transcript refusing everything while the audio and the typed fields are kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import AuditEvent, Interview, Person, Recording, StagedAudio, Transcript
from oralhist.services import deposit as service

from ..recordings.conftest import media_files, wav_bytes
from .conftest import BAD_SRT, TIMED_VTT, deposit_form, stage, staged_count

# --- transcript_timing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([], "untimed"),
        ([(None, None), (None, None)], "untimed"),
        ([(0, 2000), (2000, 5000), (5000, 9000)], "timed"),
        ([(0, None), (3000, None), (7000, 9000)], "timed"),  # ends from the next start
        ([(0, 60_000), (60_000, 120_000), (120_000, 180_000)], "rough"),  # OHMS minute syncs
        ([(0, None), (None, None), (240_000, None), (None, None)], "rough"),  # [hh:mm:ss] marks
        ([(0, 4000), (None, None)], "rough"),
    ],
)
def test_transcript_timing(times, expected):
    assert service.transcript_timing(times) == expected


# --- staging audio --------------------------------------------------------------------------


def test_staged_audio_is_the_uploaders_own(app, browser, contributor):
    response = stage(contributor)
    assert response.status_code == 201, response.get_data(as_text=True)
    (item,) = response.json["items"]
    assert item["original_filename"] == "tape1.wav" and 2900 < item["duration_ms"] < 3100
    assert contributor.get("/api/v1/deposit/audio").json["items"][0]["id"] == item["id"]
    other = browser("contributor2")
    assert other.get("/api/v1/deposit/audio").json["items"] == []
    assert other.delete(f"/api/v1/deposit/audio/{item['id']}").status_code == 404
    assert staged_count(app) == 1
    assert contributor.delete(f"/api/v1/deposit/audio/{item['id']}").status_code == 204
    assert staged_count(app) == 0
    assert [p for p in media_files(app) if "tmp" not in p.parts] == []  # nothing else used it


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("researcher", 403)])
def test_only_depositors_stage_audio(app, browser, role, status):
    client = browser(role)
    if role is None:
        client.csrf = None
    response = stage(client)
    assert response.status_code == status
    assert staged_count(app) == 0


def test_a_file_that_is_not_audio_is_refused_by_name(app, contributor):
    response = stage(contributor, b"this is not audio at all" * 100, "notes.mp3")
    assert response.status_code in (415, 422)
    assert "notes.mp3" in response.json["error"]["message"]
    assert staged_count(app) == 0
    assert [p for p in media_files(app) if "tmp" not in p.parts] == []


def test_staging_without_javascript_comes_back_to_the_form(app, contributor):
    from ..recordings.conftest import multipart_body

    body, ctype = multipart_body(
        {"csrf_token": contributor.token()}, wav_bytes(2.0), "side-a.wav", "audio/wav"
    )
    response = contributor.client.post("/deposit/audio", data=body, content_type=ctype)
    assert response.status_code == 302 and response.headers["Location"].endswith("/deposit#audio")
    page = contributor.get("/deposit").get_data(as_text=True)
    assert "side-a.wav" in page and 'name="staged"' in page


# --- the deposit ----------------------------------------------------------------------------


def test_deposit_saves_everything_in_one_step(app, users, contributor):
    first = stage(contributor, wav_bytes(3.0, freq=300), "tape1-side-a.wav").json["items"][0]
    second = stage(contributor, wav_bytes(2.0, freq=500), "tape1-side-b.wav").json["items"][0]
    with app.app_context():
        existing = Person(name="Ruth Adler", sort_name="Adler, Ruth")
        db.session.add(existing)
        db.session.commit()
        adler = existing.id
    response = deposit_form(
        contributor,
        [first["id"], second["id"]],
        transcript=("interview.vtt", TIMED_VTT.encode()),
        people=(("", "Mary Smith", "interviewee"), (str(adler), "Ruth Adler", "interviewer")),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        assert response.headers["Location"].endswith(f"/interviews/{interview.id}")
        assert interview.status == "draft" and interview.created_by_id == users["contributor"]
        assert interview.date_recorded == "1957-03" and interview.access_level == "open"
        parts = [r.original_filename for r in interview.recordings]
        assert parts == ["tape1-side-a.wav", "tape1-side-b.wav"]
        assert [r.position for r in interview.recordings] == [0, 1]
        roles = [(p.person.name, p.role) for p in interview.participants]
        assert roles == [("Mary Smith", "interviewee"), ("Ruth Adler", "interviewer")]
        assert interview.participants[1].person_id == adler  # chosen, not duplicated
        assert db.session.query(Person).count() == 2
        transcript = db.session.scalar(select(Transcript))
        assert transcript.is_current and transcript.segment_count == 2
        assert db.session.query(StagedAudio).count() == 0
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "interview.deposit")
        )
        assert event.details["recordings"] == 2 and event.details["timing"] == "timed"
        assert event.details["jobs"] == []
    page = contributor.get(response.headers["Location"]).get_data(as_text=True)
    assert "already time-coded" in page
    assert "tape1-side-b.wav" in page


def test_a_bad_transcript_refuses_the_whole_deposit_and_keeps_the_audio(app, contributor):
    staged = stage(contributor).json["items"][0]
    response = deposit_form(
        contributor,
        [staged["id"]],
        title="Kept TITLEMARKER",
        transcript=("broken.srt", BAD_SRT.encode()),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "broken.srt" in page and "line 6" in page
    assert "Your audio is kept" in page and "Choose the file again" in page
    assert 'value="Kept TITLEMARKER"' in page  # what was typed comes back
    assert 'value="Mary Smith"' in page and 'value="1957-03"' in page
    assert f'name="staged" value="{staged["id"]}" checked' in page
    with app.app_context():
        assert db.session.query(Interview).count() == 0
        assert db.session.query(Recording).count() == 0
        assert db.session.query(Person).count() == 0  # the new names were not kept either
        assert db.session.query(StagedAudio).count() == 1
    again = deposit_form(contributor, [staged["id"]], transcript=("fixed.vtt", TIMED_VTT.encode()))
    assert again.status_code == 302
    with app.app_context():
        assert db.session.query(Recording).count() == 1


def test_a_deposit_needs_its_audio(app, contributor):
    response = deposit_form(contributor, [], transcript=("t.vtt", TIMED_VTT.encode()))
    assert response.status_code == 422
    assert "Add the recording" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Interview).count() == 0


def test_someone_elses_staged_audio_cannot_be_deposited(app, browser, contributor):
    theirs = stage(browser("contributor2")).json["items"][0]
    response = deposit_form(contributor, [theirs["id"]])
    assert response.status_code == 422
    assert "upload it again" in response.get_data(as_text=True)
    assert staged_count(app) == 1


def test_a_missing_title_keeps_everything_else(app, contributor):
    staged = stage(contributor).json["items"][0]
    response = deposit_form(contributor, [staged["id"]], title="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Title" in page and 'value="Mary Smith"' in page
    assert staged_count(app) == 1


@pytest.mark.parametrize(("role", "status"), [(None, 302), ("researcher", 403)])
def test_the_deposit_page_is_for_depositors(app, browser, role, status):
    assert browser(role).get("/deposit").status_code == status


def test_old_staged_audio_is_swept_with_its_file(app, contributor):
    stage(contributor)
    with app.app_context():
        row = db.session.scalar(select(StagedAudio))
        row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=service.staged_hours() + 1)
        db.session.commit()
    with app.test_request_context():
        from oralhist.transaction import unit_of_work

        with unit_of_work():
            assert service.sweep_staged() == 1
    assert staged_count(app) == 0
    assert [p for p in media_files(app) if "tmp" not in p.parts] == []


def test_fixity_counts_staged_audio_as_used(app, contributor):
    stage(contributor)
    result = app.test_cli_runner().invoke(args=["fixity"])
    assert result.exit_code == 0, result.output
    assert "Checked 1 files: 0 missing, 0 changed, 0 orphans" in result.output
