"""The search page's own findings (issue 15): a query that cannot be understood keeps the
page (form, query, filters) with the message in place; facets show what readers read
("English", "1950s", "Transcript passage"), never internal codes."""

from __future__ import annotations

import re

import pytest

from oralhist.web.search import facet_value_label
from tests.test_search_web import add_interview


@pytest.fixture
def archive(app):
    with app.app_context():
        return add_interview(
            "Open one",
            language="de",
            date="1957-03",
            lines=[("WHITFIELD", 5000, "We read the pamphlet at the branch meeting.")],
        )


@pytest.mark.parametrize("q", ['"unbalanced', "year:abc", "ab*", "x" * 3000])
def test_a_bad_query_keeps_the_search_page_with_the_message(archive, browser, q):
    response = browser().get("/search", query_string={"q": q, "speaker": "WHITFIELD"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    message = browser().get("/api/v1/search", query_string={"q": q}).json["error"]["message"]
    assert 'id="search-error"' in html
    assert re.sub(r"\s+", " ", message.replace('"', "&#34;"))[:60] in html
    assert 'class="bigsearch"' in html  # the form is there...
    assert 'aria-invalid="true"' in html
    if len(q) < 100:
        assert f'value="{q.replace(chr(34), "&#34;")}"' in html  # ...with the query
    assert "That did not work" not in html


def test_facets_show_labels_not_codes(archive, browser):
    html = browser().get("/search?q=pamphlet").get_data(as_text=True)
    facets = html[html.index('class="facets"') :]
    assert ">German</a>" in facets and ">de</a>" not in facets
    assert ">1950s</a>" in facets and ">1950</a>" not in facets
    assert ">Transcript passage</a>" in facets and ">segment</a>" not in facets
    narrowed = browser().get("/search?q=pamphlet&language=de&decade=1950").get_data(as_text=True)
    chips = narrowed[narrowed.index("active-filters") : narrowed.index("active-filters") + 900]
    assert "Language: German" in chips and "Decade recorded: 1950s" in chips


@pytest.mark.parametrize(
    ("name", "value", "label"),
    [
        ("language", "en", "English"),
        ("language", "en-GB", "English (United Kingdom)"),
        ("language", "yi", "Yiddish"),
        ("language", "not a tag", "not a tag"),
        ("language", "", ""),
        ("decade", 1950, "1950s"),
        ("decade", "1950", "1950s"),
        ("kind", "segment", "Transcript passage"),
        ("kind", "index", "Index point"),
        ("kind", "interview", "Interview record"),
        ("kind", "document", "Document"),
        ("speaker", "WHITFIELD", "WHITFIELD"),
        ("collection", "voices", "Voices of 1956"),
        ("collection", "gone", "gone"),
    ],
)
def test_facet_value_labels(name, value, label):
    assert facet_value_label(name, value, {"voices": "Voices of 1956"}) == label
