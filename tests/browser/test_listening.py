"""The listening room in Chromium (issue 15, items 1-3): the player docks at the top of the
window and stays with the reader; the transcript follows playback until the reader scrolls
away, and "Return to the current line" brings it back; a deep link lands with its line in
view and highlighted; clicking a line (or a timed word) seeks; speed, skip and keyboard
shortcuts (never in a text field); the loudness strip; a cited range stops at its end."""

from __future__ import annotations

import io
import json

import pytest

from oralhist.extensions import db
from tests.browser.test_transcript import WHISPER_WORDS, wav_bytes

#: 60 turns of 2 s over two minutes, long enough that the transcript box scrolls.
SEGMENTS = 60
STEP_MS = 2000


def long_vtt() -> str:
    cues = ["WEBVTT", ""]
    for i in range(SEGMENTS):
        start, end = i * STEP_MS, (i + 1) * STEP_MS
        who = "Ruth Adler" if i % 2 else "Thomas Whitfield"
        cues += [
            f"{start // 60000:02d}:{start // 1000 % 60:02d}.{start % 1000:03d} --> "
            f"{end // 60000:02d}:{end // 1000 % 60:02d}.{end % 1000:03d}",
            f"<v {who}>Turn {i} about the bicycle works, the union and the long walk "
            f"home along the canal in the winter of that year, line {i}.",
            "",
        ]
    return "\n".join(cues)


def _publish(app, users, audio: bytes, transcript: bytes, filename: str) -> int:
    from oralhist.access import load_viewer
    from oralhist.models import User
    from oralhist.services import catalogue, indexing, recordings, transcripts

    with app.test_request_context():
        viewer = load_viewer(db.session.get(User, users["archivist"]))
        interview = catalogue.save_interview(viewer, {"title": "Listening room"})
        recordings.add_recording(viewer, interview, io.BytesIO(audio), "tone.wav")
        transcripts.import_transcript(viewer, interview, transcript, filename)
        catalogue.publish(viewer, interview)
        db.session.commit()
        indexing.process_pending()
        return interview.id


