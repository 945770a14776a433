"""Uploading a recording in Chromium: the progress bar and its messages, the name kept as the
uploader wrote it, and a refused file explained where the upload was made."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import Interview, Recording
from tests.recordings.conftest import wav_bytes

from .conftest import sign_in

# Every change of the progress bar and its message, kept in sessionStorage so that it
# survives the reload that follows a successful upload.
WATCH = """() => {
  const bar = document.getElementById('oh-upload-progress');
  const status = document.getElementById('oh-upload-status');
  const note = () => {
    const seen = JSON.parse(sessionStorage.getItem('seen') || '[]');
    seen.push([bar.hidden, bar.value, status.textContent, status.classList.contains('error')]);
    sessionStorage.setItem('seen', JSON.stringify(seen));
  };
  new MutationObserver(note).observe(status, {childList: true, characterData: true, subtree: true});
  new MutationObserver(note).observe(bar, {attributes: true});
}"""


@pytest.fixture
def draft(app, users):
    with app.app_context():
        interview = Interview(accession="OH-UP", title="Upload test", status="draft")
        db.session.add(interview)
        db.session.commit()
        return interview.id


def recordings_of(app, interview_id: int) -> list[tuple[str, int]]:
    with app.app_context():
        return [
            (r.original_filename, r.duration_ms)
            for r in db.session.scalars(
                db.select(Recording).where(Recording.interview_id == interview_id)
            )
        ]


def test_upload_shows_progress_then_the_new_part(app, page, draft):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{draft}")
    page.fill("#f-rec-label", "Tape 1, side A")
    # 4.8 MB: big enough for the browser to report progress along the way
    audio = wav_bytes(300.0)
    page.set_input_files(
        "#f-rec-file", files=[{"name": "André tape.wav", "mimeType": "audio/wav", "buffer": audio}]
    )
    page.evaluate(WATCH)
    page.click("#oh-upload button[type=submit]")
    page.wait_for_selector("#oh-parts .part", timeout=30_000)  # the page reloaded

    seen = page.evaluate("JSON.parse(sessionStorage.getItem('seen'))")
    texts = [text for _hidden, _value, text, _error in seen]
    assert texts[0].startswith("Uploading…")
    assert any(not hidden for hidden, *_ in seen), "the progress bar was never shown"
    values = [value for hidden, value, *_ in seen if not hidden]
    assert values == sorted(values) and values[-1] == 100
    assert any(text.endswith(f"of {len(audio) / 1048576:.1f} MB") for text in texts)
    assert texts[-1] == "Added André tape.wav."
    assert not any(error for *_, error in seen)
    part = page.locator("#oh-parts .part").first
    assert "Tape 1, side A" in part.inner_text()
    assert part.locator(".filename").inner_text() == "André tape.wav"
    assert recordings_of(app, draft) == [("André tape.wav", 300_000)]
    assert page.console_errors == []


def test_a_refused_file_is_explained_and_nothing_is_kept(app, page, draft):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{draft}")
    page.set_input_files(
        "#f-rec-file",
        files=[{"name": "photo.mp3", "mimeType": "audio/mpeg", "buffer": b"\xff\xd8\xff\xe0JFIF"}],
    )
    page.click("#oh-upload button[type=submit]")
    status = page.locator("#oh-upload-status.error")
    status.wait_for(timeout=15_000)
    assert "photo.mp3" in status.inner_text()
    assert page.locator("#oh-upload-progress").is_hidden()
    assert page.locator("#oh-upload button[type=submit]").is_enabled()
    assert recordings_of(app, draft) == []
    # the refusal is the API's 4xx, which Chromium logs as a failed resource
    assert all("status of 4" in error for error in page.console_errors), page.console_errors


def test_several_files_become_parts_in_order(app, page, draft):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{draft}")
    page.set_input_files(
        "#f-rec-file",
        files=[
            {"name": "side A.wav", "mimeType": "audio/wav", "buffer": wav_bytes(2.0, freq=300)},
            {"name": "side B.wav", "mimeType": "audio/wav", "buffer": wav_bytes(3.0, freq=500)},
        ],
    )
    page.evaluate(WATCH)
    page.click("#oh-upload button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#oh-parts .part').length === 2")
    texts = [text for *_, text, _error in page.evaluate("JSON.parse(sessionStorage.seen)")]
    assert any("file 2 of 2 (side B.wav)" in text for text in texts)
    assert texts[-1] == "Added side A.wav, side B.wav."
    names = page.locator("#oh-parts .part .filename").all_inner_texts()
    assert names == ["side A.wav", "side B.wav"]
    assert recordings_of(app, draft) == [("side A.wav", 2000), ("side B.wav", 3000)]


def test_a_refused_file_among_several_stops_the_rest_and_says_what_was_kept(app, page, draft):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{draft}")
    page.set_input_files(
        "#f-rec-file",
        files=[
            {"name": "one.wav", "mimeType": "audio/wav", "buffer": wav_bytes(1.0, freq=300)},
            {"name": "two.wav", "mimeType": "audio/wav", "buffer": b"RIFF, but not audio"},
            {"name": "three.wav", "mimeType": "audio/wav", "buffer": wav_bytes(1.0, freq=500)},
        ],
    )
    page.click("#oh-upload button[type=submit]")
    status = page.locator("#oh-upload-status.error")
    status.wait_for(timeout=15_000)
    message = status.inner_text()
    assert message.startswith("Added one.wav (reload the page to see them).")
    assert "two.wav" in message and message.endswith("The file after it was not sent.")
    assert recordings_of(app, draft) == [("one.wav", 1000)]
