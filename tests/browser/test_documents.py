"""Documents in a real browser: select two transcript segments on the interview page, link
them to a document, follow the link to the document page, click the passage, and land in
the player at the passage's start."""

from __future__ import annotations

from tests.documents.conftest import make_document, make_interview

from .conftest import sign_in


def test_link_two_segments_and_follow_the_passage_back_to_the_player(app, users, page):
    interview_id = make_interview(app, users["contributor"], title="Thomas Whitfield on 1956")
    document_id = make_document(
        app, title="Why we Left the Communist Party", doc_type="pamphlet", date="1957"
    )
    sign_in(page, "contributor@example.org")
    page.goto(f"{page.base}/interviews/{interview_id}")
    segments = page.locator("ol.transcript li.segment")
    assert segments.count() == 4

    # select the second and third segments (04.000-12.000)
    page.click("#select-passage")
    segments.nth(1).locator("input.passage-pick").check()
    segments.nth(2).locator("input.passage-pick").check()
    assert page.input_value("#f-link-start") == "00:00:04.000"
    assert page.input_value("#f-link-end") == "00:00:12.000"
    # shift-click extends a run the same way
    segments.nth(3).click(modifiers=["Shift"])
    assert page.input_value("#f-link-end") == "00:00:16.000"
    segments.nth(3).locator("input.passage-pick").uncheck()
    assert page.input_value("#f-link-end") == "00:00:12.000"

    page.select_option("#f-link-document", str(document_id))
    page.fill("#f-link-note", "TW on the pamphlet going round the works")
    page.click("#link-passage button[type=submit]")
    page.wait_for_load_state()
    assert "Passage linked" in page.content()

    # the panel lists the document; the two segments are marked as linked
    panel = page.locator("#documents")
    assert "Why we Left the Communist Party" in panel.inner_text()
    linked = page.locator("ol.transcript li.segment.linked")
    assert linked.count() == 2
    assert linked.nth(0).get_attribute("data-start-ms") == "4000"

    # follow the document link, then the passage link back to the player
    panel.locator("a.doc-title").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Why we Left the Communist Party"
    assert "passed round the works" in page.locator(".passage-words").inner_text()
    page.locator("a.passage-link").first.click()
    page.wait_for_load_state()
    assert f"/interviews/{interview_id}?t=4&hl=" in page.url
    page.wait_for_function(
        "() => window.oralhistPlayer && Math.abs(window.oralhistPlayer.currentMs() - 4000) < 250",
        timeout=10000,
    )
    assert page.console_errors == []
    assert page.outside == []
