"""An archive to harvest: published interviews in two collections (one with a timed
transcript, an index, a recording and a linked document), a restricted one whose words must
never leave, a draft never published, and one published then withdrawn."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Interview
from tests.conftest import world_scope
from tests.recordings.conftest import wav_bytes

DATA = Path(__file__).parent / "data"
T0 = dt.datetime(2031, 6, 15, 12, 0, tzinfo=dt.UTC)

#: Words only restricted material holds: they must never reach the public.
RESTRICTED_WORDS = ("Quarrywhisper", "Flintsecret", "Marlkeyword", "Slatenote")
#: Open material that the public may read (the restricted words' control).
OPEN_WORDS = ("Lanternlight", "Cokeoven")

OPEN_VTT = """WEBVTT

00:00:00.000 --> 00:00:00.400
<v Ada Pellow>We worked by Lanternlight in the pit.

00:00:00.400 --> 00:00:00.900
<v Interviewer>And the Cokeoven?
"""

RESTRICTED_VTT = """WEBVTT

00:00:00.000 --> 00:00:00.800
<v Bryn Tolley>Nobody knew about Quarrywhisper then.
"""


class Clock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr("oralhist.access.clock", c)
    return c


ARCHIVIST = Viewer(user_id=None, role="archivist")


@dataclass
class Archive:
    ids: dict[str, int] = field(default_factory=dict)
    recordings: dict[str, int] = field(default_factory=dict)
    document_id: int = 0
    open_ids: list[int] = field(default_factory=list)


def _index_point(title: str, keyword: str, start_ms: int = 0, synopsis: str = ""):
    from oralhist.transcripts.model import IndexPoint

    return IndexPoint(start_ms=start_ms, title=title, synopsis=synopsis, keywords=(keyword,))


@pytest.fixture
def archive(app, users, clock) -> Archive:
    """See the module docstring. ``extra`` open interviews make the lists span pages."""
    return make_archive(app, clock)


@pytest.fixture(scope=world_scope)
def interop_world(world_app, world_users) -> Archive:
    """``make_archive`` from T0, once for a module that takes it as its world
    (tests/savepoints.py); such a module overrides ``users`` and ``archive`` (which moves the
    test's ``clock`` on by the hour the building took)."""
    with pytest.MonkeyPatch.context() as patch:
        c = Clock(T0)
        patch.setattr("oralhist.access.clock", c)
        return make_archive(world_app, c)


def make_archive(app, clock) -> Archive:
    """The archive of the module docstring; ``clock`` ends an hour on from where it was."""
    from oralhist.services import (
        catalogue,
        consent,
        documents,
        mentions,
        recordings,
        transcripts,
    )

    made = Archive()
    with app.test_request_context():
        miners = catalogue.save_collection(
            ARCHIVIST, {"slug": "miners", "title": "Miners of the valley"}
        )
        weavers = catalogue.save_collection(ARCHIVIST, {"slug": "weavers", "title": "Weavers"})
        ada = catalogue.save_person(ARCHIVIST, {"name": "Ada Pellow"})
        bryn = catalogue.save_person(ARCHIVIST, {"name": "Bryn Tolley"})
        ivr = catalogue.save_person(ARCHIVIST, {"name": "Cai Morgan"})
        db.session.flush()

        def interview(key, title, collection, level="open", narrator=ada, **extra):
            found = catalogue.save_interview(
                ARCHIVIST,
                {
                    "title": title,
                    "collection_id": collection.id,
                    "access_level": level,
                    "summary": f"Summary of {title}.",
                    "date_recorded": "1957-03",
                    "place": "Merthyr",
                    "rights_statement": "CC BY-NC 4.0",
                    "language": "en",
                    "participants": [
                        {"person_id": narrator.id, "role": "interviewee"},
                        {"person_id": ivr.id, "role": "interviewer"},
                    ],
                    **extra,
                },
            )
            made.ids[key] = found.id
            # open publication needs the narrator's signed release agreement (issue 16)
            consent.save_agreement(
                ARCHIVIST,
                found,
                found.participants[0].id,
                {"status": "signed", "signed_on": "2020-01-01"},
            )
            return found

        pit = interview("open", "Down the pit", miners)
        catalogue.publish(ARCHIVIST, pit)
        rec = recordings.add_recording(ARCHIVIST, pit, io.BytesIO(wav_bytes(1.0)), "pit.wav")
        made.recordings["open"] = rec.id
        transcripts.import_transcript(
            ARCHIVIST,
            pit,
            OPEN_VTT.encode(),
            "pit.vtt",
            index_points=[
                _index_point("Lamps", "mining lamps", 0, "Working by Lanternlight."),
                _index_point("Ovens", "coke ovens", 400, "The Cokeoven by the tip."),
            ],
        )
        doc = documents.save_document(
            ARCHIVIST, {"title": "Strike pamphlet 1957", "access_level": "open"}
        )
        db.session.flush()
        made.document_id = doc.id
        mentions.add_mention(ARCHIVIST, doc, pit, 0, 400, "About the lamps.")

        secret = interview("restricted", "Behind the quarry", miners, "restricted", bryn)
        catalogue.publish(ARCHIVIST, secret)
        rec = recordings.add_recording(
            ARCHIVIST, secret, io.BytesIO(wav_bytes(0.8, freq=500)), "quarry.wav"
        )
        made.recordings["restricted"] = rec.id
        transcripts.import_transcript(
            ARCHIVIST,
            secret,
            RESTRICTED_VTT.encode(),
            "quarry.vtt",
            index_points=[_index_point("Flintsecret", "Marlkeyword", 0, "Flintsecret.")],
        )
        restricted_doc = documents.save_document(
            ARCHIVIST, {"title": "Quarry ledger", "access_level": "restricted"}
        )
        db.session.flush()
        mentions.add_mention(ARCHIVIST, restricted_doc, secret, 0, 500, "Slatenote")

        interview("draft", "Never published", weavers)
        gone = interview("withdrawn", "Published then withdrawn", weavers)
        catalogue.publish(ARCHIVIST, gone)
        for n in range(5):
            extra = interview(f"extra{n}", f"Loom story {n}", weavers)
            catalogue.publish(ARCHIVIST, extra)
        db.session.commit()
        clock.advance(hours=1)
        catalogue.unpublish(ARCHIVIST, db.session.get(Interview, made.ids["withdrawn"]))
        db.session.commit()
        made.open_ids = [made.ids["open"], *(made.ids[f"extra{n}"] for n in range(5))]
    return made


@pytest.fixture
def live_url(app):
    """The app served over real HTTP on a free loopback port (for real clients)."""
    import threading

    from werkzeug.serving import make_server

    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
