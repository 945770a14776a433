"""Search in a real browser: search, click a moment, and the player starts there with the
passage highlighted in the transcript."""

from __future__ import annotations

from .test_transcript import interview_id, open_page  # noqa: F401  (fixture)


def test_search_then_click_a_moment_opens_the_player_there(page, interview_id):  # noqa: F811
    page.goto(page.base + "/")
    page.fill("#home-q", "apprentice")
    page.press("#home-q", "Enter")
    page.wait_for_selector("a.moment")
    assert "apprentice" in page.locator("ul.moments .snippet mark").first.inner_text().lower()
    page.click("a.moment")
    page.wait_for_function("() => !!window.oralhistPlayer")
    page.wait_for_function("() => Math.abs(window.oralhistPlayer.currentMs() - 15000) < 600")
    assert "?t=15" in page.url
    highlighted = page.locator("#tx-list li.segment.highlight")
    assert highlighted.count() == 1
    assert "apprentice" in highlighted.inner_text()
    assert page.outside == []


def test_facet_narrows_the_results(page, interview_id):  # noqa: F811
    page.goto(page.base + "/search?q=Nottingham OR apprentice")
    page.wait_for_selector("aside.facets")
    page.click("aside.facets a:text('Thomas Whitfield')")
    page.wait_for_load_state()
    assert "speaker=Thomas+Whitfield" in page.url
    speakers = page.locator("ul.moments .speaker").all_inner_texts()
    assert speakers and all(s == "Thomas Whitfield" for s in speakers)
