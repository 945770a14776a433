"""The deposit starts the right job by itself and tells the depositor, in the app and by
mail, once, when the proposed transcript is ready (#14 item 5). The align area's real
handlers are replaced by stubs here (what they compute is tested in that area)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import DepositJob, Interview, Notification

from ..recordings.conftest import wav_bytes
from .conftest import TIMED_VTT, UNTIMED_TXT, deposit_form, stage

jobs = pytest.importorskip("oralhist.jobs")


def stub_handlers(jobs_module, monkeypatch) -> None:
    """``align`` (exclusive, as the align area registers it) and ``transcribe`` handlers that
    report progress and finish with a result naming a version, without computing anything."""
    registry = jobs_module.load_handlers()

    def run(job, ctx) -> None:
        ctx.progress(50, "Halfway")
        with ctx.finish() as done:
            done.result = {"version": 2}

    for kind, exclusive, title in (
        ("align", True, "Aligning the transcript to the audio"),
        ("transcribe", False, "Transcribing the recording"),
    ):
        known = registry.get(kind)
        monkeypatch.setitem(
            registry,
            kind,
            jobs_module.Handler(
                kind, run, known.exclusive if known else exclusive, known.title if known else title
            ),
        )


@pytest.fixture
def stubs(monkeypatch):
    stub_handlers(jobs, monkeypatch)


def _jobs(app):
    """The transcript jobs a deposit started (its audio's access copies and waveforms are
    the ingest's, checked by ``test_deposited_audio_gets_its_derivatives``)."""
    from oralhist.models import Job

    with app.app_context():
        return [
            (j.kind, j.interview_id, j.recording_id, j.status)
            for j in db.session.scalars(select(Job).order_by(Job.id))
            if not j.kind.startswith("derivative.")
        ]


def _derivative_jobs(app) -> list[tuple[str, int]]:
    from oralhist.models import Job

    with app.app_context():
        return sorted(
            (j.kind, j.recording_id)
            for j in db.session.scalars(select(Job))
            if j.kind.startswith("derivative.")
        )


def _outbox(app):
    from pathlib import Path

    folder = Path(app.config["OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_an_untimed_transcript_is_aligned_and_the_depositor_told_once(
    app, users, contributor, stubs
):
    staged = stage(contributor).json["items"][0]
    response = deposit_form(
        contributor, [staged["id"]], transcript=("typed.txt", UNTIMED_TXT.encode())
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with app.app_context():
        iid = db.session.scalar(select(Interview.id))
    assert _jobs(app) == [("align", iid, None, "queued")]
    page = contributor.get(f"/interviews/{iid}").get_data(as_text=True)
    assert "aligning the transcript to the audio" in page
    before = set(_outbox(app))
    jobs.run_pending(app)
    assert _jobs(app) == [("align", iid, None, "done")]
    with app.app_context():
        (notice,) = db.session.scalars(select(Notification)).all()
        assert notice.user_id == users["contributor"]
        assert "aligned to the audio" in notice.message and notice.url == f"/interviews/{iid}"
        assert db.session.scalar(select(DepositJob)).notified_at is not None
    mails = [p for p in _outbox(app) if p not in before]
    assert len(mails) == 1
    text = mails[0].read_text()
    assert "To: contributor@example.org" in text and "Proposed transcript ready" in text
    # Later commits that touch jobs do not announce it again.
    jobs.run_pending(app)
    with app.app_context():
        assert db.session.query(Notification).count() == 1


def test_no_transcript_means_each_part_is_transcribed(app, users, contributor, stubs):
    first = stage(contributor, wav_bytes(2.0, freq=300), "a.wav").json["items"][0]
    second = stage(contributor, wav_bytes(2.0, freq=600), "b.wav").json["items"][0]
    response = deposit_form(contributor, [first["id"], second["id"]])
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    kinds = [kind for kind, *_ in _jobs(app)]
    handler = jobs.load_handlers()["transcribe"]
    if handler.exclusive:  # one transcription of an interview at a time: the first part
        assert kinds == ["transcribe"]
    else:
        assert kinds == ["transcribe", "transcribe"]
        assert len({recording for _k, _i, recording, _s in _jobs(app)}) == 2
    jobs.run_pending(app)
    with app.app_context():
        messages = [n.message for n in db.session.scalars(select(Notification))]
    assert messages and all("machine draft transcript is ready" in m for m in messages)


def test_deposited_audio_gets_its_derivatives(app, contributor, stubs):
    """Every deposited part is ingested like any upload: an access copy and a waveform."""
    from oralhist.models import Recording

    first = stage(contributor, wav_bytes(2.0, freq=300), "a.wav").json["items"][0]
    second = stage(contributor, wav_bytes(2.0, freq=600), "b.wav").json["items"][0]
    response = deposit_form(contributor, [first["id"], second["id"]])
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with app.app_context():
        parts = sorted(db.session.scalars(select(Recording.id)))
    assert len(parts) == 2
    assert _derivative_jobs(app) == sorted(
        (kind, rid) for rid in parts for kind in ("derivative.access", "derivative.waveform")
    )


def test_a_timed_transcript_needs_no_job(app, contributor, stubs):
    staged = stage(contributor).json["items"][0]
    deposit_form(contributor, [staged["id"]], transcript=("t.vtt", TIMED_VTT.encode()))
    assert _jobs(app) == []


def test_a_job_that_is_not_a_deposits_tells_nobody_here(app, browser, contributor, stubs):
    staged = stage(contributor).json["items"][0]
    deposit_form(contributor, [staged["id"]], transcript=("t.vtt", TIMED_VTT.encode()))
    with app.test_request_context():
        from oralhist.access import load_viewer
        from oralhist.models import User
        from oralhist.transaction import unit_of_work

        with unit_of_work():
            interview = db.session.scalar(select(Interview))
            archivist = db.session.scalar(select(User).where(User.role == "archivist"))
            jobs.enqueue("align", interview=interview, user=load_viewer(archivist))
    jobs.run_pending(app)
    with app.app_context():
        assert db.session.query(Notification).count() == 0


def test_without_an_engine_the_deposit_stands_and_says_so(app, contributor, monkeypatch):
    registry = jobs.load_handlers()
    monkeypatch.delitem(registry, "align", raising=False)
    staged = stage(contributor).json["items"][0]
    response = deposit_form(
        contributor, [staged["id"]], transcript=("typed.txt", UNTIMED_TXT.encode())
    )
    assert response.status_code == 302
    assert _jobs(app) == []
    page = contributor.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot align transcripts by itself yet" in page


def test_the_home_page_points_to_the_notice(app, contributor, stubs):
    staged = stage(contributor).json["items"][0]
    deposit_form(contributor, [staged["id"]], transcript=("typed.txt", UNTIMED_TXT.encode()))
    assert "unread notification" not in contributor.get("/").get_data(as_text=True)
    jobs.run_pending(app)
    home = contributor.get("/").get_data(as_text=True)
    assert "You have 1 unread notification</a>" in home


def test_a_handler_that_tells_the_depositor_itself_is_not_doubled(
    app, users, contributor, monkeypatch
):
    from oralhist.models import User
    from oralhist.services import notify

    def run(job, ctx) -> None:
        with ctx.finish() as done:
            user = db.session.get(User, job.created_by_id)
            notify.notify(user, "Ready (from the handler).", "/", subject="Ready", body="Ready.")
            done.result = {"version": 2}

    registry = jobs.load_handlers()
    monkeypatch.setitem(registry, "align", jobs.Handler("align", run, True, "Aligning"))
    staged = stage(contributor).json["items"][0]
    deposit_form(contributor, [staged["id"]], transcript=("typed.txt", UNTIMED_TXT.encode()))
    jobs.run_pending(app)
    with app.app_context():
        messages = [n.message for n in db.session.scalars(select(Notification))]
        assert messages == ["Ready (from the handler)."]
        assert db.session.scalar(select(DepositJob)).notified_at is not None
