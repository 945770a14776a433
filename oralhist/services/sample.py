"""The small, clearly fictional sample archive that ``make run`` loads into an empty archive.

Everything in it is invented, except the catalogue entry of one real document, the 1957
pamphlet "Why we Left the Communist Party" (Nottingham Marxist Group), which is described
by its title and publisher only. The sample interview's audio is spoken by synthetic voices
(see ``oralhist/sample/README.md``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select

from ..access.policy import Viewer
from ..extensions import db
from ..models import Collection, Document, Interview, Person
from . import catalogue, consent

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample"
#: The sample is loaded as if by an archivist, without a user account.
LOADER = Viewer(user_id=None, role="archivist")

FICTION = (
    "A fictional sample for the oralhist demonstration archive: the people, their words and "
    "their voices are invented (synthetic speech)."
)


def archive_has_interviews() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Interview)) or 0) > 0


def _person(name: str, **fields) -> Person:
    existing = db.session.scalar(select(Person).where(Person.name == name))
    return existing or catalogue.save_person(LOADER, {"name": name, **fields})


def load_sample() -> str:
    """Add the sample records (idempotent by accession); return a one-line summary."""
    if db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-001")):
        return "The sample archive is loaded already."
    collection = db.session.scalar(select(Collection).where(Collection.slug == "voices-1956"))
    if collection is None:
        collection = catalogue.save_collection(
            LOADER,
            {
                "title": "Voices of the 1956 Crisis (sample)",
                "slug": "voices-1956",
                "description": FICTION
                + " The collection imagines interviews with people who left a political party "
                "in Nottingham after the events of 1956.",
            },
        )
    thomas = _person(
        "Thomas Whitfield",
        dates="b. 1931 (fictional)",
        biography="Fictional narrator: a retired engineering worker from Nottingham. " + FICTION,
    )
    ruth = _person(
        "Ruth Adler",
        sort_name="Adler, Ruth",
        dates="(fictional)",
        biography="Fictional historian and interviewer. " + FICTION,
    )
    margaret = _person(
        "Margaret Hale",
        dates="b. 1934 (fictional)",
        biography="Fictional narrator, a former schoolteacher. " + FICTION,
    )
    first = catalogue.save_interview(
        LOADER,
        {
            "title": "Thomas Whitfield on leaving the party, 1956–1957",
            "accession": "OH-SAMPLE-001",
            "collection_id": collection.id,
            "summary": FICTION + " Thomas Whitfield recalls joining a party branch as an "
            "apprentice at a Nottingham bicycle works, the shock of 1956, the branch meetings, "
            'leaving with friends, and reading the 1957 pamphlet "Why we Left the Communist '
            'Party".',
            "date_recorded": "2026-03-12",
            "place": "Nottingham (fictional sample)",
            "language": "en",
            "rights_statement": "Fictional sample material; free to reuse for testing.",
            "access_level": "open",
            "participants": [
                {"person_id": thomas.id, "role": "interviewee"},
                {"person_id": ruth.id, "role": "interviewer"},
            ],
        },
    )
    second = catalogue.save_interview(
        LOADER,
        {
            "title": "Margaret Hale on the branch in 1956 (restricted sample)",
            "accession": "OH-SAMPLE-002",
            "collection_id": collection.id,
            "summary": FICTION + " A catalogue record whose material is restricted: "
            "researchers may ask for access.",
            "date_recorded": "2026-04",
            "place": "Nottingham (fictional sample)",
            "language": "en",
            "access_level": "restricted",
            "participants": [
                {"person_id": margaret.id, "role": "interviewee"},
                {"person_id": ruth.id, "role": "interviewer"},
            ],
        },
    )
    grace = _person(
        "Grace Okafor",
        dates="b. 1948 (fictional)",
        biography="Fictional narrator who grew up near the allotments by the river. " + FICTION,
    )
    third = catalogue.save_interview(
        LOADER,
        {
            "title": "Grace Okafor on the allotments (untimed transcript: try aligning it)",
            "accession": "OH-SAMPLE-003",
            "collection_id": collection.id,
            "summary": FICTION + " Its transcript was typed without time codes: an editor can "
            "press “Align to the audio” to time every segment and word.",
            "date_recorded": "2026-05",
            "place": "Nottingham (fictional sample)",
            "language": "en",
            "rights_statement": "Fictional sample material; free to reuse for testing.",
            "access_level": "open",
            "participants": [
                {"person_id": grace.id, "role": "interviewee"},
                {"person_id": ruth.id, "role": "interviewer"},
            ],
        },
    )
    _add_material(first, second)
    _add_untimed(third)
    for interview in (first, second, third):
        # The sample narrators "signed" their release agreements: open publication needs it.
        for participant in interview.participants:
            if participant.role == "interviewee" and participant.agreement is None:
                consent.save_agreement(
                    LOADER,
                    interview,
                    participant.id,
                    {
                        "status": "signed",
                        "signed_on": "2026-03-12",
                        "conditions": "Fictional sample agreement.",
                    },
                )
        catalogue.publish(LOADER, interview)
    document = db.session.scalar(
        select(Document).where(Document.title == "Why we Left the Communist Party")
    )
    if document is None:
        document = Document(
            title="Why we Left the Communist Party",
            doc_type="pamphlet",
            date="1957",
            publisher="Nottingham Marxist Group",
            description="A real pamphlet, catalogued here by title and publisher only; the "
            "sample archive holds no copy or text of it.",
            citation="Nottingham Marxist Group. Why we Left the Communist Party. Nottingham, 1957.",
            access_level="open",
            created_at=dt.datetime.now(dt.UTC),
        )
        db.session.add(document)
        db.session.flush()
    _link_passages(document, first)
    return (
        f"Loaded the sample: collection '{collection.title}', 3 interviews "
        f"({first.accession} with audio, transcript and index; {second.accession}, "
        f"restricted; {third.accession}, audio with an untimed transcript to align), "
        f"4 people, 1 document linked to {len(_passages())} passages."
    )


def _passages() -> list[dict]:
    return json.loads((SAMPLE_DIR / "passages.json").read_text())


def _add_material(first: Interview, second: Interview) -> None:
    """The first interview's audio, time-coded transcript and OHMS-style index; the second
    one's short untimed transcript (restricted)."""
    from . import recordings, transcripts

    with (SAMPLE_DIR / "interview.mp3").open("rb") as audio:
        recordings.add_recording(LOADER, first, audio, "interview.mp3", label="Sample recording")
    points = transcripts.index_points_from_json(json.loads((SAMPLE_DIR / "index.json").read_text()))
    transcripts.import_transcript(
        LOADER,
        first,
        (SAMPLE_DIR / "transcript.vtt").read_bytes(),
        "transcript.vtt",
        index_points=points,
    )
    transcripts.import_transcript(
        LOADER, second, (SAMPLE_DIR / "hale_transcript.txt").read_bytes(), "hale_transcript.txt"
    )


def _add_untimed(interview: Interview) -> None:
    """Audio and a transcript typed without time codes (``make_untimed.py``): what a newcomer
    aligns on ``make run``."""
    from . import recordings, transcripts

    with (SAMPLE_DIR / "untimed.mp3").open("rb") as audio:
        recordings.add_recording(LOADER, interview, audio, "untimed.mp3", label="Sample recording")
    transcripts.import_transcript(
        LOADER,
        interview,
        (SAMPLE_DIR / "untimed_transcript.txt").read_bytes(),
        "untimed_transcript.txt",
    )


def _link_passages(document: Document, interview: Interview) -> None:
    from . import mentions

    for passage in _passages():
        mentions.add_mention(
            LOADER, document, interview, passage["start_ms"], passage["end_ms"], passage["note"]
        )
