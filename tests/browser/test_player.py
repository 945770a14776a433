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
    page.wait_for_function("() => window.oralhistPlayer !== undefined")
    assert page.evaluate("window.oralhistPlayer.currentMs()") == pytest.approx(5000, abs=300)
    assert page.evaluate("window.oralhistPlayer.durationMs()") == 16_000
    assert page.locator("#oh-where").inner_text() == "0:00:05"
    assert page.locator("#oh-part").inner_text() == "Part 1, 0:00:05"
    # nothing is fetched before playback (preload="none"); playing starts at 5 s
    assert page.evaluate("document.getElementById('oh-audio').readyState") == 0
    page.evaluate("window.oralhistPlayer.play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return a.readyState >= 1 && !a.paused && a.currentTime >= 4.9 && a.currentTime < 7; }",
        timeout=10_000,
    )
    assert page.console_errors == []
    assert page.outside == []


def test_hms_t_param_lands_in_the_second_part(page, two_parts):
    page.goto(f"{page.base}/interviews/{two_parts}?t=00:00:13")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return a.src.includes('/recordings/2/audio')"
        " && Math.abs(window.oralhistPlayer.currentMs() - 13000) < 300; }",
        timeout=10_000,
    )
    part = page.evaluate("window.oralhistPlayer.partAt(13000)")
    assert (part["number"], part["localMs"], part["text"]) == (2, 3000, "Part 2, 0:00:03")
    # One time format: interview time first, the part as secondary information.
    assert page.locator("#oh-where").inner_text() == "0:00:13"
    assert page.locator("#oh-part").inner_text() == "Part 2, 0:00:03"


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


def test_a_play_is_audited_when_playback_starts_once_per_session(page, app, users, two_parts):
    """Opening the page fetches no audio and writes nothing; pressing play writes one
    ``recording.play``; pausing, playing again and seeking (more Range requests) add none."""
    from sqlalchemy import select

    from oralhist.models import AuditEvent

    from .conftest import sign_in

    with app.app_context():
        db.session.get(Interview, two_parts).access_level = "closed"
        db.session.commit()

    def plays():
        with app.app_context():
            return db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "recording.play")
            ).all()

    audio_requests = []
    page.on("request", lambda r: audio_requests.append(r.url) if "/audio" in r.url else None)
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{two_parts}?t=2")
    page.wait_for_function("() => window.oralhistPlayer !== undefined")
    page.wait_for_timeout(500)  # time for a preload, were there one
    assert audio_requests == [] and plays() == []
    page.evaluate("window.oralhistPlayer.play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return !a.paused && a.currentTime > 2.2; }",
        timeout=10_000,
    )
    page.evaluate("window.oralhistPlayer.pause(); window.oralhistPlayer.seek(7000);")
    page.evaluate("window.oralhistPlayer.play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return !a.paused && a.currentTime > 7.1; }",
        timeout=10_000,
    )
    assert audio_requests  # the player did read the audio
    events = plays()
    assert len(events) == 1
    assert events[0].details["interview_id"] == two_parts
    assert events[0].user_id == users["archivist"]


def test_a_listen_only_grant_plays_through_capped_ranges(page, app, users, two_parts):
    """Chromium follows the short 206 answers a listen-only grant gets (each cut to
    LISTEN_ONLY_RANGE_BYTES) and plays on past the first piece, while a whole-file GET of the
    same URL is refused."""
    from oralhist.models import AccessRequest

    from .conftest import sign_in

    app.config["LISTEN_ONLY_RANGE_BYTES"] = 16 * 1024
    with app.app_context():
        db.session.get(Interview, two_parts).access_level = "restricted"
        db.session.add(
            AccessRequest(
                requester_id=users["researcher"],
                interview_id=two_parts,
                purpose="A study of the valley's labour history.",
                intended_use="research",
                agreed_terms=True,
                status="approved",
                scope="listen",
            )
        )
        db.session.commit()
    statuses = []
    page.on(
        "response", lambda r: statuses.append(r.status) if "/recordings/1/audio" in r.url else None
    )
    sign_in(page, "researcher@example.org")
    page.goto(f"{page.base}/interviews/{two_parts}")
    page.wait_for_function("() => window.oralhistPlayer !== undefined")
    page.evaluate("window.oralhistPlayer.play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('oh-audio');"
        " return !a.paused && a.currentTime > 3; }",
        timeout=15_000,
    )
    assert statuses and set(statuses) == {206} and len(statuses) > 1
    whole = page.request.get(f"{page.base}/recordings/1/audio")
    assert whole.status == 403
