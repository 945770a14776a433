"""The editor's API: each saved edit is a new version, optimistic locking, validation,
roles, index points, the diff, and what follows an edit (search, passages)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import AuditEvent, Segment, Transcript

from .conftest import VTT, segments, upload, version


def test_patch_text_is_a_new_version_sharing_the_other_segments(app, browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    before = segments(archivist, interview_id)
    target = before[1]
    response = archivist.patch(
        f"/api/v1/segments/{target['id']}",
        json={"text": "In Nottingham, in 1932.", "base_version": 1},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == 2 and body["id"] == target["id"]
    assert body["text"] == "In Nottingham, in 1932."
    after = segments(archivist, interview_id)
    assert [s["id"] for s in after] == [s["id"] for s in before]
    assert [s["text"] for s in after] == [
        before[0]["text"],
        "In Nottingham, in 1932.",
        before[2]["text"],
        before[3]["text"],
    ]
    with app.app_context():
        # One row more than the import's four: the old text, kept for version 1.
        assert db.session.scalar(select(func.count()).select_from(Segment)) == 5
        old = db.session.scalar(select(Transcript).where(Transcript.version == 1))
        assert [s.text for s in old.segments][1] == "In Nottingham, in 1931."
        new = db.session.scalar(select(Transcript).where(Transcript.version == 2))
        assert new.is_current and not old.is_current
        assert new.base_version == 1 and new.changes == {"edited": 1}
        assert new.created_by.email == "archivist@example.org"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transcript.edit"))
        assert event is not None
    versions = archivist.get(f"/api/v1/interviews/{interview_id}/transcripts").get_json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert versions["items"][0]["created_by"] == "Archivist"
    assert versions["items"][0]["base_version"] == 1


def test_a_stale_base_version_is_a_conflict_with_what_changed(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    first, second = segments(archivist, interview_id)[:2]
    saved = archivist.patch(
        f"/api/v1/segments/{first['id']}", json={"text": "Where did it begin?", "base_version": 1}
    )
    assert saved.status_code == 200
    stale = archivist.patch(
        f"/api/v1/segments/{second['id']}", json={"text": "Somewhere else.", "base_version": 1}
    )
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "version_conflict"
    assert error["details"]["current_version"] == 2 and error["details"]["base_version"] == 1
    assert "saved by Archivist" in error["message"] and "1 segment changed" in error["message"]
    (hunk,) = error["details"]["changes"]
    assert hunk["new"][0]["text"] == "Where did it begin?"
    changed = error["details"]["changed_segment_ids"]
    assert first["id"] in changed and second["id"] not in changed
    assert error["details"]["changed_index_point_ids"] == []
    assert segments(archivist, interview_id)[1]["text"] == second["text"]  # nothing saved
    assert version(archivist, interview_id) == 2


def test_split_at_a_time_and_merge_back(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[3]  # "I started there as an apprentice."
    response = archivist.post(
        f"/api/v1/segments/{target['id']}/split",
        json={"offset": 15, "at_ms": 17500, "base_version": 1},
    )
    assert response.status_code == 201, response.get_json()
    first, second = response.get_json()["segments"]
    assert (first["id"], first["text"], first["start_ms"], first["end_ms"]) == (
        target["id"],
        "I started there",
        15000,
        17500,
    )
    assert (second["text"], second["start_ms"], second["end_ms"]) == (
        "as an apprentice.",
        17500,
        20000,
    )
    assert second["speaker"] == "Thomas Whitfield"
    assert [s["text"] for s in segments(archivist, interview_id)][-2:] == [
        "I started there",
        "as an apprentice.",
    ]
    merged = archivist.post(f"/api/v1/segments/{target['id']}/merge", json={"base_version": 2})
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["version"] == 3 and body["text"] == "I started there as an apprentice."
    assert (body["start_ms"], body["end_ms"]) == (15000, 20000)
    assert len(segments(archivist, interview_id)) == 4


def test_split_without_a_time_takes_it_in_proportion(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[1]  # 5000-10000 "In Nottingham, in 1931."
    response = archivist.post(f"/api/v1/segments/{target['id']}/split", json={"offset": 14})
    assert response.status_code == 201
    second = response.get_json()["segments"][1]
    assert second["text"] == "in 1931."
    assert 5000 < second["start_ms"] < 10000


def test_merge_refuses_two_speakers_and_the_last_segment(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    rows = segments(archivist, interview_id)
    refused = archivist.post(f"/api/v1/segments/{rows[0]['id']}/merge", json={})
    assert refused.status_code == 422
    assert "another speaker" in refused.get_json()["error"]["message"]
    last = archivist.post(f"/api/v1/segments/{rows[3]['id']}/merge", json={})
    assert last.status_code == 422 and "last segment" in last.get_json()["error"]["message"]
    assert version(archivist, interview_id) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_ms": 9000, "end_ms": 1000}, "start_ms"),
        ({"start_ms": -1}, "start_ms"),
        ({"end_ms": "soon"}, "end_ms"),
        ({"text": "   "}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"speaker_id": 999999}, "speaker_id"),
        ({"speaker_id": "Ruth"}, "speaker_id"),
        ({}, "text"),
        ({"text": "fine", "base_version": "one"}, "base_version"),
    ],
)
def test_bad_segment_edits_are_422_naming_the_field(browser, with_transcript, body, field):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[1]
    response = archivist.patch(f"/api/v1/segments/{target['id']}", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]
    assert version(archivist, interview_id) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"offset": 0}, "offset"),
        ({"offset": 999}, "offset"),
        ({}, "offset"),
        ({"offset": 5, "at_ms": 99_000}, "at_ms"),
    ],
)
def test_bad_splits_are_422(browser, with_transcript, body, field):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[1]
    response = archivist.post(f"/api/v1/segments/{target['id']}/split", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_a_batch_is_one_version_and_names_split_parts_by_ref(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    rows = segments(archivist, interview_id)
    speakers = {
        s["label"]: s["id"]
        for s in archivist.get(f"/api/v1/interviews/{interview_id}/speakers").get_json()["items"]
    }
    operations = [
        {"op": "update", "segment_id": rows[0]["id"], "text": "Where does it begin?"},
        {"op": "split", "segment_id": rows[3]["id"], "offset": 15, "ref": "tail"},
        {"op": "update", "segment_id": "tail", "speaker_id": speakers["Ruth Adler"]},
        {"op": "update", "segment_id": rows[2]["id"], "start_ms": 10250},
        {"op": "index_add", "start_ms": 5000, "title": "Childhood", "keywords": "Nottingham; 1931"},
    ]
    response = archivist.post(
        f"/api/v1/interviews/{interview_id}/transcript/edits",
        json={"base_version": 1, "operations": operations},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"] == 2 and body["created"] is True
    assert body["changes"] == {"edited": 2, "split": 1, "index": 1}
    tail_id = body["segment_ids"]["tail"]
    after = segments(archivist, interview_id)
    assert [s["id"] for s in after][-1] == tail_id
    assert after[-1]["speaker"] == "Ruth Adler" and after[2]["start_ms"] == 10250
    index = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["index"]
    assert [(p["title"], p["keywords"]) for p in index] == [("Childhood", ["Nottingham", "1931"])]
    again = archivist.post(
        f"/api/v1/interviews/{interview_id}/transcript/edits",
        json={
            "base_version": 2,
            "operations": [{"op": "update", "segment_id": rows[1]["id"], "text": rows[1]["text"]}],
        },
    )
    assert again.status_code == 200 and again.get_json()["created"] is False
    bad = archivist.post(
        f"/api/v1/interviews/{interview_id}/transcript/edits",
        json={"base_version": 2, "operations": [{"op": "explode"}]},
    )
    assert bad.status_code == 422 and "operation 1" in bad.get_json()["error"]["message"]
    assert version(archivist, interview_id) == 2


def test_index_points_add_edit_remove(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    added = archivist.post(
        f"/api/v1/interviews/{interview_id}/index-points",
        json={"start_ms": 10000, "title": "The works", "synopsis": "Bicycles.", "base_version": 1},
    )
    assert added.status_code == 201, added.get_json()
    point = added.get_json()
    assert point["title"] == "The works" and point["version"] == 2
    earlier = archivist.post(
        f"/api/v1/interviews/{interview_id}/index-points",
        json={"start_ms": 0, "title": "Beginnings", "keywords": ["origins"]},
    )
    assert earlier.status_code == 201
    changed = archivist.patch(
        f"/api/v1/index-points/{point['id']}",
        json={"title": "The bicycle works", "base_version": 3},
    )
    assert changed.status_code == 200 and changed.get_json()["id"] == point["id"]
    index = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["index"]
    assert [p["title"] for p in index] == ["Beginnings", "The bicycle works"]
    untitled = archivist.patch(f"/api/v1/index-points/{point['id']}", json={"title": ""})
    assert untitled.status_code == 422
    assert "title" in untitled.get_json()["error"]["details"]["fields"]
    stale = archivist.delete(f"/api/v1/index-points/{point['id']}?base_version=2")
    assert stale.status_code == 409
    removed = archivist.delete(f"/api/v1/index-points/{point['id']}?base_version=4")
    assert removed.status_code == 200 and removed.get_json()["version"] == 5
    index = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["index"]
    assert [p["title"] for p in index] == ["Beginnings"]
    old = archivist.get(f"/api/v1/interviews/{interview_id}/transcripts/4/diff?against=1")
    assert [c["kind"] for c in old.get_json()["index"]] == ["added", "added"]


def test_the_diff_shows_the_changed_words(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[1]
    archivist.patch(f"/api/v1/segments/{target['id']}", json={"text": "In Derby, in 1931."})
    diff = browser(None).get(f"/api/v1/interviews/{interview_id}/transcripts/2/diff")
    assert diff.status_code == 200
    body = diff.get_json()
    assert (body["from_version"], body["to_version"], body["unchanged"]) == (1, 2, 3)
    (hunk,) = body["hunks"]
    assert hunk["kind"] == "changed"
    assert hunk["words"] == [
        {"op": "equal", "text": "In"},
        {"op": "delete", "text": "Nottingham,"},
        {"op": "insert", "text": "Derby,"},
        {"op": "equal", "text": "in 1931."},
    ]
    missing = archivist.get(f"/api/v1/interviews/{interview_id}/transcripts/9/diff")
    assert missing.status_code == 404
    bad = archivist.get(f"/api/v1/interviews/{interview_id}/transcripts/2/diff?against=x")
    assert bad.status_code == 422


def test_restoring_an_old_version_then_editing_builds_on_it(app, browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    rows = segments(archivist, interview_id)
    archivist.patch(f"/api/v1/segments/{rows[0]['id']}", json={"text": "Version two."})
    archivist.patch(f"/api/v1/segments/{rows[1]['id']}", json={"text": "Also three."})
    restored = archivist.post(f"/api/v1/interviews/{interview_id}/transcripts/1/restore")
    assert restored.status_code == 200
    shown = segments(archivist, interview_id)
    assert [s["text"] for s in shown] == [r["text"] for r in rows]
    edited = archivist.patch(
        f"/api/v1/segments/{shown[3]['id']}", json={"text": "Four, on one.", "base_version": 1}
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["version"] == 4
    assert [s["text"] for s in segments(archivist, interview_id)] == [
        rows[0]["text"],
        rows[1]["text"],
        rows[2]["text"],
        "Four, on one.",
    ]
    with app.app_context():
        by_version = {
            t.version: [s.text for s in t.segments] for t in db.session.scalars(select(Transcript))
        }
    assert by_version[1] == [r["text"] for r in rows]
    assert by_version[2] == ["Version two.", *[r["text"] for r in rows[1:]]]
    assert by_version[3] == ["Version two.", "Also three.", *[r["text"] for r in rows[2:]]]
    assert by_version[4] == [*[r["text"] for r in rows[:3]], "Four, on one."]


def test_search_follows_the_edited_text(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    target = segments(archivist, interview_id)[3]
    assert browser(None).get("/api/v1/search?q=apprentice").get_json()["total"] >= 1
    archivist.patch(
        f"/api/v1/segments/{target['id']}", json={"text": "I started there as a wheelwright."}
    )
    found = browser(None).get("/api/v1/search?q=wheelwright").get_json()
    assert found["total"] >= 1
    assert {r["interview_id"] for r in found["results"]} == {interview_id}
    gone = browser(None).get("/api/v1/search?q=apprentice").get_json()
    assert all(r["interview_id"] != interview_id for r in gone["results"])


def test_passage_links_keep_their_moment_across_versions(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    document = archivist.post(
        "/api/v1/documents", json={"title": "Works rules", "access_level": "open"}
    )
    assert document.status_code == 201, document.get_json()
    doc_id = document.get_json()["id"]
    link = archivist.post(
        f"/api/v1/documents/{doc_id}/mentions",
        json={"interview_id": interview_id, "start_ms": 10000, "end_ms": 20000},
    )
    assert link.status_code == 201, link.get_json()
    rows = segments(archivist, interview_id)
    split = archivist.post(
        f"/api/v1/segments/{rows[3]['id']}/split", json={"offset": 15, "at_ms": 17000}
    )
    assert split.status_code == 201
    archivist.patch(f"/api/v1/segments/{rows[2]['id']}", json={"text": "And the cycle works?"})
    passage = archivist.get(f"/api/v1/documents/{doc_id}").get_json()["passages"][0]
    assert (passage["start_ms"], passage["end_ms"]) == (10000, 20000)
    assert passage["text"] == "And the cycle works? I started there as an apprentice."
    assert len(passage["segments"]) == 3


# --- who may do what ---------------------------------------------------------------------

ROLES = ("anon", "researcher", "contributor", "contributor2", "archivist")
#: The refusal per role: on the contributor's draft, and on a published interview (roles
#: not listed may edit, and get each call's own answer).
REFUSED = {
    "draft": {"anon": 401, "researcher": 404, "contributor2": 404},
    "published": {"anon": 401, "researcher": 403, "contributor": 403, "contributor2": 403},
}


def _calls(interview_id, rows, point_id):
    return [
        ("patch", f"/api/v1/segments/{rows[0]['id']}", {"text": "Edited."}, 200),
        ("post", f"/api/v1/segments/{rows[1]['id']}/split", {"offset": 14}, 201),
        ("post", f"/api/v1/segments/{rows[2]['id']}/merge", {}, 422),  # two speakers
        (
            "post",
            f"/api/v1/interviews/{interview_id}/transcript/edits",
            {"operations": [{"op": "update", "segment_id": rows[3]["id"], "end_ms": 19000}]},
            201,
        ),
        (
            "post",
            f"/api/v1/interviews/{interview_id}/index-points",
            {"start_ms": 1000, "title": "Added"},
            201,
        ),
        ("patch", f"/api/v1/index-points/{point_id}", {"title": "Renamed"}, 200),
        ("delete", f"/api/v1/index-points/{point_id}", None, 200),
    ]


@pytest.mark.parametrize("state", ["draft", "published"])
@pytest.mark.parametrize("role", ROLES)
def test_roles(browser, make_interview, role, state):
    interview_id = make_interview("open", state)
    archivist = browser("archivist")
    assert upload(archivist, interview_id, VTT).status_code == 201
    added = archivist.post(
        f"/api/v1/interviews/{interview_id}/index-points", json={"start_ms": 0, "title": "P"}
    )
    point_id = added.get_json()["id"]
    rows = segments(archivist, interview_id)
    client = browser(None if role == "anon" else role)
    for method, url, body, allowed in _calls(interview_id, rows, point_id):
        expected = REFUSED[state].get(role, allowed)
        call = getattr(client, method)
        response = call(url) if body is None else call(url, json=body)
        assert response.status_code == expected, (method, url, response.get_json())
    diff = client.get(f"/api/v1/interviews/{interview_id}/transcripts/2/diff?against=1")
    readable = state == "published" or role in ("contributor", "archivist")
    assert diff.status_code == (200 if readable else 404)


WORD_TIMED = """WEBVTT

