"""In a real browser: a researcher requests access to a restricted interview, an archivist
approves it in the queue, and the researcher's page then shows the player, which plays from
``?t=``."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Interview

from .conftest import sign_in


def wav_bytes(seconds: float) -> bytes:
    rate = 8000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(5000 * math.sin(2 * math.pi * 330 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return buffer.getvalue()


@pytest.fixture
def restricted(app, users):
    from oralhist.services import recordings

    archivist = Viewer(user_id=users["archivist"], role="archivist")
    with app.test_request_context():
        interview = Interview(
            accession="OH-B-1",
            title="The flood of 1962",
            access_level="restricted",
            rights_statement="Copyright the narrator; cite the archive.",
            status="published",
            created_by_id=users["contributor"],
        )
        db.session.add(interview)
        db.session.flush()
        recordings.add_recording(archivist, interview, io.BytesIO(wav_bytes(10.0)), "flood.wav")
        db.session.commit()
        return interview.id


def test_request_approve_listen(page, chromium, live_server, users, restricted):
    url = f"{page.base}/interviews/{restricted}"
    # The researcher asks.
    sign_in(page, "researcher@example.org")
    page.goto(url)
    panel = page.locator("section.access-panel")
    assert "Audio and transcript are available on request." in panel.inner_text()
    assert "Copyright the narrator" in panel.inner_text()
    assert page.locator("audio").count() == 0
    panel.locator("summary", has_text="Request access").click()
    page.fill("#f-purpose", "A history of the 1962 flood for a local museum exhibition.")
    page.select_option("#f-intended_use", "exhibition")
    page.check("#f-agree_terms")
    panel.locator("button[type=submit]", has_text="Send request").click()
    page.wait_for_load_state()
    assert "is pending" in page.locator("section.access-panel").inner_text()

    # The archivist approves it in the queue, in their own browser session.
    context = chromium.new_context()
    archivist = context.new_page()
    try:
        archivist.goto(page.base + "/login")
        archivist.fill("#f-email", "archivist@example.org")
        archivist.fill("#f-password", "correct horse battery")
        archivist.click("form button[type=submit]")
        archivist.wait_for_load_state()
        archivist.click("nav.bar a:has-text('Queue')")
        archivist.wait_for_load_state()
        row = archivist.locator("table.queue tr.request", has_text="The flood of 1962")
        assert row.count() == 1
        assert "waiting" in row.inner_text() and "Researcher" in row.inner_text()
        row.locator("form.approve select[name=scope]").select_option("listen")
        row.locator("form.approve button", has_text="Approve").click()
        archivist.wait_for_load_state()
        assert "is approved" in archivist.content()
    finally:
        context.close()

    # The researcher now has the player, and it starts at ?t=.
    page.goto(url + "?t=4")
    assert "You have access to listen" in page.locator("section.access-panel").inner_text()
    audio = page.locator("audio")
    assert audio.count() == 1
    page.wait_for_function("() => Math.abs(window.oralhistPlayer.currentMs() - 4000) < 100")
    page.evaluate("() => window.oralhistPlayer.play()")
    page.wait_for_function(
        "() => !document.querySelector('audio').paused"
        " && document.querySelector('audio').currentTime > 4.05",
        timeout=10000,
    )
    assert page.evaluate("() => document.querySelector('audio').currentTime") < 10
    assert page.outside == []
    assert page.console_errors == []
