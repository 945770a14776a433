"""The home page in a real browser: it renders, loads only from the app, and has no errors."""

from __future__ import annotations

from .conftest import sign_in


def test_home_page_renders_without_outside_requests(page, users):
    page.goto(page.base + "/")
    assert page.locator("h1").first.inner_text().startswith("Oral history interviews")
    assert page.locator("nav.bar a.brand").inner_text() == "oralhist"
    styles = page.evaluate(
        "getComputedStyle(document.querySelector('header.site')).backgroundColor"
    )
    assert styles == "rgb(23, 50, 74)"  # the stylesheet loaded (CSP allows 'self')
    assert page.outside == []
    assert page.console_errors == []


def test_sign_in_through_the_form(page, users):
    sign_in(page, "archivist@example.org")
    page.goto(page.base + "/interviews")
    assert page.locator("a.button", has_text="Deposit an interview").count() == 1
