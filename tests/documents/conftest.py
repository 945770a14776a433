"""Fixtures for documents and passage links: interviews with a WAV recording (stdlib
``wave``) and a WebVTT transcript, and documents at every access level."""

from __future__ import annotations

import io
import wave
import zlib
from dataclasses import dataclass

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Document, Interview, Mention
from tests.conftest import world_scope

ARCHIVIST = Viewer(user_id=None, role="archivist")

VTT = """WEBVTT

00:00:00.000 --> 00:00:04.000
<v Thomas Whitfield>I joined the branch as an apprentice at the bicycle works.

00:00:04.000 --> 00:00:08.000
<v Ruth Adler>And when did you first read the pamphlet?

00:00:08.000 --> 00:00:12.000
<v Thomas Whitfield>Why we Left the Communist Party was passed round the works in 1957.

00:00:12.000 --> 00:00:16.000
<v Thomas Whitfield>I kept my copy for years and lent it to anyone who asked.
"""

VTT_REIMPORT = """WEBVTT

00:00:00.000 --> 00:00:06.000
<v Thomas Whitfield>Re-imported first turn about the apprentice years.

00:00:06.000 --> 00:00:12.000
<v Thomas Whitfield>Re-imported words about the pamphlet going round.

00:00:12.000 --> 00:00:16.000
<v Ruth Adler>Re-imported closing question.
"""


def wav_bytes(seconds: float = 16.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a quiet tone, made with the standard library."""
    import math

    frames = int(seconds * rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                int(800 * math.sin(2 * math.pi * 440 * n / rate)).to_bytes(2, "little", signed=True)
                for n in range(frames)
            )
        )
    return out.getvalue()


def pdf_bytes(text: str = "Why we Left the Communist Party") -> bytes:
    """A one-page PDF whose text layer holds ``text`` (a valid xref, no dependencies)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_bytes() -> bytes:
    """A 1x1 PNG."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def make_interview(
    app,
    owner_id: int | None,
    *,
    title: str,
    level: str = "open",
    published: bool = True,
    audio: bool = True,
    transcript: str | None = VTT,
) -> int:
    """An interview with the named owner, a 16 s WAV and a transcript; returns its id."""
    from oralhist.models import Collection, Person
    from oralhist.services import catalogue, consent, recordings, transcripts

    with app.test_request_context():
        collection = db.session.query(Collection).filter_by(slug="voices").one_or_none()
        if collection is None:
            collection = catalogue.save_collection(
                ARCHIVIST, {"title": "Voices of the 1956 Crisis (sample)", "slug": "voices"}
            )
        people = {}
        for name in ("Thomas Whitfield", "Ruth Adler"):
            people[name] = db.session.query(Person).filter_by(
                name=name
            ).one_or_none() or catalogue.save_person(ARCHIVIST, {"name": name})
        interview = catalogue.save_interview(
            ARCHIVIST,
            {
                "title": title,
                "collection_id": collection.id,
                "date_recorded": "2026-03-12",
                "access_level": level,
                "participants": [
                    {"person_id": people["Thomas Whitfield"].id, "role": "interviewee"},
                    {"person_id": people["Ruth Adler"].id, "role": "interviewer"},
                ],
            },
        )
        interview.created_by_id = owner_id
        if audio:
            recordings.add_recording(ARCHIVIST, interview, io.BytesIO(wav_bytes()), "tape.wav")
        if transcript:
            transcripts.import_transcript(
                ARCHIVIST, interview, transcript.encode(), "transcript.vtt"
            )
        if published:
            # open publication needs the narrator's signed release agreement (issue 16)
            consent.save_agreement(
                ARCHIVIST,
                interview,
                interview.participants[0].id,
                {"status": "signed", "signed_on": "2020-01-01"},
            )
            catalogue.publish(ARCHIVIST, interview)

        db.session.commit()
        return interview.id


def make_document(app, *, title: str, level: str = "open", creator_id: int | None = None, **kw):
    from oralhist.services import documents

    with app.test_request_context():
        viewer = Viewer(user_id=creator_id, role="archivist")
        document = documents.save_document(viewer, {"title": title, "access_level": level, **kw})
        document.created_by_id = creator_id

        db.session.commit()
        return document.id


@dataclass
class World:
    open_interview: int
    restricted_interview: int
    draft_interview: int
    open_doc: int
    registered_doc: int
    restricted_doc: int
    closed_doc: int


@pytest.fixture
def world(app, users) -> World:
    return build_world(app, users)


@pytest.fixture(scope=world_scope)
def shared_world(world_app, world_users) -> World:
    """``build_world`` once for a module that takes it as its world (tests/savepoints.py):
    such a module overrides ``users`` and ``world`` with ``world_users`` and this."""
    return build_world(world_app, world_users)


def build_world(app, users) -> World:
    """Three interviews (open, restricted, draft) and four documents (open, registered,
    restricted, closed) with marker words in their titles."""
    owner = users["contributor"]
    return World(
        open_interview=make_interview(app, owner, title="Thomas Whitfield on leaving the party"),
        restricted_interview=make_interview(
            app, owner, title="Margaret Hale RESTRICTEDINTERVIEW", level="restricted"
        ),
        draft_interview=make_interview(app, owner, title="Draft DRAFTINTERVIEW", published=False),
        open_doc=make_document(
            app,
            title="Why we Left the Communist Party",
            doc_type="pamphlet",
            date="1957",
            publisher="Nottingham Marxist Group",
            creator_id=users["archivist"],
        ),
        registered_doc=make_document(
            app, title="Branch minutes REGISTEREDDOC", level="registered", doc_type="minutes"
        ),
        restricted_doc=make_document(
            app, title="Secret letter RESTRICTEDDOC", level="restricted", doc_type="letter"
        ),
        closed_doc=make_document(app, title="Closed file CLOSEDDOC", level="closed"),
    )


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def document_count(app) -> int:
    return count(app, Document)


def mention_count(app) -> int:
    return count(app, Mention)


def interview(app, interview_id: int) -> Interview:
    return db.session.get(Interview, interview_id)
