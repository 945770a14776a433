"""Phone width (390 px, issue 15): the search page (results and facets, and a query with a
syntax error), the audit table and the interview page fit without horizontal scrolling, and
the results come before the facets."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_axe import sample  # noqa: F401  (the fixture)

WIDTH = 390

OVERFLOW = """() => {
  const clipped = el => {  // visually hidden (clip), like the .sr text for screen readers
    for (let n = el; n && n !== document.body; n = n.parentElement) {
      const c = getComputedStyle(n);
      if ((c.clip && c.clip !== 'auto') || c.clipPath !== 'none') { return true; }
    }
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                 && getComputedStyle(e).position !== 'fixed' && !clipped(e))
    .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def fits(page) -> tuple[int, list[str]]:
    """(page width, the elements sticking out): (390, []) when nothing scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth"), page.evaluate(OVERFLOW)


@pytest.fixture
def phone(page):
    page.set_viewport_size({"width": WIDTH, "height": 844})
    return page


def test_search_page_fits_a_phone_and_shows_results_before_facets(phone, sample):  # noqa: F811
    phone.goto(phone.base + "/search?q=party")
    assert fits(phone) == (WIDTH, [])
    assert phone.locator("form.bigsearch button[type=submit]").bounding_box()["x"] < WIDTH
    results = phone.locator("section.results").bounding_box()
    facets = phone.locator("aside.facets").bounding_box()
    assert results["y"] < facets["y"]


def test_search_page_keeps_two_columns_on_a_wide_screen(page, sample):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(page.base + "/search?q=party")
    results = page.locator("section.results").bounding_box()
    facets = page.locator("aside.facets").bounding_box()
    assert facets["x"] < results["x"]
    assert facets["y"] == pytest.approx(results["y"], abs=2)


def test_a_syntax_error_keeps_the_search_page_at_phone_width(phone, sample):  # noqa: F811
    phone.goto(phone.base + "/search?q=%22unclosed+phrase&narrator=Thomas+Whitfield")
    assert phone.locator("#search-error").is_visible()
    assert phone.locator("#q").input_value() == '"unclosed phrase'
    assert fits(phone) == (WIDTH, [])


def test_audit_table_fits_a_phone(phone, sample):  # noqa: F811
    sign_in(phone, "archivist@example.org")
    phone.goto(phone.base + "/access/audit")
    assert phone.locator("table").count() == 1
    assert fits(phone) == (WIDTH, [])


def test_interview_page_fits_a_phone(phone, sample):  # noqa: F811
    phone.goto(f"{phone.base}/interviews/{sample['interview']}")
    phone.wait_for_function("() => !!window.oralhistPlayer")
    assert fits(phone) == (WIDTH, [])
