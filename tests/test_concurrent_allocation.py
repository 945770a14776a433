"""Numbers allocated while other requests allocate them too (issue 12 items 8 and 13):
accession identifiers, transcript versions, recording positions and concurrent bulk imports.
Every concurrent caller gets a distinct number or a clean 4xx; never a 500.

Threads post through the real app to the real database: a file SQLite database, or the
PostgreSQL server named by ``OH_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Interview
from tests.concurrency import at_once
from tests.conftest import Browser

#: Threads or other processes use the database: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


DEPOSITS = 16


def test_simultaneous_deposits_in_one_year_get_distinct_accessions(app, users):
    clients = [Browser(app, "archivist@example.org") for _ in range(DEPOSITS)]

    def deposit(client: Browser, n: int):
        def call():
            response = client.post(
                "/api/v1/interviews", json={"title": f"Deposit {n}", "date_recorded": "1957"}
            )
            return response.status_code, response.json

        return call

    answers = at_once([deposit(c, n) for n, c in enumerate(clients)])
    assert [status for status, _body in answers] == [201] * DEPOSITS, answers
    accessions = sorted(body["accession"] for _status, body in answers)
    assert accessions == [f"OH-1957-{n:03d}" for n in range(1, DEPOSITS + 1)]
    with app.app_context():
        stored = db.session.scalars(select(Interview.accession)).all()
    assert sorted(stored) == accessions


def test_a_given_accession_taken_meanwhile_is_a_409(app, users):
    clients = [Browser(app, "archivist@example.org") for _ in range(4)]

    def deposit(client: Browser):
        return lambda: (
            client.post(
                "/api/v1/interviews", json={"title": "Same number", "accession": "OH-X-1"}
            ).status_code
        )

    answers = at_once([deposit(c) for c in clients])
    assert sorted(answers) == [201, 409, 409, 409]
    with app.app_context():
        assert db.session.scalars(select(Interview.accession)).all() == ["OH-X-1"]


def _new_interview(app, users) -> int:
    from oralhist.access import load_viewer
    from oralhist.models import User
    from oralhist.services import catalogue

    with app.test_request_context():
        viewer = load_viewer(db.session.get(User, users["archivist"]))
        interview = catalogue.save_interview(viewer, {"title": "Many parts"})
        db.session.commit()
        return interview.id


IMPORTS = 8


def test_simultaneous_transcript_imports_get_distinct_versions(app, users):
    import io

    from oralhist.models import Speaker, Transcript

    interview_id = _new_interview(app, users)
    clients = [Browser(app, "archivist@example.org") for _ in range(IMPORTS)]

    def upload(client: Browser, n: int):
        vtt = (
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n"
            f"<v Ruth Adler>Import number {n} of the same interview.\n"
        ).encode()

        def call():
            response = client.post(
                f"/api/v1/interviews/{interview_id}/transcripts",
                data={"file": (io.BytesIO(vtt), f"take{n}.vtt")},
                content_type="multipart/form-data",
            )
            return response.status_code

        return call

    answers = at_once([upload(c, n) for n, c in enumerate(clients)])
    assert answers == [201] * IMPORTS
    with app.app_context():
        versions = db.session.scalars(
            select(Transcript.version).where(Transcript.interview_id == interview_id)
        ).all()
        current = db.session.scalars(
            select(Transcript.version).where(
                Transcript.interview_id == interview_id, Transcript.is_current.is_(True)
            )
        ).all()
        speakers = db.session.scalars(
            select(Speaker.label).where(Speaker.interview_id == interview_id)
        ).all()
    assert sorted(versions) == list(range(1, IMPORTS + 1))
    assert current == [IMPORTS]  # exactly one current: the last one stored
    assert speakers == ["Ruth Adler"]


UPLOADS = 16


def test_simultaneous_uploads_get_distinct_positions(app, users):
    import io

    from oralhist.models import Recording
    from tests.documents.conftest import wav_bytes

    interview_id = _new_interview(app, users)
    clients = [Browser(app, "archivist@example.org") for _ in range(UPLOADS)]
    audio = wav_bytes(0.2)

    def upload(client: Browser, n: int):
        def call():
            response = client.post(
                f"/api/v1/interviews/{interview_id}/recordings",
                data={"file": (io.BytesIO(audio), f"part{n}.wav"), "label": f"Part {n}"},
                content_type="multipart/form-data",
            )
            return response.status_code

        return call

    answers = at_once([upload(c, n) for n, c in enumerate(clients)])
    assert answers == [201] * UPLOADS
    with app.app_context():
        positions = db.session.scalars(
            select(Recording.position)
            .where(Recording.interview_id == interview_id)
            .order_by(Recording.position)
        ).all()
    assert positions == list(range(UPLOADS))


def test_reordering_swaps_positions_under_the_unique_constraint(app, users):
    import io

    from oralhist.models import Recording
    from tests.documents.conftest import wav_bytes

    interview_id = _new_interview(app, users)
    client = Browser(app, "archivist@example.org")
    ids = []
    for n in range(3):
        response = client.post(
            f"/api/v1/interviews/{interview_id}/recordings",
            data={"file": (io.BytesIO(wav_bytes(0.1 + n / 10)), f"p{n}.wav")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201
        ids.append(response.json["id"])
    moved = client.patch(f"/api/v1/recordings/{ids[2]}", json={"position": 0})
    assert moved.status_code == 200, moved.json
    with app.app_context():
        order = db.session.scalars(
            select(Recording.id)
            .where(Recording.interview_id == interview_id)
            .order_by(Recording.position)
        ).all()
    assert order == [ids[2], ids[0], ids[1]]
