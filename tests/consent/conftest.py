"""An archive with one published interview whose narrator is a marker name and whose
transcript holds a marker word: what redaction and anonymisation must withhold."""

from __future__ import annotations

import datetime as dt

import pytest

from oralhist.extensions import db
from tests.conftest import world_scope

NAME = "Zebulon Quimbyfax"
WORD = "xylomarkerword"
VTT = f"""WEBVTT

00:00:00.000 --> 00:00:04.000
<v Interviewer>Good morning, tell me about the harbour.

00:00:10.000 --> 00:00:14.000
<v {NAME}>The secret was {WORD} and nobody knew it.

00:00:20.000 --> 00:00:24.000
<v {NAME}>We went down to the harbour every day.
"""

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr("oralhist.access.clock", c)
    return c


@pytest.fixture
def archive(app, users, clock):
    """``{"interview", "narrator", "participant"}`` ids: published open, narrator signed."""
    return make_archive(app, users)


@pytest.fixture(scope=world_scope)
def consent_world(world_app, world_users) -> dict:
    """``make_archive`` at T0, once for a module that takes it as its world
    (tests/savepoints.py): it overrides ``users`` and ``archive`` (asking for ``clock``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("oralhist.access.clock", Clock(T0))
        return make_archive(world_app, world_users)


def make_archive(app, users) -> dict[str, int]:
    from oralhist.access import load_viewer
    from oralhist.models import Speaker, User
    from oralhist.services import catalogue, consent, transcripts

    with app.test_request_context():
        archivist = load_viewer(db.session.get(User, users["archivist"]))
        narrator = catalogue.save_person(archivist, {"name": NAME})
        interviewer = catalogue.save_person(archivist, {"name": "Ruth Adler"})
        interview = catalogue.save_interview(
            archivist,
            {
                "title": "Harbour days",
                "summary": f"{NAME} remembers the harbour.",
                "access_level": "open",
                "participants": [
                    {"person_id": narrator.id, "role": "interviewee"},
                    {"person_id": interviewer.id, "role": "interviewer"},
                ],
            },
        )
        interview.created_by_id = users["contributor"]
        transcripts.import_transcript(archivist, interview, VTT.encode(), "t.vtt")
        for speaker in db.session.query(Speaker).filter_by(interview_id=interview.id):
            if speaker.label == NAME:
                speaker.person_id = narrator.id
        participant = interview.participants[0]
        consent.save_agreement(
            archivist,
            interview,
            participant.id,
            {"status": "signed", "signed_on": "2026-01-05"},
        )
        catalogue.publish(archivist, interview)
        db.session.commit()
        return {
            "interview": interview.id,
            "narrator": narrator.id,
            "participant": participant.id,
        }
