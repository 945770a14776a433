"""The transcript editor in Chromium: edit a text in place, split at the cursor at the
player's time, merge with the next, tap to sync and nudge, save (one new version, the diff
shown), and a second editor's save refused with what changed."""

from __future__ import annotations

import io

import pytest

from oralhist.extensions import db

from .conftest import sign_in
from .test_transcript import wav_bytes

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
<v Ruth Adler>Where does your story begin?

00:00:05.000 --> 00:00:10.000
<v Thomas Whitfield>In Nottingham, in 1931.

00:00:10.000 --> 00:00:15.000
<v Ruth Adler>And the bicycle works?

00:00:15.000 --> 00:00:20.000
<v Thomas Whitfield>I started there as an apprentice.

00:00:20.000 --> 00:00:25.000
<v Thomas Whitfield>Fourteen years old.
"""


@pytest.fixture
def interview_id(app, users):
    from oralhist.access import load_viewer
    from oralhist.models import User
    from oralhist.services import catalogue, indexing, recordings, transcripts

    with app.test_request_context():
        viewer = load_viewer(db.session.get(User, users["archivist"]))
        interview = catalogue.save_interview(viewer, {"title": "Editor test interview"})
        recordings.add_recording(viewer, interview, io.BytesIO(wav_bytes(25)), "tone.wav")
        transcripts.import_transcript(viewer, interview, VTT.encode(), "talk.vtt")
        catalogue.publish(viewer, interview)
        db.session.commit()
        indexing.process_pending()
        return interview.id


def open_editor(page, interview_id):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{interview_id}/transcript/edit")
    page.wait_for_selector("#editor.ed-ready")
    page.wait_for_function("() => !!window.oralhistPlayer")


def segment(page, n):
    return page.locator(f"#ed-list li.ed-seg:nth-child({n})")


def put_caret(page, n, offset):
    page.evaluate(
        """([n, offset]) => {
            const box = document.querySelector(`#ed-list li.ed-seg:nth-child(${n}) .ed-text`);
            box.focus();
            const range = document.createRange();
            range.setStart(box.firstChild, offset);
            range.collapse(true);
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
        }""",
        [n, offset],
    )


def transcript(app, interview_id):
    from oralhist.models import Interview

    with app.app_context():
        current = db.session.get(Interview, interview_id).current_transcript
        return current.version, [(s.start_ms, s.end_ms, s.text) for s in current.segments]


def test_edit_split_merge_sync_and_save_with_the_diff_shown(app, page, interview_id):
    open_editor(page, interview_id)
    assert page.locator("#ed-list li.ed-seg").count() == 5
    # Edit a text in place.
    text = segment(page, 2).locator(".ed-text")
    text.click()
    page.keyboard.press("End")
    for _ in range(len("Nottingham, in 1931.")):
        page.keyboard.press("Backspace")
    page.keyboard.type("Derby, in 1931.")
    # Split "I started there as an apprentice." after "there", at the player's time.
    page.evaluate("() => window.oralhistPlayer.seek(17500)")
    put_caret(page, 4, 15)
    page.keyboard.press("Enter")
    assert page.locator("#ed-list li.ed-seg").count() == 6
    assert segment(page, 4).locator(".ed-text").inner_text() == "I started there"
    assert segment(page, 5).locator(".ed-text").inner_text() == "as an apprentice."
    assert segment(page, 5).get_attribute("data-start-ms") == "17500"
    assert segment(page, 5).locator(".ed-time").inner_text() == "0:00:17.500"
    # Merge the second part with the next (same speaker).
    put_caret(page, 5, 3)
    page.keyboard.press("Alt+J")
    assert page.locator("#ed-list li.ed-seg").count() == 5
    assert segment(page, 5).locator(".ed-text").inner_text() == (
        "as an apprentice. Fourteen years old."
    )
    # Tap to sync the third segment while "listening", then nudge its start.
    put_caret(page, 3, 0)
    page.evaluate("() => window.oralhistPlayer.seek(10400)")
    page.keyboard.press("Alt+T")
    assert segment(page, 3).get_attribute("data-start-ms") == "10400"
    assert segment(page, 2).get_attribute("data-end-ms") == "10400"
    page.keyboard.press("Alt+Period")
    assert segment(page, 3).get_attribute("data-start-ms") == "10500"
    assert "unsaved change" in page.locator("#ed-pending").inner_text()
    # An index point at the player's time.
    page.evaluate("() => window.oralhistPlayer.seek(5000)")
    page.keyboard.press("Alt+I")
    page.wait_for_selector("#ed-index-form[open]")
    assert page.locator("#ed-index-start").input_value() == "0:00:05.000"
    page.keyboard.type("Nottingham")
    page.fill("#ed-index-keywords", "childhood; 1931")
    page.click("#ed-index button[value=ok]")
    # (the dialog closes, then the list is drawn: wait for it, as a reader's eye does)
    page.wait_for_selector("#ed-points li .ed-point-title")
    assert page.locator("#ed-points li .ed-point-title").all_inner_texts() == ["Nottingham"]
    # Save: one new version, and the diff is shown.
    page.keyboard.press("Control+S")
    page.wait_for_selector("#ed-diff:not([hidden])")
    assert page.locator("#ed-base").inner_text() == "2"
    diff = page.locator("#ed-diff")
    assert diff.locator("del", has_text="Nottingham,").count() == 1
    assert diff.locator("ins", has_text="Derby,").count() == 1
    assert "Saved as version 2" in page.locator("#ed-status").inner_text()
    assert page.locator(".ed-dirty").count() == 0
    assert "1 index point change" in diff.inner_text()
    version, rows = transcript(app, interview_id)
    assert version == 2
    assert rows == [
        (0, 5000, "Where does your story begin?"),
        (5000, 10400, "In Derby, in 1931."),
        (10500, 15000, "And the bicycle works?"),
        (15000, 17500, "I started there"),
        (17500, 25000, "as an apprentice. Fourteen years old."),
    ]
    with app.app_context():
        from oralhist.models import Interview

        points = db.session.get(Interview, interview_id).current_transcript.index_points
        assert [(p.start_ms, p.title, p.keywords) for p in points] == [
            (5000, "Nottingham", ["childhood", "1931"])
        ]
    # The full comparison page shows the same.
    page.click("#ed-diff a")
    page.wait_for_selector(".version-diff")
    assert "Version 2 compared with version 1" in page.locator("h1").inner_text()
    assert page.console_errors == [] and page.outside == []


def test_a_second_save_on_an_old_version_is_refused_with_what_changed(
    app, chromium, live_server, page, interview_id
):
    open_editor(page, interview_id)
    other_context = chromium.new_context()
    other = other_context.new_page()
    other.base = live_server
    try:
        open_editor(other, interview_id)
        # The other editor saves first.
        box = segment(other, 1).locator(".ed-text")
        box.click()
        other.keyboard.press("End")
        other.keyboard.type(" Tell me.")
        other.keyboard.press("Control+S")
        other.wait_for_selector("#ed-diff:not([hidden])")
        # This editor, still on version 1, saves a change of its own.
        box = segment(page, 3).locator(".ed-text")
        box.click()
        page.keyboard.press("End")
        page.keyboard.type(" Yes.")
        page.keyboard.press("Control+S")
        page.wait_for_function(
            "() => document.getElementById('ed-status').textContent.includes('Not saved')"
        )
        message = page.locator("#ed-status").inner_text()
        assert "Version 2 of this transcript was saved by Archivist" in message
        assert "Where does your story begin? Tell me." in message
        assert segment(page, 3).locator(".ed-text").inner_text() == "And the bicycle works? Yes."
        assert "ed-dirty" in segment(page, 3).get_attribute("class")
        version, rows = transcript(app, interview_id)
        assert version == 2 and rows[2][2] == "And the bicycle works?"
        # The other editor changed another segment: this one may apply its change on top.
        page.click("#ed-rebase")
        page.wait_for_url("**/transcript/edit?saved=3")
        assert "Saved as version 3" in page.locator("#ed-status").inner_text()
        assert segment(page, 1).locator(".ed-text").inner_text() == (
            "Where does your story begin? Tell me."
        )
        version, rows = transcript(app, interview_id)
        assert version == 3
        assert [r[2] for r in rows[:3]] == [
            "Where does your story begin? Tell me.",
            "In Nottingham, in 1931.",
            "And the bicycle works? Yes.",
        ]
        # The other editor, still on version 2, edits the segment this one just changed:
        # it is told to reload rather than offered to apply its change on top.
        box = segment(other, 3).locator(".ed-text")
        box.click()
        other.keyboard.press("End")
        other.keyboard.type(" Please.")
        other.keyboard.press("Control+S")
        other.wait_for_function(
            "() => document.getElementById('ed-status').textContent.includes('Not saved')"
        )
        assert "reload the page" in other.locator("#ed-status").inner_text()
        assert other.locator("#ed-rebase").count() == 0
    finally:
        other_context.close()
