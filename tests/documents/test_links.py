"""Passage links both ways: linking (API, form, service), bad input, what each side shows
under the access policy, survival across a transcript re-import, citations, suggestions."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import Interview, Mention

from .conftest import ARCHIVIST, VTT_REIMPORT, mention_count


@pytest.fixture
def users(world_users):
    """The module's world (tests/savepoints.py): built once, each test rolled back to it."""
    return world_users


@pytest.fixture
def world(shared_world):
    return shared_world


def link(client, doc_id, interview_id, start_ms=4000, end_ms=12000, note=""):
    return client.post(
        f"/api/v1/documents/{doc_id}/mentions",
        json={"interview_id": interview_id, "start_ms": start_ms, "end_ms": end_ms, "note": note},
    )


def test_owner_links_a_passage_and_the_document_lists_it(app, browser, world):
    client = browser("contributor")
    response = link(client, world.open_doc, world.open_interview, note="TW on the pamphlet")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["start_ms"] == 4000 and body["end_ms"] == 12000
    assert body["speakers"] == ["Ruth Adler", "Thomas Whitfield"]
    assert "passed round the works" in body["text"]
    assert "apprentice" not in body["text"]  # the segment ending at 4000 only touches it
    assert body["url"].startswith(f"/interviews/{world.open_interview}?t=4&hl=")
    assert body["permalink"].endswith(f"/interviews/{world.open_interview}?t=4&end=12")
    assert body["citation"] == (
        "Interview with Thomas Whitfield by Ruth Adler, 12 March 2026, 0:00:04–0:00:12, "
        "Voices of the 1956 Crisis (sample), " + body["interview"]["accession"]
    )
    doc = browser(None).get(f"/api/v1/documents/{world.open_doc}").json
    assert [p["id"] for p in doc["passages"]] == [body["id"]]
    page = browser(None).get(f"/documents/{world.open_doc}").get_data(as_text=True)
    assert "passed round the works" in page and "TW on the pamphlet" in page
    assert f"/interviews/{world.open_interview}?t=4&amp;hl=" in page
    assert "0:00:04–0:00:12" in page  # the citation


def test_the_interview_panel_lists_the_document_and_the_time(app, browser, world):
    link(browser("archivist"), world.open_doc, world.open_interview)
    page = browser(None).get(f"/interviews/{world.open_interview}").get_data(as_text=True)
    assert "Documents discussed" in page
    assert "Why we Left the Communist Party" in page
    assert 'data-start-ms="4000" data-end-ms="12000"' in page
    assert 'data-seek-ms="4000"' in page
    assert "Link a passage" not in page  # anonymous may not link
    owner_page = browser("contributor").get(f"/interviews/{world.open_interview}")
    assert "Link a passage" in owner_page.get_data(as_text=True)
    api = browser(None).get(f"/api/v1/interviews/{world.open_interview}/mentions").json
    assert api["total"] == 1 and api["items"][0]["document_title"].startswith("Why we Left")


