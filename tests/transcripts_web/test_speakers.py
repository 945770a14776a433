"""Speakers: rename, link to a person, merge two labels, reassign one segment (API and pages)."""

from __future__ import annotations

from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Speaker

from .conftest import VTT, upload


def speakers(client, interview_id):
    items = client.get(f"/api/v1/interviews/{interview_id}/speakers").get_json()["items"]
    return {s["label"]: s for s in items}


def segments(client, interview_id):
    return client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["segments"]


def test_rename_and_link_to_person(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    ruth = speakers(archivist, interview_id)["Ruth Adler"]
    assert ruth["segment_count"] == 2 and 0 <= ruth["colour_index"] <= 7
    person = archivist.post("/api/v1/people", json={"name": "Ruth A. Adler"}).get_json()
    response = archivist.patch(
        f"/api/v1/interviews/{interview_id}/speakers/{ruth['id']}",
        json={"person_id": person["id"]},
    )
    assert response.status_code == 200 and response.get_json()["name"] == "Ruth A. Adler"
    response = archivist.patch(
        f"/api/v1/interviews/{interview_id}/speakers/{ruth['id']}",
        json={"display_name": "  Dr.  Ruth Adler "},
    )
    assert response.get_json()["display_name"] == "Dr. Ruth Adler"
    assert segments(archivist, interview_id)[0]["speaker"] == "Dr. Ruth Adler"
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert 'data-speaker="Dr. Ruth Adler"' in html
    found = browser(None).get("/api/v1/search?q=bicycle&speaker=Dr.+Ruth+Adler").get_json()
    assert found["total"] >= 1  # the index follows the new name
    bad = archivist.patch(
        f"/api/v1/interviews/{interview_id}/speakers/{ruth['id']}", json={"person_id": 99999}
    )
    assert bad.status_code == 422 and "person_id" in bad.get_json()["error"]["details"]["fields"]
    unlink = archivist.patch(
        f"/api/v1/interviews/{interview_id}/speakers/{ruth['id']}", json={"person_id": None}
    )
    assert unlink.get_json()["person_id"] is None


def test_colour_is_stable_across_versions(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    before = {k: v["colour_index"] for k, v in speakers(archivist, interview_id).items()}
    upload(archivist, interview_id, VTT)
    after = {k: v["colour_index"] for k, v in speakers(archivist, interview_id).items()}
    assert before == after
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert f'class="segment speaker-{before["Ruth Adler"]}' in html


def test_merge_moves_segments_of_every_version(app, browser, with_transcript):
    interview_id = with_transcript(text=VTT.replace("<v Ruth Adler>Where", "<v RA>Where"))
    archivist = browser("archivist")
    upload(archivist, interview_id, VTT.replace("<v Ruth Adler>And", "<v RA>And"))
    found = speakers(archivist, interview_id)
    response = archivist.post(
        f"/api/v1/interviews/{interview_id}/speakers/{found['RA']['id']}/merge",
        json={"into": found["Ruth Adler"]["id"]},
    )
    assert response.status_code == 200
    assert set(speakers(archivist, interview_id)) == {"Ruth Adler", "Thomas Whitfield"}
    assert [s["speaker"] for s in segments(archivist, interview_id)].count("Ruth Adler") == 2
    archivist.post(f"/api/v1/interviews/{interview_id}/transcripts/1/restore")
    assert [s["speaker"] for s in segments(archivist, interview_id)].count("Ruth Adler") == 2
    with app.app_context():
        labels = db.session.scalars(
            select(Speaker.label).where(Speaker.interview_id == interview_id)
        ).all()
    assert sorted(labels) == ["Ruth Adler", "Thomas Whitfield"]


def test_merge_refuses_self_and_other_interviews(browser, with_transcript):
    first = with_transcript()
    second = with_transcript()
    archivist = browser("archivist")
    mine = speakers(archivist, first)["Ruth Adler"]["id"]
    theirs = speakers(archivist, second)["Ruth Adler"]["id"]
    same = archivist.post(f"/api/v1/interviews/{first}/speakers/{mine}/merge", json={"into": mine})
    assert same.status_code == 422
    other = archivist.post(
        f"/api/v1/interviews/{first}/speakers/{mine}/merge", json={"into": theirs}
    )
    assert other.status_code == 404
    missing = archivist.post(f"/api/v1/interviews/{first}/speakers/{mine}/merge", json={})
    assert missing.status_code == 422


def test_reassign_one_segment(browser, with_transcript):
    interview_id = with_transcript()
    other_interview = with_transcript()
    archivist = browser("archivist")
    found = speakers(archivist, interview_id)
    segment = segments(archivist, interview_id)[0]
    response = archivist.patch(
        f"/api/v1/segments/{segment['id']}", json={"speaker_id": found["Thomas Whitfield"]["id"]}
    )
    assert response.status_code == 200 and response.get_json()["speaker"] == "Thomas Whitfield"
    assert segments(archivist, interview_id)[0]["speaker"] == "Thomas Whitfield"
    assert segments(archivist, interview_id)[2]["speaker"] == "Ruth Adler"
    foreign = speakers(archivist, other_interview)["Ruth Adler"]["id"]
    refused = archivist.patch(f"/api/v1/segments/{segment['id']}", json={"speaker_id": foreign})
    assert refused.status_code == 422
    cleared = archivist.patch(f"/api/v1/segments/{segment['id']}", json={"speaker_id": None})
    assert cleared.get_json()["speaker"] is None
    assert archivist.patch("/api/v1/segments/999999", json={"speaker_id": None}).status_code == 404


def test_speaker_pages(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    found = speakers(archivist, interview_id)
    page = archivist.get(f"/interviews/{interview_id}/speakers")
    assert page.status_code == 200 and 'name="display_name"' in page.get_data(as_text=True)
    reader = browser(None).get(f"/interviews/{interview_id}/speakers").get_data(as_text=True)
    assert "Thomas Whitfield" in reader and 'name="display_name"' not in reader

    archivist.post(
        f"/interviews/{interview_id}/speakers/{found['Ruth Adler']['id']}",
        data={"display_name": "Ruth", "person_id": ""},
    )
    assert speakers(archivist, interview_id)["Ruth Adler"]["name"] == "Ruth"

    segment = segments(archivist, interview_id)[0]
    form = archivist.get(f"/segments/{segment['id']}/speaker")
    assert form.status_code == 200 and segment["text"] in form.get_data(as_text=True)
    done = archivist.post(
        f"/segments/{segment['id']}/speaker",
        data={"speaker_id": str(found["Thomas Whitfield"]["id"])},
    )
    assert done.status_code == 302 and f"hl={segment['id']}" in done.headers["Location"]
    assert segments(archivist, interview_id)[0]["speaker"] == "Thomas Whitfield"

    archivist.post(
        f"/interviews/{interview_id}/speakers/{found['Thomas Whitfield']['id']}/merge",
        data={"into": str(found["Ruth Adler"]["id"]), "confirm": "yes"},
    )
    assert set(speakers(archivist, interview_id)) == {"Ruth Adler"}
    assert {s["speaker"] for s in segments(archivist, interview_id)} == {"Ruth"}
