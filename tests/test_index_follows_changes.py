"""Index work derived from the data (issue 11 item 2): every value the index holds, changed
through its service, reaches search results, facets and snippets, with no call placed by
hand; the rename-then-merge case of the issue included."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Document, IndexTask, Interview, Person, Speaker
from oralhist.services import (
    catalogue,
    consent,
    documents,
    transcript_speakers,
    transcript_versions,
    transcripts,
)
from oralhist.transcripts import model as parsing

ARCHIVIST = Viewer(user_id=None, role="archivist")

FIRST = b"""WHITFIELD: The quokka pamphlet was read at the branch meeting.

ADLER: And the bakery?

WHITFIELD: Above the bakery we kept the wombat minutes.
"""
SECOND = b"""WHITFIELD: Later the numbat leaflet came out.
"""


def one(model, **where):
    return db.session.scalars(select(model).filter_by(**where)).one()


def queued() -> int:
    return db.session.scalar(select(func.count()).select_from(IndexTask))


@pytest.fixture
def world(app):
    """A published open interview narrated by Tom Whitfield (whose speaker label is linked
    to him), in a collection, with a transcript, and a document he wrote."""
    with app.app_context():
        voices = catalogue.save_collection(ARCHIVIST, {"slug": "voices", "title": "Voices"})
        tom = catalogue.save_person(ARCHIVIST, {"name": "Tom Whitfield"})
        other = catalogue.save_person(ARCHIVIST, {"name": "T. Whitfield"})
        interview = catalogue.save_interview(
            ARCHIVIST,
            {
                "title": "Apprentice days",
                "summary": "Memories of the dockyard",
                "place": "Chatham",
                "collection_id": voices.id,
                "participants": [{"person_id": tom.id, "role": "interviewee"}],
            },
        )
        # open publication needs the narrator's signed release agreement (issue 16)
        consent.save_agreement(
            ARCHIVIST,
            interview,
            interview.participants[0].id,
            {"status": "signed", "signed_on": "2020-01-01"},
        )
        catalogue.publish(ARCHIVIST, interview)
        transcripts.import_transcript(ARCHIVIST, interview, FIRST, "first.txt", "txt")
        document = documents.save_document(
            ARCHIVIST,
            {
                "title": "Branch bulletin",
                "full_text": "The kangaroo resolution",
                "creators": [tom.id],
            },
        )
        db.session.commit()
        assert queued() == 0
        return {
            "interview": interview.id,
            "tom": tom.id,
            "other": other.id,
            "document": document.id,
        }


@pytest.fixture
def search(browser):
    client = browser()

    def run(q: str, **filters) -> dict:
        params = "&".join(f"{k}={v}" for k, v in {"q": q, **filters}.items())
        response = client.get(f"/api/v1/search?{params}")
        assert response.status_code == 200, response.json
        return response.json

    return run


def facet(data: dict, name: str) -> list[str]:
    return [v["value"] for v in data["facets"][name]]


def change(app, fn) -> None:
    """Run ``fn`` through the services and commit, as an edge does."""
    with app.app_context():
        fn()
        db.session.commit()
        assert queued() == 0, "the change's index work was applied"


def test_the_speaker_facet_follows_link_rename_and_merge(app, world, search):
    def link():
        speaker = one(Speaker, interview_id=world["interview"], label="WHITFIELD")
        transcript_speakers.update_speaker(ARCHIVIST, speaker, {"person_id": world["tom"]})

    change(app, link)
    data = search("quokka")
    assert facet(data, "speaker") == ["Tom Whitfield"]
    assert data["results"][0]["speaker"] == "Tom Whitfield"

    def rename():
        tom = db.session.get(Person, world["tom"])
        catalogue.save_person(ARCHIVIST, {"name": "Thomas Whitfield"}, tom)

    change(app, rename)
    data = search("quokka")
    assert facet(data, "speaker") == ["Thomas Whitfield"]
    assert facet(data, "narrator") == ["Thomas Whitfield"]
    assert search("Thomas", kind="document")["total"] == 1  # the document's creator

    def merge():
        keep = db.session.get(Person, world["other"])
        catalogue.merge_people(ARCHIVIST, keep, db.session.get(Person, world["tom"]))

    change(app, merge)
    data = search("quokka")
    assert facet(data, "speaker") == ["T. Whitfield"]
    assert facet(data, "narrator") == ["T. Whitfield"]
    assert search('speaker:"T. Whitfield"')["total"] == 1
    assert search('"Thomas Whitfield"')["total"] == 0
    assert search('"T. Whitfield"', kind="document")["total"] == 1


def test_catalogue_fields_collection_and_participants_follow(app, world, search):
    def edit():
        interview = db.session.get(Interview, world["interview"])
        catalogue.save_interview(
            ARCHIVIST,
            {"title": "Shipwright years", "summary": "Tales of the slipway", "place": "Rochester"},
            interview,
        )

    change(app, edit)
    assert search("shipwright")["total"] == 1
    assert search("apprentice")["total"] == 0
    assert search("slipway")["total"] == 1 and search("dockyard")["total"] == 0
    assert search("rochester")["total"] == 1

    def rename_collection():
        catalogue.save_collection(
            ARCHIVIST, {"slug": "dock-voices", "title": "Dock voices"}, catalogue.get_collection(1)
        )

    change(app, rename_collection)
    data = search("quokka")
    assert facet(data, "collection") == ["dock-voices"]
    assert data["groups"][0]["collection_title"] == "Dock voices"
    assert search("quokka", collection="dock-voices")["total"] == 1

    def drop_narrator():
        interview = db.session.get(Interview, world["interview"])
        catalogue.save_interview(ARCHIVIST, {"participants": []}, interview)

    change(app, drop_narrator)
    assert facet(search("quokka"), "narrator") == []


def test_speakers_segments_and_versions_follow(app, world, search):
    def rename_speaker():
        speaker = one(Speaker, interview_id=world["interview"], label="ADLER")
        transcript_speakers.update_speaker(ARCHIVIST, speaker, {"display_name": "Ruth Adler"})

    change(app, rename_speaker)
    assert facet(search("bakery"), "speaker") == ["Ruth Adler", "WHITFIELD"]

    def reassign():
        interview = db.session.get(Interview, world["interview"])
        first = transcript_versions.current_transcript(interview).segments[0]
        adler = one(Speaker, interview_id=world["interview"], label="ADLER")
        transcript_speakers.reassign_segment(ARCHIVIST, first, adler.id)

    change(app, reassign)
    assert search("quokka")["results"][0]["speaker"] == "Ruth Adler"

    def merge_speakers():
        source = one(Speaker, interview_id=world["interview"], label="ADLER")
        into = one(Speaker, interview_id=world["interview"], label="WHITFIELD")
        transcript_speakers.merge_speakers(ARCHIVIST, source, into)

    change(app, merge_speakers)
    assert facet(search("bakery"), "speaker") == ["WHITFIELD"]

    def new_version():
        interview = db.session.get(Interview, world["interview"])
        point = parsing.IndexPoint(start_ms=0, title="Leaflets", synopsis="The platypus debate")
        transcripts.import_transcript(
            ARCHIVIST, interview, SECOND, "second.txt", "txt", index_points=[point]
        )

    change(app, new_version)
    data = search("numbat")
    assert data["total"] == 1 and "<mark>numbat</mark>" in data["results"][0]["snippet"]
    assert search("quokka")["total"] == 0
    assert search("platypus")["results"][0]["kind"] == "index"

    def restore():
        interview = db.session.get(Interview, world["interview"])
        transcript_versions.restore_version(ARCHIVIST, interview, 1)

    change(app, restore)
    assert "<mark>quokka</mark>" in search("quokka")["results"][0]["snippet"]
    assert search("numbat")["total"] == 0 and search("platypus")["total"] == 0


def test_access_level_embargo_and_status_follow(app, world, search):
    def level(value):
        def run():
            interview = db.session.get(Interview, world["interview"])
            catalogue.save_interview(ARCHIVIST, {"access_level": value}, interview)

        return run

    change(app, level("closed"))
    assert search("quokka")["total"] == 0
    change(app, level("open"))
    assert search("quokka")["total"] == 1

    def embargo():
        interview = db.session.get(Interview, world["interview"])
        catalogue.save_interview(ARCHIVIST, {"embargo_until": "2999-01-01"}, interview)

    change(app, embargo)
    assert search("quokka")["total"] == 0

    def lift():
        interview = db.session.get(Interview, world["interview"])
        interview.embargo_until = dt.date(2000, 1, 1)

    change(app, lift)
    assert search("quokka")["total"] == 1

    change(
        app, lambda: catalogue.unpublish(ARCHIVIST, db.session.get(Interview, world["interview"]))
    )
    assert search("quokka")["total"] == 0 and search("apprentice")["total"] == 0


def test_documents_follow(app, world, search):
    def edit():
        document = db.session.get(Document, world["document"])
        documents.save_document(
            ARCHIVIST, {"title": "Dockyard circular", "full_text": "The wallaby motion"}, document
        )

    change(app, edit)
    assert search("circular", kind="document")["total"] == 1
    assert search("wallaby")["total"] == 1 and search("kangaroo")["total"] == 0

    def close():
        document = db.session.get(Document, world["document"])
        documents.save_document(ARCHIVIST, {"access_level": "closed"}, document)

    change(app, close)
    assert search("wallaby")["total"] == 0


def test_a_bare_commit_does_not_skip_index_work(app, world, search):
    with app.app_context():
        interview = db.session.get(Interview, world["interview"])
        interview.title = "Renamed by hand echidnatitle"
        db.session.commit()
        assert queued() == 0
    assert search("echidnatitle")["total"] == 1


def test_work_is_queued_in_the_same_transaction_and_dropped_with_it(app, world):
    app.config["SEARCH_SYNC"] = False
    with app.app_context():
        interview = db.session.get(Interview, world["interview"])
        interview.title = "Never saved"
        db.session.flush()
        assert queued() == 1
        db.session.rollback()
        assert queued() == 0
        interview = db.session.get(Interview, world["interview"])
        interview.updated_at = dt.datetime.now(dt.UTC)  # not an indexed value
        db.session.commit()
        assert queued() == 0
