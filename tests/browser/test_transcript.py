"""The transcript beside the player in Chromium: time links seek the audio, the highlighted
segment follows playback, ?t= starts the player there, ?hl= marks a passage, and cue text
with markup is shown as text (no script runs)."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from oralhist.extensions import db

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
<v Ruth Adler>Where does your story begin?

00:00:05.000 --> 00:00:10.000
<v Thomas Whitfield>In Nottingham, in 1931.

00:00:10.000 --> 00:00:15.000
<v Ruth Adler>&lt;script&gt;alert(1)&lt;/script&gt; And the bicycle works?

00:00:15.000 --> 00:00:20.000
<v Thomas Whitfield>I started there as an apprentice.
"""


def wav_bytes(seconds: int = 20, rate: int = 8000) -> bytes:
    """A quiet 440 Hz-ish square wave, mono 16-bit (the stdlib ``wave`` module)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        period = rate // 440
        frame = b"".join(
            struct.pack("<h", 800 if (i % period) < period // 2 else -800) for i in range(rate)
        )
        out.writeframes(frame * seconds)
    return buffer.getvalue()


@pytest.fixture
def interview_id(app, users):
    from oralhist.access import load_viewer
    from oralhist.models import User
    from oralhist.services import catalogue, recordings, transcripts

    with app.test_request_context():
        viewer = load_viewer(db.session.get(User, users["archivist"]))
        interview = catalogue.save_interview(viewer, {"title": "Browser test interview"})
        recordings.add_recording(viewer, interview, io.BytesIO(wav_bytes()), "tone.wav")
        transcripts.import_transcript(viewer, interview, VTT.encode(), "talk.vtt")
        catalogue.publish(viewer, interview)
        db.session.commit()
        from oralhist.services import indexing

        indexing.process_pending()
        return interview.id


def open_page(page, interview_id, query=""):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{page.base}/interviews/{interview_id}{query}")
    page.wait_for_function("() => !!window.oralhistPlayer")
    return dialogs


def test_clicking_a_time_seeks_the_audio(page, interview_id):
    open_page(page, interview_id)
    page.click("#tx-list li.segment:nth-child(3) a.time")
    page.wait_for_function(
        "() => Math.abs(document.getElementById('oh-audio').currentTime - 10) < 0.6"
    )
    assert page.locator("#tx-list li.segment.current").count() == 1
    assert page.locator("#tx-list li.segment:nth-child(3)").get_attribute("class").count("current")
    assert "t=10" in page.url


def test_highlight_follows_playback(page, interview_id):
    open_page(page, interview_id)
    page.click("#tx-list li.segment:nth-child(1) a.time")
    page.wait_for_selector("#tx-list li.segment:nth-child(1).current")
    # Jump near the end of the first cue and let it play across the boundary.
    page.evaluate("() => { window.oralhistPlayer.seek(4300); window.oralhistPlayer.play(); }")
    page.wait_for_selector("#tx-list li.segment:nth-child(2).current", timeout=8000)
    assert page.locator("#tx-list li.segment.current").count() == 1
    playing = page.evaluate("() => !document.getElementById('oh-audio').paused")
    assert playing


def test_t_parameter_sets_the_start(page, interview_id):
    open_page(page, interview_id, "?t=10")
    # the player stands at 10 s (it fetches no audio before playback: preload="none")
    page.wait_for_function("() => Math.abs(window.oralhistPlayer.currentMs() - 10000) < 600")
    page.wait_for_selector("#tx-list li.segment:nth-child(3).current")


def test_hl_highlights_and_scrolls(page, interview_id, app):
    from sqlalchemy import select

    from oralhist.models import Segment

    with app.app_context():
        target = db.session.scalars(select(Segment.id).order_by(Segment.position)).all()[3]
    open_page(page, interview_id, f"?hl={target}")
    item = page.locator(f"#seg-{target}")
    assert "highlight" in item.get_attribute("class")


def test_script_in_a_cue_is_text(page, interview_id):
    dialogs = open_page(page, interview_id)
    text = page.locator("#tx-list li.segment:nth-child(3) .text").inner_text()
    assert text.startswith("<script>alert(1)</script>")
    assert page.locator("#tx-list script").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.console_errors == []
    assert page.outside == []


def test_search_in_transcript_and_copy_link(page, interview_id):
    open_page(page, interview_id)
    page.fill("#tx-q", "Nottingham")
    page.click("#tx-search button[type=submit]")
    page.wait_for_selector("#tx-list li.segment.match")
    assert page.locator("#tx-count").inner_text() == "1 of 1"
    page.evaluate("() => window.oralhistPlayer.seek(15000)")
    page.click("#tx-copy")
    page.wait_for_function("() => document.getElementById('tx-copy-text').value !== ''")
    value = page.locator("#tx-copy-text").input_value()
    assert value.endswith(f"/interviews/{interview_id}?t=15")


WHISPER_WORDS = {
    "segments": [
        {
            "start": 0.0,
            "end": 4.0,
            "text": " Where does your story begin?",
            "words": [
                {"word": " Where", "start": 0.0, "end": 0.5, "probability": 0.9},
                {"word": " does", "start": 0.6, "end": 1.0, "probability": 0.9},
                {"word": " your", "start": 1.1, "end": 1.5, "probability": 0.9},
                {"word": " story", "start": 2.0, "end": 2.8, "probability": 0.9},
                {"word": " begin?", "start": 3.0, "end": 4.0, "probability": 0.9},
            ],
        },
        {"start": 4.0, "end": 8.0, "text": " In Nottingham."},
    ]
}


@pytest.fixture
def whisper_interview_id(app, users):
    import json

    from oralhist.access import load_viewer
    from oralhist.models import User
    from oralhist.services import catalogue, indexing, recordings, transcripts

    with app.test_request_context():
        viewer = load_viewer(db.session.get(User, users["archivist"]))
        interview = catalogue.save_interview(viewer, {"title": "Whisper words"})
        recordings.add_recording(viewer, interview, io.BytesIO(wav_bytes(10)), "tone.wav")
        data = json.dumps(WHISPER_WORDS).encode()
        transcripts.import_transcript(viewer, interview, data, "whisper.json")
        catalogue.publish(viewer, interview)
        db.session.commit()
        indexing.process_pending()
        return interview.id


def test_the_word_being_spoken_is_highlighted(page, whisper_interview_id):
    open_page(page, whisper_interview_id)
    page.evaluate("() => window.oralhistPlayer.seek(2100)")
    page.wait_for_selector("#tx-list li.segment:nth-child(1) .word-current")
    assert page.locator(".word-current").count() == 1
    assert page.locator(".word-current").inner_text() == "story"
    page.evaluate("() => window.oralhistPlayer.seek(3200)")
    page.wait_for_function("() => document.querySelector('.word-current').textContent === 'begin?'")
    # The segment without word timings marks no word.
    page.evaluate("() => window.oralhistPlayer.seek(5000)")
    page.wait_for_selector("#tx-list li.segment:nth-child(2).current")
    assert page.locator(".word-current").count() == 0
    assert page.locator("#tx-list li.segment:nth-child(1) .text").inner_text() == (
        "Where does your story begin?"
    )
    assert page.console_errors == []


def test_a_word_sought_before_the_word_times_arrive_is_marked_when_they_do(
    page, whisper_interview_id
):
    # The word times are fetched after the page loads; a reader who seeks first (a ?t= link,
    # a click on a time) must see the word marked once they arrive, with the player paused.
    held = []
    page.route("**/transcript/words", lambda route: held.append(route))
    open_page(page, whisper_interview_id)
    page.evaluate("() => window.oralhistPlayer.seek(2100)")
    page.wait_for_selector("#tx-list li.segment:nth-child(1).current")
    page.wait_for_function("() => true")  # lets Playwright hand the held request over
    assert len(held) == 1
    assert page.locator(".word-current").count() == 0
    held[0].continue_()
    page.wait_for_selector("#tx-list li.segment:nth-child(1) .word-current")
    assert page.locator(".word-current").inner_text() == "story"
    assert page.evaluate("() => document.getElementById('oh-audio').paused")
    assert page.console_errors == []
