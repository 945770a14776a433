"""The transcript panel on the interview page: the markup contract, ?hl=, escaping, the
index, untimed transcripts."""

from __future__ import annotations

import re

from .conftest import upload

XSS = """WEBVTT

00:00:01.000 --> 00:00:02.000
<v Mallory>&lt;script&gt;alert(1)&lt;/script&gt; and <b>bold</b>
"""


def test_markup_contract(browser, with_transcript):
    interview_id = with_transcript()
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    items = re.findall(r'<li class="segment[^"]*"[^>]*>', html)
    assert len(items) == 4
    second = items[1]
    segment_id = re.search(r'data-segment-id="(\d+)"', second).group(1)
    assert f'id="seg-{segment_id}"' in second
    assert 'data-start-ms="5000"' in second and 'data-end-ms="10000"' in second
    assert 'data-speaker="Thomas Whitfield"' in second
    assert re.search(r'class="segment speaker-[0-7]', second)
    assert '<a class="time" href="?t=5">0:00:05</a>' in html
    assert '<span class="speaker">Thomas Whitfield</span>' in html
    assert '<span class="text">In Nottingham, in 1931.</span>' in html
    assert "transcript.js" in html and "transcripts.css" in html


def test_hl_marks_the_passage(browser, with_transcript):
    interview_id = with_transcript()
    client = browser(None)
    segments = client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["segments"]
    target = segments[2]["id"]
    html = client.get(f"/interviews/{interview_id}?hl={target}&t=10").get_data(as_text=True)
    marked = re.findall(r'<li class="([^"]*highlight[^"]*)"[^>]*id="seg-(\d+)"', html)
    assert [int(m[1]) for m in marked] == [target]
    ignored = client.get(f"/interviews/{interview_id}?hl=abc").get_data(as_text=True)
    assert "highlight" not in re.sub(r"<script.*?</script>", "", ignored)


def test_search_results_link_to_the_passage(browser, with_transcript):
    with_transcript()
    result = browser(None).get("/api/v1/search?q=apprentice").get_json()["results"][0]
    assert f"hl={result['segment_id']}" in result["url"]
    page = browser(None).get(result["url"].split("#")[0])
    assert f'id="seg-{result["segment_id"]}"' in page.get_data(as_text=True)


def test_cue_markup_is_shown_as_text(browser, make_interview):
    interview_id = make_interview()
    assert upload(browser("archivist"), interview_id, XSS).status_code == 201
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and bold" in html
    assert "<script>alert(1)" not in html


def test_untimed_transcript_has_no_times(browser, make_interview):
    interview_id = make_interview()
    text = "KC: First turn.\n\nJB: Second turn.\n"
    body = upload(browser("archivist"), interview_id, text, "notes.txt").get_json()
    assert body["timed"] is False
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert '<ol class="transcript untimed"' in html
    assert 'class="time"' not in html and 'data-start-ms=""' in html
    assert "Copy link to this moment" not in html


def test_index_with_hyperlinks_is_shown_safely(browser, make_interview, app):
    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.models import Interview
    from oralhist.services import transcripts

    interview_id = make_interview()
    with app.test_request_context():
        interview = db.session.get(Interview, interview_id)
        points = transcripts.index_points_from_json(
            [
                {
                    "start_ms": 5000,
                    "title": "Nottingham <b>years</b>",
                    "synopsis": "Growing up.",
                    "keywords": ["apprentice", "bicycle works"],
                    "hyperlinks": [
                        ["https://example.org/a", "A page"],
                        ["javascript:alert(1)", "Bad"],
                    ],
                }
            ]
        )
        from .conftest import VTT

        transcripts.import_transcript(
            Viewer(user_id=None, role="archivist"),
            interview,
            VTT.encode(),
            "t.vtt",
            index_points=points,
        )
        db.session.commit()
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert 'class="index-point" data-start-ms="5000"' in html
    assert "Nottingham &lt;b&gt;years&lt;/b&gt;" in html
    assert "apprentice; bicycle works" in html
    assert 'href="https://example.org/a"' in html
    assert "javascript:" not in html
    assert 'href="?t=5"' in html


def test_no_transcript_yet(browser, make_interview):
    interview_id = make_interview()
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert "No transcript has been added" in html and "transcript.js" not in html
