"""The interview player in Chromium: ``?t=`` opens it at that moment, multi-part timelines,
and the JS API the transcript area uses."""

from __future__ import annotations

import io

import pytest

from oralhist.extensions import db
from oralhist.models import Interview
from tests.recordings.conftest import wav_bytes


@pytest.fixture
def two_parts(app, users):
    """A published, open interview with two generated WAV parts (10 s and 6 s)."""
    from oralhist.access.policy import Viewer
    from oralhist.services import recordings

    with app.test_request_context():
        interview = Interview(
            accession="OH-PLAYER", title="Player test", status="published", access_level="open"
        )
        db.session.add(interview)
        db.session.flush()
        archivist = Viewer(user_id=None, role="archivist")
        for seconds, freq, label in ((10, 440, "Tape 1"), (6, 660, "Tape 2")):
            recordings.add_recording(
                archivist,
                interview,
                io.BytesIO(wav_bytes(seconds, freq=freq)),
                f"{label}.wav",
                label=label,
            )
        db.session.commit()
        return interview.id


def test_t_param_opens_the_player_at_that_moment(page, two_parts):
    page.goto(f"{page.base}/interviews/{two_parts}?t=5")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return a && a.readyState >= 1 && Math.abs(a.currentTime - 5) < 0.3; }",
        timeout=10_000,
    )
    assert page.evaluate("window.oralhistPlayer.currentMs()") == pytest.approx(5000, abs=300)
    assert page.evaluate("window.oralhistPlayer.durationMs()") == 16_000
    assert page.locator("#oh-where").inner_text() == "Part 1, 00:00:05"
    assert page.console_errors == []
    assert page.outside == []


def test_hms_t_param_lands_in_the_second_part(page, two_parts):
    page.goto(f"{page.base}/interviews/{two_parts}?t=00:00:13")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return a.readyState >= 1 && a.src.includes('/recordings/2/audio')"
        " && Math.abs(a.currentTime - 3) < 0.3; }",
        timeout=10_000,
    )
    part = page.evaluate("window.oralhistPlayer.partAt(13000)")
    assert (part["number"], part["localMs"], part["text"]) == (2, 3000, "Part 2, 00:00:03")
    assert page.locator("#oh-where").inner_text() == "Part 2, 00:00:03"


def test_seek_api_and_moving_to_the_next_part(page, two_parts):
    page.goto(f"{page.base}/interviews/{two_parts}")
    page.wait_for_function("() => window.oralhistPlayer !== undefined")
    page.evaluate(
        "window.seenMs = []; window.oralhistPlayer.onTime(ms => window.seenMs.push(ms));"
        "window.oralhistPlayer.seek(9700); window.oralhistPlayer.play();"
    )
    # the first part ends at 10 s; the player goes on with part 2 by itself
    page.wait_for_function(
        "() => document.getElementById('oh-audio').src.includes('/recordings/2/audio')"
        " && window.seenMs.some(ms => ms > 10000)",
        timeout=15_000,
    )
    assert page.evaluate("window.oralhistPlayer.currentMs()") > 10_000
