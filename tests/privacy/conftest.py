"""An archive in which one narrator asked to be anonymised and one passage is redacted: an
open interview in a collection, with a recording, a timed transcript, an index and a linked
document; the anonymised narrator's marker name sits in its title, summary, index and
speaker; a redaction covers the segment holding a marker word."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from oralhist.extensions import db
from tests.interop.conftest import ARCHIVIST, clock, live_url  # noqa: F401

#: The anonymised narrator's real name: nobody but archivists may see it tied to the interview.
NAME = "Zebulon Quimbyfax"
SURNAME = "Quimbyfax"
#: A word inside the redacted passage.
WORD = "Xylomarkerword"
VTT = f"""WEBVTT

00:00:00.000 --> 00:00:00.400
<v {NAME}>We worked by Lanternlight in the pit.

00:00:00.400 --> 00:00:00.900
<v Interviewer>And the {WORD} by the tip?
"""
#: Every role that is not an archivist (contributor owns the interview).
ROLES = (None, "researcher", "contributor", "contributor2")


@dataclass
class Private:
    interview: int
    person: int
    participant: int
    redaction: int
    document: int
    recording: int
    collection: str = "miners"


@pytest.fixture
def private(app, users, clock, browser) -> Private:  # noqa: F811
    """See the module docstring: published open, in collection "miners", with a recording,
    a transcript and an index, a linked open document; ``NAME`` anonymised, ``WORD``
    redacted; the contributor owns the interview."""
    import io

    from oralhist.models import Speaker
    from oralhist.services import catalogue, consent, documents, mentions, recordings, transcripts
    from tests.interop.conftest import _index_point
    from tests.recordings.conftest import wav_bytes

    with app.test_request_context():
        miners = catalogue.save_collection(
            ARCHIVIST, {"slug": "miners", "title": "Miners of the valley"}
        )
        person = catalogue.save_person(ARCHIVIST, {"name": NAME, "biography": "A miner."})
        other = catalogue.save_person(ARCHIVIST, {"name": "Ada Pellow"})
        interviewer = catalogue.save_person(ARCHIVIST, {"name": "Cai Morgan"})
        db.session.flush()
        interview = catalogue.save_interview(
            ARCHIVIST,
            {
                "title": f"Down the pit with {NAME}",
                "summary": f"{NAME} remembers the lamps.",
                "place": "Merthyr",
                # the OHMS record's fields (issue 13) name the narrator too
                "subjects": [f"{NAME} (1901-1980)", "Coal mines and mining"],
                "keywords": [f"{SURNAME} family", "lamps"],
                "usage": f"Cite as: interview with {NAME}.",
                "funding": f"The {SURNAME} Trust.",
                "date_recorded": "1957-03",
                "collection_id": miners.id,
                "access_level": "open",
                "participants": [
                    {"person_id": person.id, "role": "interviewee"},
                    {"person_id": other.id, "role": "interviewee"},
                    {"person_id": interviewer.id, "role": "interviewer"},
                ],
            },
        )
        interview.created_by_id = users["contributor"]
        recording = recordings.add_recording(
            ARCHIVIST, interview, io.BytesIO(wav_bytes(1.0)), "pit.wav"
        )
        transcripts.import_transcript(
            ARCHIVIST,
            interview,
            VTT.encode(),
            "pit.vtt",
            index_points=[_index_point("Lamps", "mining lamps", 0, f"{NAME} on the lamps.")],
        )
        for speaker in db.session.query(Speaker).filter_by(interview_id=interview.id):
            if speaker.label == NAME:
                speaker.person_id = person.id
        for participant in interview.participants:
            if participant.role == "interviewee":
                consent.save_agreement(
                    ARCHIVIST,
                    interview,
                    participant.id,
                    {
                        "status": "signed",
                        "signed_on": "2030-01-05",
                        "anonymise": participant.person_id == person.id,
                    },
                )
        catalogue.publish(ARCHIVIST, interview)
        doc = documents.save_document(
            ARCHIVIST, {"title": "Strike pamphlet 1957", "access_level": "open"}
        )
        db.session.flush()
        mentions.add_mention(ARCHIVIST, doc, interview, 0, 900, "About the lamps.")
        participant = next(p for p in interview.participants if p.person_id == person.id)
        db.session.commit()
        ids = (interview.id, person.id, participant.id, doc.id, recording.id)
    made = browser("archivist").post(
        f"/api/v1/interviews/{ids[0]}/redactions",
        json={"start_ms": 400, "end_ms": 900, "reason": "third party"},
    )
    assert made.status_code == 201, made.json
    return Private(
        interview=ids[0],
        person=ids[1],
        participant=ids[2],
        redaction=made.json["id"],
        document=ids[3],
        recording=ids[4],
    )


def leaks(text: str) -> list[str]:
    """The markers ``text`` holds."""
    return [m for m in (SURNAME, WORD) if m.lower() in text.lower()]


def leaks_by_role(browser, urls) -> list[tuple]:
    """``(role, url, status, markers)`` for every response to a non-archivist role (``ROLES``)
    that holds a marker; no response may be a 500."""
    found = []
    for role in ROLES:
        client = browser(role)
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (role, url)
            hits = leaks(response.get_data(as_text=True))
            if hits:
                found.append((role, url, response.status_code, hits))
    return found