@pytest.fixture
def long_interview(app, users):
    return _publish(app, users, wav_bytes(SEGMENTS * STEP_MS // 1000), long_vtt().encode(), "l.vtt")


@pytest.fixture
def worded_interview(app, users):
    return _publish(app, users, wav_bytes(10), json.dumps(WHISPER_WORDS).encode(), "w.json")


def open_page(page, interview_id, query="", *, width=1280, height=800):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{page.base}/interviews/{interview_id}{query}")
    page.wait_for_function("() => !!window.oralhistPlayer")


def current_ms(page) -> int:
    return page.evaluate("window.oralhistPlayer.currentMs()")


def line_in_view(page, selector: str) -> bool:
    """The line is inside the transcript box's view and inside the window, below the
    docked player."""
    return page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel), box = document.getElementById('tx-scroll');
          const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
          const player = document.getElementById('oh-player');
          const under = player.classList.contains('docked')
              ? player.getBoundingClientRect().bottom : 0;
          return r.top >= b.top - 1 && r.bottom <= b.bottom + 1
              && r.top >= under - 1 && r.bottom <= window.innerHeight + 1;
        }""",
        selector,
    )


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_player_docks_at_the_top_when_the_reader_scrolls(page, long_interview, size):
    open_page(page, long_interview, width=size[0], height=size[1])
    assert not page.evaluate("window.oralhistPlayer.docked()")
    page.evaluate("document.getElementById('tx-end').scrollIntoView()")
    page.wait_for_function("() => window.oralhistPlayer.docked()")
    box = page.locator("#oh-player").bounding_box()
    assert box["y"] == pytest.approx(0, abs=1)
    assert box["x"] >= -1 and box["x"] + box["width"] <= size[0] + 1
    assert page.locator("#oh-audio").is_visible()
    # and it goes back in place when the reader returns to the top
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("() => !window.oralhistPlayer.docked()")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]


def test_follow_turns_off_when_the_reader_scrolls_away_and_return_brings_the_line_back(
    page, long_interview
):
    open_page(page, long_interview)
    page.evaluate("document.getElementById('tx-scroll').scrollIntoView()")  # reading it
    follow = page.locator("#tx-follow-toggle")
    assert follow.get_attribute("aria-pressed") == "true"
    page.evaluate("window.oralhistPlayer.seek(80500)")
    page.wait_for_selector("#tx-list li.segment:nth-child(41).current")
    assert line_in_view(page, "#tx-list li.segment:nth-child(41)")
    # the reader scrolls the transcript back to the start
    page.locator("#tx-scroll").hover()
    page.mouse.wheel(0, -5000)
    page.wait_for_function(
        "() => document.getElementById('tx-follow-toggle').ariaPressed === 'false'"
    )
    assert page.locator("#tx-follow").is_visible()
    # playback moves on: the view stays where the reader put it
    page.evaluate("window.oralhistPlayer.seek(100500)")
    page.wait_for_selector("#tx-list li.segment:nth-child(51).current")
    assert not line_in_view(page, "#tx-list li.segment:nth-child(51)")
    page.click("#tx-follow")
    page.wait_for_function(
        "() => document.getElementById('tx-follow-toggle').ariaPressed === 'true'"
    )
    page.wait_for_function(
        "() => { const r = document.querySelector('#tx-list li.segment:nth-child(51)')"
        ".getBoundingClientRect();"
        " const b = document.getElementById('tx-scroll').getBoundingClientRect();"
        " return r.top >= b.top && r.bottom <= b.bottom; }"
    )
    assert page.locator("#tx-follow").is_hidden()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_deep_link_lands_with_its_line_in_view_and_highlighted(page, long_interview, size):
    open_page(page, long_interview, "?t=90.25", width=size[0], height=size[1])
    line = "#tx-list li.segment:nth-child(46)"
    page.wait_for_selector(line + ".current.highlight")
    assert line_in_view(page, line)
    assert current_ms(page) == 90250


def test_a_search_result_lands_with_its_line_in_view(page, long_interview):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{page.base}/search?q=%22line+47%22")
    page.click("a[href*='hl=']")
    page.wait_for_function("() => !!window.oralhistPlayer")
    line = "#tx-list li.segment:nth-child(48)"
    page.wait_for_selector(line + ".highlight")
    assert line_in_view(page, line)


def test_clicking_a_line_seeks_there(page, long_interview):
    open_page(page, long_interview)
    page.click("#tx-list li.segment:nth-child(6) .text")
    page.wait_for_function("() => window.oralhistPlayer.currentMs() >= 10000")
    assert current_ms(page) == pytest.approx(10000, abs=600)
    assert "current" in page.locator("#tx-list li.segment:nth-child(6)").get_attribute("class")
    assert "t=10" in page.url


def test_clicking_a_timed_word_seeks_to_that_word(page, worded_interview):
    open_page(page, worded_interview)
    page.locator("#tx-list li.segment:nth-child(1) .text").click(position={"x": 5, "y": 5})
    page.wait_for_selector("#tx-list li.segment:nth-child(1) span.word")
    page.click("#tx-list li.segment:nth-child(1) span.word:nth-child(4)")  # "story", at 2.0 s
    page.wait_for_function("() => Math.abs(window.oralhistPlayer.currentMs() - 2000) < 300")


def test_speed_skip_and_shortcuts_outside_text_fields(page, long_interview):
    open_page(page, long_interview, "?t=20")
    rate = "document.getElementById('oh-audio').playbackRate"
    page.select_option("#oh-speed", "1.5")
    assert page.evaluate(rate) == 1.5
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press(">")
    assert page.evaluate(rate) == 1.75
    page.keyboard.press("F3")  # oTranscribe: slower
    page.keyboard.press("F3")
    assert page.evaluate(rate) == 1.25
    assert page.locator("#oh-speed").input_value() == "1.25"
    page.keyboard.press("l")
    assert current_ms(page) == 25000
    page.keyboard.press("F1")  # oTranscribe: back
    page.keyboard.press("j")
    assert current_ms(page) == 15000
    page.select_option("#oh-skip", "10")
    page.click("#oh-fwd")
    assert current_ms(page) == 25000
    assert page.locator("#oh-back").get_attribute("aria-label") == "Back 10 seconds"
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("k")
    page.wait_for_function("() => !document.getElementById('oh-audio').paused")
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('oh-audio').paused")
    # typing in a text field types: no key is taken from it
    at = current_ms(page)
    page.click("#tx-q")
    page.keyboard.type("j l k 0 ?")
    page.keyboard.press("F4")
    assert page.locator("#tx-q").input_value() == "j l k 0 ?"
    assert current_ms(page) == at
    assert page.evaluate(rate) == 1.25
    assert page.locator("#oh-keys").is_hidden()
    # "?" lists the shortcuts; Escape closes the list (and does not pause or play)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    page.wait_for_selector("#oh-keys[open]")
    assert "F1" in page.locator("#oh-keys").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("#oh-keys:not([open])", state="attached")
    assert page.evaluate("document.getElementById('oh-audio').paused")
    assert page.console_errors == []


def test_a_cited_range_plays_and_stops_at_its_end(page, long_interview):
    open_page(page, long_interview, "?t=4.2&end=5.35")
    assert page.locator("#oh-range").is_visible()
    page.evaluate("window.oralhistPlayer.play()")
    page.wait_for_function("() => document.getElementById('oh-audio').paused", timeout=10_000)
    assert current_ms(page) == pytest.approx(5350, abs=60)
    assert page.locator("#oh-range").is_hidden()


def test_select_a_range_and_cite_it(page, long_interview):
    open_page(page, long_interview)
    page.evaluate(
        """() => {
          const a = document.querySelector('#tx-list li.segment:nth-child(3) .text').firstChild;
          const b = document.querySelector('#tx-list li.segment:nth-child(4) .text').firstChild;
          const range = document.createRange();
          range.setStart(a, 2); range.setEnd(b, 10);
          const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        }"""
    )
    page.wait_for_function(
        "() => document.getElementById('tx-cite').textContent.includes('selection')"
    )
    page.click("#tx-cite")
    page.wait_for_function("() => document.getElementById('tx-cite-url').value !== ''")
    url = page.locator("#tx-cite-url").input_value()
    assert url.endswith(f"/interviews/{long_interview}?t=4&end=8")
    assert page.locator("#tx-cite-range").inner_text() == "0:00:04–0:00:08"
    chicago = page.locator("#tx-cite-chicago").input_value()
    assert "Listening room" in chicago and "0:00:04–0:00:08" in chicago and url in chicago
    assert url in page.locator("#tx-cite-mla").input_value()
    page.click("#tx-cite-play")
    page.wait_for_function("() => !document.getElementById('oh-audio').paused")
    page.wait_for_function("() => document.getElementById('oh-audio').paused", timeout=15_000)
    assert current_ms(page) == pytest.approx(8000, abs=60)
    # the permalink opens the same range
    page.goto(page.base + url[url.index("/interviews/") :])
    page.wait_for_function("() => !!window.oralhistPlayer")
    assert page.evaluate("window.oralhistPlayer.endMs()") == 8000


def test_cite_the_current_line_with_the_keyboard(page, long_interview):
    open_page(page, long_interview, "?t=61.5")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("c")
    page.wait_for_function("() => document.getElementById('tx-cite-url').value !== ''")
    assert page.locator("#tx-cite-url").input_value().endswith("?t=60&end=62")


def test_copy_link_to_this_moment_keeps_milliseconds(page, long_interview):
    open_page(page, long_interview)
    page.evaluate("window.oralhistPlayer.seek(15250)")
    page.click("#tx-copy")
    page.wait_for_function("() => document.getElementById('tx-copy-text').value !== ''")
    assert page.locator("#tx-copy-text").input_value().endswith("?t=15.25")


def test_skip_link_moves_focus_past_the_transcript(page, long_interview):
    open_page(page, long_interview)
    page.focus("#tx-q")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('skip-past')"):
            break
    assert page.evaluate("document.activeElement.textContent") == "Skip past the transcript"
    assert page.locator(".skip-past").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tx-end"


def _serve_waveform(app, pixels: int = 600) -> None:
    """Waveforms computed (the ingest jobs run), then served with a known shape in the BBC
    audiowaveform JSON format (version 2, 8 bits): a loud first half and a quiet second half
    (the test audio is a steady tone, so its real peaks would show no shape)."""
    from oralhist import jobs

    jobs.run_pending(app, kinds=["derivative.waveform"])
    half = pixels // 2
    data = []
    for i in range(pixels):
        level = 100 if i < half else 10
        data += [-level, level]

    def waveform(recording_id: int):
        return {
            "version": 2,
            "channels": 1,
            "sample_rate": 8000,
            "samples_per_pixel": SEGMENTS * STEP_MS * 8 // pixels,
            "bits": 8,
            "length": pixels,
            "data": data,
        }

    app.view_functions["api.recording_waveform"] = waveform


def test_the_loudness_strip_is_drawn_from_the_waveform_and_seeks(page, app, long_interview):
    _serve_waveform(app)
    open_page(page, long_interview)
    page.wait_for_selector("#oh-wave:not([hidden])")
    heights = page.evaluate(
        """() => {
          const c = document.getElementById('oh-wave'), g = c.getContext('2d');
          const column = x => { const d = g.getImageData(x, 0, 1, c.height).data; let n = 0;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; };
          return [column(Math.floor(c.width * 0.25)), column(Math.floor(c.width * 0.75))];
        }"""
    )
    assert heights[0] > 3 * heights[1] > 0
    box = page.locator("#oh-wave").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert current_ms(page) == pytest.approx(60000, abs=2000)
    assert page.outside == []


def test_no_waveform_no_strip(page, long_interview):
    open_page(page, long_interview)
    assert page.locator("#oh-wave").is_hidden()
    assert page.console_errors == []


def test_index_points_and_passages_are_marked_on_the_strip(page, app, users):
    from sqlalchemy import select

    from oralhist.models import Interview
    from oralhist.services import sample

    with app.test_request_context():
        sample.load_sample()
        db.session.commit()
        interview = db.session.scalar(
            select(Interview).where(Interview.accession == "OH-SAMPLE-001")
        )
        interview_id = interview.id
    _serve_waveform(app)
    open_page(page, interview_id)
    page.wait_for_selector("#oh-wave:not([hidden])")
    colours = page.evaluate(
        """() => {
          const c = document.getElementById('oh-wave'), g = c.getContext('2d');
          const total = window.oralhistPlayer.durationMs();
          const at = (ms, y) => { const x = Math.round(ms / total * c.width);
            return Array.from(g.getImageData(Math.min(x, c.width - 1), y, 1, 1).data); };
          const index = [...document.querySelectorAll('li.index-point')]
            .map(li => at(+li.dataset.startMs, 1));
          const passages = [...document.querySelectorAll('.doc-passage')]
            .map(li => at((+li.dataset.startMs + +li.dataset.endMs) / 2, c.height - 1));
          return {index, passages};
        }"""
    )
    assert colours["index"] and colours["passages"]
    assert all(rgba[:3] == [178, 107, 0] for rgba in colours["index"])  # #b26b00
    assert all(rgba[0] == 120 and rgba[2] == 160 for rgba in colours["passages"])


def test_focus_stays_visible_on_the_player_controls(page, long_interview):
    open_page(page, long_interview)
    for selector in ("#oh-back", "#oh-speed", "#tx-cite", "#tx-scroll"):
        page.focus(selector)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(s) => { const e = document.querySelector(s), c = getComputedStyle(e);"
            " return [document.activeElement === e, c.outlineStyle, parseFloat(c.outlineWidth)]; }",
            selector,
        )
        assert outline[0] and outline[1] != "none" and outline[2] >= 2, (selector, outline)
