"""The interview page and the JSON transcript API page a long transcript (issue 12 item 7:
a 10^6-segment transcript's page took 21.7 s and 245 MiB of HTML), and links into it (``?t=``,
search results' ``hl``) land on the page that holds the moment."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Segment, Transcript

from .conftest import upload

SEGMENTS = 12


def _vtt(n: int) -> str:
    cues = [
        f"00:00:{2 * i:02d}.000 --> 00:00:{2 * i + 1:02d}.500\n<v Ruth Adler>Cue number {i} here.\n"
        for i in range(n)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


@pytest.fixture
def long_one(app, browser, make_interview):
    app.config.update(TRANSCRIPT_PAGE_SEGMENTS=5)
    interview_id = make_interview()
    assert upload(browser("archivist"), interview_id, _vtt(SEGMENTS)).status_code == 201
    with app.app_context():
        ids = db.session.scalars(
            select(Segment.id)
            .join(Transcript)
            .where(Transcript.interview_id == interview_id)
            .order_by(Segment.position)
        ).all()
    return interview_id, ids


def _shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="seg-(\d+)"', html)]


def test_the_interview_page_shows_one_page_of_segments(browser, long_one):
    interview_id, ids = long_one
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert _shown(html) == ids[:5]
    assert "12 segments" in html
    assert "Segments 1–5 of 12 · page 1 of 3" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    last = browser(None).get(f"/interviews/{interview_id}?tx_page=3").get_data(as_text=True)
    assert _shown(last) == ids[10:]
    assert "Segments 11–12 of 12 · page 3 of 3" in last


@pytest.mark.parametrize("bad", ["0", "4", "x", "99999999999999999999", "-1"])
@pytest.mark.parametrize("name", ["tx_page", "t", "hl"])
def test_a_page_or_moment_that_does_not_exist_shows_the_first(browser, long_one, bad, name):
    interview_id, ids = long_one
    response = browser(None).get(f"/interviews/{interview_id}?{name}={bad}")
    assert response.status_code == 200
    assert _shown(response.get_data(as_text=True)) == ids[:5]


def test_a_search_result_and_a_moment_land_on_their_page(browser, long_one):
    interview_id, ids = long_one
    client = browser(None)
    hit = client.get(f"/interviews/{interview_id}?t=14&hl={ids[7]}").get_data(as_text=True)
    assert _shown(hit) == ids[5:10]
    assert 'class="segment speaker-' in hit and re.search(
        rf'class="[^"]*highlight[^"]*" id="seg-{ids[7]}"', hit
    )
    # ?t=21 is cue 10 (20.0-21.5 s): page 3.
    moment = client.get(f"/interviews/{interview_id}?t=21").get_data(as_text=True)
    assert _shown(moment) == ids[10:]
    # A search result's own link goes to the page of its segment.
    results = client.get("/api/v1/search?q=number").get_json()["results"]
    far = next(r for r in results if r["segment_id"] == ids[11])
    assert _shown(client.get(far["url"]).get_data(as_text=True)) == ids[10:]


def test_a_short_transcript_has_no_pager(app, browser, make_interview):
    interview_id = make_interview()
    assert upload(browser("archivist"), interview_id, _vtt(3)).status_code == 201
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert len(_shown(html)) == 3
    assert "transcript-pages" not in html


def test_the_json_transcript_is_paginated(app, browser, long_one):
    interview_id, ids = long_one
    client = browser(None)
    first = client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert first["total"] == SEGMENTS and first["page"] == 1
    assert [s["id"] for s in first["segments"]] == ids  # default per_page 1,000
    page = client.get(f"/api/v1/interviews/{interview_id}/transcript?per_page=5&page=3").get_json()
    assert [s["id"] for s in page["segments"]] == ids[10:]
    assert (page["page"], page["per_page"], page["total"]) == (3, 5, SEGMENTS)
    too_many = client.get(f"/api/v1/interviews/{interview_id}/transcript?per_page=5001")
    assert too_many.status_code == 422
    assert "per_page must be at most 5000" in too_many.get_json()["error"]["message"]
