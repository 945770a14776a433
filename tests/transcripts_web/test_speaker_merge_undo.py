"""Speaker merge asks for confirmation and can be undone (issue 15): the page shows what a
merge will move before anything changes; an undo puts the speaker back with the segments
that moved (a segment reassigned since keeps its new speaker); only editors may undo."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import AuditEvent

from .conftest import VTT, upload
from .test_speakers import segments, speakers

TWO_LABELS = VTT.replace("<v Ruth Adler>Where", "<v RA>Where")


@pytest.fixture
def draft(browser, with_transcript):
    """A contributor's draft whose first cue is spoken by "RA" (a second label of Ruth),
    also in a second version."""
    interview_id = with_transcript(state="draft", text=TWO_LABELS)
    upload(browser("archivist"), interview_id, TWO_LABELS)
    return interview_id


def _merge_url(interview_id, speaker_id):
    return f"/interviews/{interview_id}/speakers/{speaker_id}/merge"


def test_the_page_asks_before_merging_and_changes_nothing(browser, draft):
    owner = browser("contributor")
    found = speakers(owner, draft)
    page = owner.post(
        _merge_url(draft, found["RA"]["id"]), data={"into": found["Ruth Adler"]["id"]}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Merge “RA” into “Ruth Adler”?" in html
    assert "1 segment of the current version (2 in all versions)" in html
    assert 'name="confirm" value="yes"' in html
    assert set(speakers(owner, draft)) == {"RA", "Ruth Adler", "Thomas Whitfield"}


def test_merge_then_undo_restores_the_speaker_and_its_segments(app, browser, draft):
    owner = browser("contributor")
    found = speakers(owner, draft)
    done = owner.post(
        _merge_url(draft, found["RA"]["id"]),
        data={"into": found["Ruth Adler"]["id"], "confirm": "yes"},
    )
    assert done.status_code == 302
    assert set(speakers(owner, draft)) == {"Ruth Adler", "Thomas Whitfield"}
    page = owner.get(f"/interviews/{draft}/speakers").get_data(as_text=True)
    assert "Recent merges" in page and "“RA” merged into “Ruth Adler” (2 segments" in page
    merge_id = owner.get(f"/api/v1/interviews/{draft}/speaker-merges").json["items"][0]["id"]
    undone = owner.post(f"/interviews/{draft}/speaker-merges/{merge_id}/undo", data={})
    assert undone.status_code == 302
    assert set(speakers(owner, draft)) == {"RA", "Ruth Adler", "Thomas Whitfield"}
    assert [s["speaker"] for s in segments(owner, draft)] == [
        "RA",
        "Thomas Whitfield",
        "Ruth Adler",
        "Thomas Whitfield",
    ]
    assert "Recent merges" not in owner.get(f"/interviews/{draft}/speakers").get_data(as_text=True)
    again = owner.post(f"/api/v1/interviews/{draft}/speaker-merges/{merge_id}/undo", json={})
    assert again.status_code == 409 and "undone already" in again.json["error"]["message"]
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "speaker.merge" in actions and "speaker.merge_undo" in actions


def test_a_segment_reassigned_after_the_merge_keeps_its_speaker(browser, draft):
    archivist = browser("archivist")
    found = speakers(archivist, draft)
    archivist.post(
        f"/api/v1/interviews/{draft}/speakers/{found['RA']['id']}/merge",
        json={"into": found["Ruth Adler"]["id"]},
    )
    first = segments(archivist, draft)[0]
    archivist.patch(
        f"/api/v1/segments/{first['id']}", json={"speaker_id": found["Thomas Whitfield"]["id"]}
    )
    merge_id = archivist.get(f"/api/v1/interviews/{draft}/speaker-merges").json["items"][0]["id"]
    restored = archivist.post(f"/api/v1/interviews/{draft}/speaker-merges/{merge_id}/undo", json={})
    assert restored.status_code == 200 and restored.json["label"] == "RA"
    assert segments(archivist, draft)[0]["speaker"] == "Thomas Whitfield"


def test_undo_is_refused_when_the_label_came_back(browser, draft):
    archivist = browser("archivist")
    found = speakers(archivist, draft)
    archivist.post(
        f"/api/v1/interviews/{draft}/speakers/{found['RA']['id']}/merge",
        json={"into": found["Ruth Adler"]["id"]},
    )
    upload(archivist, draft, TWO_LABELS)  # a new version brings the label "RA" back
    merge_id = archivist.get(f"/api/v1/interviews/{draft}/speaker-merges").json["items"][0]["id"]
    refused = archivist.post(f"/api/v1/interviews/{draft}/speaker-merges/{merge_id}/undo", json={})
    assert refused.status_code == 409
    assert "labelled RA again" in refused.json["error"]["message"]


@pytest.mark.parametrize(
    ("role", "api", "page"),
    [
        (None, 401, 302),
        ("researcher", 404, 404),
        ("contributor2", 404, 404),
        ("contributor", 200, 302),
        ("archivist", 200, 302),
    ],
)
def test_who_may_undo_a_merge_of_a_draft(browser, draft, role, api, page):
    archivist = browser("archivist")
    found = speakers(archivist, draft)
    archivist.post(
        f"/api/v1/interviews/{draft}/speakers/{found['RA']['id']}/merge",
        json={"into": found["Ruth Adler"]["id"]},
    )
    merge_id = archivist.get(f"/api/v1/interviews/{draft}/speaker-merges").json["items"][0]["id"]
    client = browser(role)
    url = f"/interviews/{draft}/speaker-merges/{merge_id}/undo"
    listed = client.get(f"/api/v1/interviews/{draft}/speaker-merges")
    assert listed.status_code == (404 if api == 401 else api)
    if api == 200:
        assert client.post("/api/v1" + url, json={}).status_code == 200
    else:
        assert client.post("/api/v1" + url, json={}).status_code == api
        assert client.post(url, data={}).status_code == page
        assert "RA" not in speakers(archivist, draft)


def test_undo_of_a_published_interview_is_for_archivists(browser, with_transcript):
    interview_id = with_transcript(text=TWO_LABELS)
    archivist = browser("archivist")
    found = speakers(archivist, interview_id)
    archivist.post(
        f"/api/v1/interviews/{interview_id}/speakers/{found['RA']['id']}/merge",
        json={"into": found["Ruth Adler"]["id"]},
    )
    items = archivist.get(f"/api/v1/interviews/{interview_id}/speaker-merges").json["items"]
    url = f"/api/v1/interviews/{interview_id}/speaker-merges/{items[0]['id']}/undo"
    assert browser("contributor").post(url, json={}).status_code == 403
    assert browser("researcher").post(url, json={}).status_code == 403
    assert archivist.post(url, json={}).status_code == 200