def test_the_link_form_on_the_interview_page(app, browser, world):
    client = browser("contributor")
    response = client.post(
        f"/interviews/{world.open_interview}/mentions",
        data={
            "document_id": str(world.open_doc),
            "start": "00:00:08",
            "end": "00:00:16.000",
            "note": "Kept his copy",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        mention = db.session.query(Mention).one()
        assert (mention.start_ms, mention.end_ms, mention.note) == (8000, 16000, "Kept his copy")


@pytest.mark.parametrize(
    ("form", "text"),
    [
        ({"start": "00:00:12", "end": "00:00:04"}, "ends (0:00:04) before it starts"),
        ({"start": "00:00:04", "end": "00:05:00"}, "after the end of the recording"),
        ({"start": "-00:00:04", "end": "00:00:08"}, "must not be negative"),
        ({"start": "soon", "end": "00:00:08"}, "must be a time such as 00:41:10"),
        ({"start": "00:00:04", "end": "00:00:08", "document_id": "999"}, "no document 999"),
        ({"start": "00:00:04", "end": "00:00:08", "document_id": ""}, "Choose the document"),
    ],
)
def test_bad_form_input_shows_the_page_again_with_a_4xx(app, browser, world, form, text):
    data = {"document_id": str(world.open_doc), **form}
    response = browser("contributor").post(
        f"/interviews/{world.open_interview}/mentions", data=data
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert text in page
    assert 'id="link-passage"' in page  # the form is shown again
    assert mention_count(app) == 0


@pytest.mark.parametrize(
    ("start", "end", "status", "text"),
    [
        (-1000, 4000, 422, "must not be negative"),
        (12000, 4000, 422, "before it starts"),
        (4000, 16001, 422, "after the end of the recording"),
        (4000, "later", 422, "must be a time"),
        (None, 4000, 422, "is required"),
        # Absurd times are refused by name before any comparison or query (10^30 was a 500).
        (10**30, 10**30, 422, "start_ms must be at most 360000000"),
        ("1" + "0" * 30, "1" + "0" * 30, 422, "start_ms must be at most 360000000"),
        (4000, 10**30, 422, "end_ms must be at most 360000000"),
        ("9" * 5000, 4000, 422, "start_ms must be at most"),
    ],
)
def test_bad_ranges_through_the_api(app, browser, world, start, end, status, text):
    response = link(browser("archivist"), world.open_doc, world.open_interview, start, end)
    assert response.status_code == status
    assert text in response.json["error"]["message"]
    assert mention_count(app) == 0


def test_links_to_missing_things(app, browser, world):
    client = browser("archivist")
    missing_doc = link(client, 99999, world.open_interview)
    assert missing_doc.status_code == 404
    missing_interview = link(client, world.open_doc, 99999)
    assert missing_interview.status_code == 422
    assert "no interview 99999" in missing_interview.json["error"]["message"]
    assert (
        client.post(
            "/interviews/99999/mentions", data={"document_id": str(world.open_doc)}
        ).status_code
        == 404
    )
    assert mention_count(app) == 0


def test_ids_beyond_the_database_range_are_not_found(app, browser, world):
    client = browser("archivist")
    huge = 10**20
    beyond_interview = link(client, world.open_doc, huge)
    assert beyond_interview.status_code == 422
    assert f"no interview {huge}" in beyond_interview.json["error"]["message"]
    assert link(client, huge, world.open_interview).status_code == 404
    assert client.get(f"/api/v1/mentions/{huge}").status_code == 404
    assert mention_count(app) == 0


def test_a_stricter_document_is_not_linked_from_an_open_interview(app, browser, world):
    client = browser("archivist")
    for doc in (world.registered_doc, world.restricted_doc, world.closed_doc):
        response = link(client, doc, world.open_interview)
        assert response.status_code == 422
        assert "must not expose a document" in response.json["error"]["message"]
    response = client.post(
        f"/interviews/{world.open_interview}/mentions",
        data={"document_id": str(world.restricted_doc), "start": "0:00:04", "end": "0:00:08"},
    )
    assert response.status_code == 422
    assert "must not expose a document" in response.get_data(as_text=True)
    assert mention_count(app) == 0
    # the same or a looser level is fine
    assert link(client, world.restricted_doc, world.restricted_interview).status_code == 201
    assert link(client, world.open_doc, world.restricted_interview).status_code == 201


def test_an_embargo_does_not_loosen_the_rule(app, browser, world):
    import datetime as dt

    with app.app_context():
        interview = db.session.get(Interview, world.open_interview)
        interview.embargo_until = dt.date.today() + dt.timedelta(days=365)
        db.session.commit()
    response = link(browser("archivist"), world.closed_doc, world.open_interview)
    assert response.status_code == 422


def test_a_restricted_document_never_shows_to_those_who_may_not_see_it(app, browser, world):
    archivist = browser("archivist")
    assert link(archivist, world.restricted_doc, world.restricted_interview).status_code == 201
    for role in (None, "researcher"):
        client = browser(role)
        assert client.get(f"/documents/{world.restricted_doc}").status_code == 404
        assert client.get(f"/api/v1/documents/{world.restricted_doc}").status_code == 404
        assert client.get(f"/documents/{world.restricted_doc}/file").status_code == 404
        for url in (
            f"/interviews/{world.restricted_interview}",
            f"/api/v1/interviews/{world.restricted_interview}/mentions",
            "/documents",
            "/api/v1/documents",
            "/search?q=secret",
            "/api/v1/search?q=secret",
        ):
            response = client.get(url)
            assert "RESTRICTEDDOC" not in response.get_data(as_text=True), (role, url)
    contributor = browser("contributor2")
    assert "RESTRICTEDDOC" in contributor.get("/documents").get_data(as_text=True)


def test_restricted_interview_passages_show_only_line_and_time(app, browser, world):
    assert link(browser("archivist"), world.open_doc, world.restricted_interview).status_code == 201
    researcher = browser("researcher")
    doc = researcher.get(f"/api/v1/documents/{world.open_doc}").json
    (passage,) = doc["passages"]
    assert passage["transcript_readable"] is False
    assert "text" not in passage and "segments" not in passage and "speakers" not in passage
    assert "hl=" not in passage["url"]
    assert passage["citation"].startswith("Interview with Thomas Whitfield")
    page = researcher.get(f"/documents/{world.open_doc}").get_data(as_text=True)
    assert "RESTRICTEDINTERVIEW" in page and "0:00:04" in page
    assert "passed round the works" not in page
    owner = browser("contributor").get(f"/api/v1/documents/{world.open_doc}").json
    assert "passed round the works" in owner["passages"][0]["text"]


def test_drafts_are_left_out_for_those_who_may_not_see_them(app, browser, world):
    assert link(browser("contributor"), world.open_doc, world.draft_interview).status_code == 201
    for role in (None, "researcher", "contributor2"):
        response = browser(role).get(f"/documents/{world.open_doc}")
        assert "DRAFTINTERVIEW" not in response.get_data(as_text=True)
        assert browser(role).get(f"/api/v1/documents/{world.open_doc}").json["passages"] == []
    assert "DRAFTINTERVIEW" in browser("archivist").get(f"/documents/{world.open_doc}").get_data(
        as_text=True
    )


def test_who_may_link(app, browser, world):
    for role, status in (
        (None, 401),
        ("researcher", 403),
        ("contributor2", 403),
        ("contributor", 201),
        ("archivist", 201),
        ("admin", 201),
    ):
        response = link(
            browser(role), world.open_doc, world.open_interview, 0, 1000 + len(role or "")
        )
        assert response.status_code == status, role


def test_edit_and_remove_a_link(app, browser, world):
    owner = browser("contributor")
    mention = link(owner, world.open_doc, world.open_interview).json["id"]
    assert (
        browser("contributor2").patch(f"/api/v1/mentions/{mention}", json={"note": "x"}).status_code
        == 403
    )
    changed = owner.patch(f"/api/v1/mentions/{mention}", json={"note": "Better", "end_ms": 16000})
    assert changed.status_code == 200 and changed.json["end_ms"] == 16000
    reversed_ = owner.patch(f"/api/v1/mentions/{mention}", json={"start_ms": 15000, "end_ms": 1})
    assert reversed_.status_code == 422
    assert owner.get(f"/api/v1/mentions/{mention}").json["end_ms"] == 16000
    form = owner.post(
        f"/mentions/{mention}",
        data={
            "start": "00:00:00",
            "end": "00:00:04",
            "note": "Form edit",
            "next": f"/interviews/{world.open_interview}",
        },
    )
    assert form.status_code == 302 and form.headers["Location"].endswith(
        f"/interviews/{world.open_interview}"
    )
    assert owner.get(f"/api/v1/mentions/{mention}").json["note"] == "Form edit"
    evil = owner.post(f"/mentions/{mention}", data={"note": "n", "next": "//evil.example/"})
    assert "evil.example" not in evil.headers["Location"]
    assert owner.delete(f"/api/v1/mentions/{mention}").status_code == 204
    assert mention_count(app) == 0
    again = link(owner, world.open_doc, world.open_interview).json["id"]
    assert owner.post(f"/mentions/{again}/delete", data={}).status_code == 302
    assert mention_count(app) == 0


def test_a_link_survives_a_transcript_reimport(app, browser, world):
    from oralhist.services import transcripts

    link(browser("archivist"), world.open_doc, world.open_interview, 6000, 12000)
    with app.test_request_context():
        interview = db.session.get(Interview, world.open_interview)
        transcripts.import_transcript(ARCHIVIST, interview, VTT_REIMPORT.encode(), "v2.vtt")
        db.session.commit()
    passage = browser(None).get(f"/api/v1/documents/{world.open_doc}").json["passages"][0]
    assert passage["text"] == "Re-imported words about the pamphlet going round."
    assert passage["start_ms"] == 6000


def test_duplicate_links_conflict(app, browser, world):
    client = browser("archivist")
    assert link(client, world.open_doc, world.open_interview).status_code == 201
    assert link(client, world.open_doc, world.open_interview).status_code == 409


def test_cite_gives_the_text_and_the_permanent_link(app, browser, world):
    mention = link(browser("archivist"), world.open_doc, world.open_interview, 2_470_000, 2_585_000)
    assert mention.status_code == 422  # beyond the 16 s recording
    mention = link(browser("archivist"), world.open_doc, world.open_interview, 1500, 9250).json
    text = browser(None).get(f"/mentions/{mention['id']}/cite").get_data(as_text=True)
    line, url = text.strip().split("\n")
    assert "0:00:01–0:00:09" in line
    assert url.endswith(f"/interviews/{world.open_interview}?t=1.5&end=9.25")


def test_citation_formatting_leaves_out_what_is_missing(app_ctx):
    from oralhist.models import Collection, Participant, Person
    from oralhist.services.documents import format_partial_date
    from oralhist.services.passages import citation_text
    from oralhist.transcripts.timecode import format_t_param

    assert format_partial_date("2026-03-12") == "12 March 2026"
    assert format_partial_date("2026-03") == "March 2026"
    assert format_partial_date("1957") == "1957"
    assert format_partial_date("") == ""
    assert format_t_param(2_470_000) == "2470" and format_t_param(124_991) == "124.991"
    thomas, ruth = Person(name="Thomas Whitfield"), Person(name="Ruth Adler")
    interview = Interview(
        title="T",
        accession="OH-SAMPLE-001",
        date_recorded="2026-03-12",
        collection=Collection(slug="v", title="Voices of the 1956 Crisis (sample)"),
        participants=[
            Participant(person=thomas, role="interviewee"),
            Participant(person=ruth, role="interviewer"),
        ],
    )
    assert citation_text(interview, 2_470_000, 2_585_000) == (
        "Interview with Thomas Whitfield by Ruth Adler, 12 March 2026, 0:41:10–0:43:05, "
        "Voices of the 1956 Crisis (sample), OH-SAMPLE-001"
    )
    bare = Interview(title="An untitled tape", accession="OH-2005-014", date_recorded="")
    assert citation_text(bare, 0, 5000) == "An untitled tape, 0:00:00–0:00:05, OH-2005-014"


def test_add_mention_for_the_sample_loader(app_ctx, world):
    from oralhist.models import Document
    from oralhist.services import mentions

    document = db.session.get(Document, world.open_doc)
    interview = db.session.get(Interview, world.open_interview)
    mention = mentions.add_mention(ARCHIVIST, document, interview, 4000, 8000, note="Sample")
    assert mention.id and mention.created_by_id is None


# --- suggestions ---------------------------------------------------------------------------


def test_suggestions_accept_and_dismiss(app, browser, world):
    archivist = browser("archivist")
    url = f"/api/v1/documents/{world.open_doc}/suggestions"
    items = archivist.get(url).json["items"]
    assert items, "the title phrase is in the transcript"
    first = items[0]
    assert first["start_ms"] == 8000 and "the title" in first["reason"]
    assert "<mark>" in first["snippet"]
    accepted = archivist.post(url + "/accept", json={"segment_id": first["segment_id"]})
    assert accepted.status_code == 201
    assert (accepted.json["start_ms"], accepted.json["end_ms"]) == (8000, 12000)
    after = archivist.get(url).json["items"]
    assert all(i["start_ms"] != 8000 for i in after if i["interview_id"] == first["interview_id"])
    if after:
        victim = after[0]
        dismissed = archivist.post(
            url + "/dismiss",
            json={"interview_id": victim["interview_id"], "start_ms": victim["start_ms"]},
        )
        assert dismissed.status_code == 201
        again = archivist.get(url).json["items"]
        assert (victim["interview_id"], victim["start_ms"]) not in {
            (i["interview_id"], i["start_ms"]) for i in again
        }


def test_dismissed_suggestions_do_not_come_back_through_the_page(app, browser, world):
    archivist = browser("archivist")
    page = archivist.get(f"/documents/{world.open_doc}").get_data(as_text=True)
    assert "Suggested passages" in page and "Dismiss" in page
    items = archivist.get(f"/api/v1/documents/{world.open_doc}/suggestions").json["items"]
    for item in items:
        response = archivist.post(
            f"/documents/{world.open_doc}/suggestions/dismiss",
            data={"interview_id": str(item["interview_id"]), "start_ms": str(item["start_ms"])},
        )
        assert response.status_code == 302
    assert archivist.get(f"/api/v1/documents/{world.open_doc}/suggestions").json["items"] == []
    assert mention_count(app) == 0


def test_who_sees_suggestions(app, browser, world):
    url = f"/api/v1/documents/{world.open_doc}/suggestions"
    assert browser(None).get(url).status_code == 401
    assert browser("researcher").get(url).status_code == 403
    assert browser("contributor2").get(url).json["items"] == []  # no interview of theirs
    own = browser("contributor").get(url).json["items"]
    assert {i["interview_id"] for i in own} <= {
        world.open_interview,
        world.restricted_interview,
        world.draft_interview,
    }
    assert "Suggested passages" not in browser("researcher").get(
        f"/documents/{world.open_doc}"
    ).get_data(as_text=True)
    dismiss = browser("contributor").post(
        url + "/dismiss", json={"interview_id": world.open_interview, "start_ms": 8000}
    )
    assert dismiss.status_code == 403