00:00:00.000 --> 00:00:03.000
<v Ann>one <00:00:01.250>two <00:00:02.100>three
"""


def test_a_split_without_a_time_starts_at_the_word_timings(browser, make_interview):
    interview_id = make_interview("open", "published")
    archivist = browser("archivist")
    assert upload(archivist, interview_id, WORD_TIMED).status_code == 201
    (only,) = segments(archivist, interview_id)
    assert [w["start_ms"] for w in only["words"]][1:] == [1250, 2100]
    page = archivist.get(f"/interviews/{interview_id}/transcript/edit").get_data(as_text=True)
    assert f'data-words-url="/interviews/{interview_id}/transcript/words"' in page
    response = archivist.post(f"/api/v1/segments/{only['id']}/split", json={"offset": 4})
    assert response.status_code == 201, response.get_json()
    first, second = response.get_json()["segments"]
    assert (first["text"], first["end_ms"]) == ("one", 1250)
    assert (second["text"], second["start_ms"], second["end_ms"]) == ("two three", 1250, 3000)
    after = segments(archivist, interview_id)
    assert [len(s["words"]) for s in after] == [1, 2]
    # A changed word drops the timings (they would belong to another word); punctuation not.
    fixed = archivist.patch(f"/api/v1/segments/{after[1]['id']}", json={"text": "Two, three."})
    assert fixed.status_code == 200
    assert [w["text"] for w in segments(archivist, interview_id)[1]["words"]] == ["Two,", "three."]
    archivist.patch(f"/api/v1/segments/{after[1]['id']}", json={"text": "Four five six."})
    assert segments(archivist, interview_id)[1]["words"] == []
