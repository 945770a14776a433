"""Bad input never reaches a 500: every route, as an archivist and anonymously, with missing,
malformed and wrongly typed input, on the sample archive."""

from __future__ import annotations

import re

import pytest

from oralhist.extensions import db

JUNK_FORMS = [
    {},
    {
        "title": "",
        "date_recorded": "99-99",
        "start_ms": "-5",
        "end_ms": "x",
        "q": '"unbalanced',
        "page": "0",
        "per_page": "-1",
        "format": "exe",
        "role": "emperor",
        "expires_at": "soon",
        "scope": "all",
        "position": "first",
        "speaker_id": "abc",
        "into": "x",
        "version": "v2",
        "duplicate_id": "x",
        "interview_id": "nope",
        "document_id": "[]",
        "access_level": "secret",
    },
    {
        "start_ms": "1" + "0" * 30,
        "end_ms": "9" * 40,
        "interview_id": "99999999999999999999",
        "document_id": "99999999999999999999",
        "segment_id": "99999999999999999999",
        "speaker_id": "99999999999999999999",
        "duplicate_id": "99999999999999999999",
        "into": "99999999999999999999",
        "position": "99999999999999999999",
        "ids": "99999999999999999999",
        "creator_ids": "99999999999999999999",
        "page": "99999999999999999999",
        "hl": "99999999999999999999",
        "tx_page": "99999999999999999999",
        "t": "99999999999999999999",
        "user": "99999999999999999999",
        "object_id": "99999999999999999999",
        "interview": "99999999999999999999",
        "requester": "99999999999999999999",
    },
]
JUNK_JSON = [
    ["not", "an", "object"],
    {
        "title": ["a"],
        "start_ms": "soon",
        "end_ms": {"x": 1},
        "interview_id": None,
        "participants": [{"person_id": "x"}],
        "expires_at": 5,
        "scope": [],
        "speaker_id": "a",
        "label": 7,
        "position": "z",
        "purpose": 3,
        "creators": "x",
        "embargo_until": "2020-99-99",
    },
    # Numbers beyond every database integer in every id, time and position (they overflowed
    # the driver into 500s).
    {
        "start_ms": 10**30,
        "end_ms": 10**30,
        "interview_id": 10**20,
        "document_id": 10**20,
        "segment_id": 10**20,
        "speaker_id": 10**20,
        "person_id": 10**20,
        "collection_id": 10**20,
        "into": 10**20,
        "position": 10**20,
        "participants": [{"person_id": 10**20, "role": "interviewee"}],
        "creators": [10**20],
        "title": "Absurd numbers",
        "purpose": "A long enough purpose for the request form to read it.",
    },
]


@pytest.fixture
def sample(app):
    from oralhist.services import sample

    with app.app_context():
        sample.load_sample()
        db.session.commit()


def _urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            if "Integer" in type(converter).__name__:
                values[name] = 1
            elif hasattr(converter, "items") or "Any" in type(converter).__name__:
                values[name] = next(iter(getattr(converter, "items", ["approve"])), "approve")
            else:
                values[name] = "voices-1956"
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, v=values: str(v[m.group(1)]), rule.rule)
        methods = sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS"))
        yield url, methods


@pytest.mark.parametrize("role", [None, "archivist"])
def test_no_route_answers_500_to_junk(app, browser, sample, role):
    client = browser(role)
    failures = []
    tried = 0
    with app.app_context():
        urls = list(_urls(app))
    for url, methods in urls:
        for method in methods:
            attempts = []
            if method == "GET":
                attempts = [dict(query_string=form) for form in JUNK_FORMS]
            else:
                attempts = [dict(data=form) for form in JUNK_FORMS]
                attempts += [dict(json=body) for body in JUNK_JSON]
            for kwargs in attempts:
                fn = getattr(client, method.lower())
                response = fn(url, **kwargs)
                status = response.status_code
                response.close()
                if status >= 500:
                    failures.append((method, url, kwargs, status))
                tried += 1
    assert tried > 300  # every route was exercised
    assert failures == []


ABSURD = "99999999999999999999"  # beyond any database integer (it was a 500: overflow)
LIST_ROUTES = [
    "/interviews",
    "/documents",
    "/people",
    "/collections/voices-1956",
    "/search?q=the",
    "/api/v1/interviews",
    "/api/v1/documents",
    "/api/v1/people",
    "/api/v1/collections",
    "/api/v1/search?q=the",
]


def _urls_with_ids(app, number: str):
    """Every GET route that takes an integer, with ``number`` in each integer slot."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.arguments:
            continue
        values = {}
        has_int = False
        for name in rule.arguments:
            converter = rule._converters[name]
            if "Integer" in type(converter).__name__:
                values[name] = number
                has_int = True
            elif hasattr(converter, "items"):
                values[name] = next(iter(converter.items))
            else:
                values[name] = "voices-1956"
        if has_int:
            yield re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, v=values: v[m.group(1)], rule.rule)


@pytest.mark.parametrize("role", [None, "archivist"])
def test_absurd_pages_are_a_clear_4xx_on_every_list(app, browser, sample, role):
    client = browser(role)
    answers = {}
    for url in LIST_ROUTES:
        for page in (ABSURD, "9" * 5000, "1000001", "-1", "1e3"):
            joiner = "&" if "?" in url else "?"
            response = client.get(f"{url}{joiner}page={page}")
            answers[(url, page[:24])] = response.status_code
            assert response.status_code in (400, 422), (url, page[:24], response.status_code)
            if url.startswith("/api/"):
                assert "page" in response.json["error"]["message"]
        # The last allowed page is answered (empty), not refused.
        joiner = "&" if "?" in url else "?"
        assert client.get(f"{url}{joiner}page=1000000").status_code == 200, url
    assert len(answers) == len(LIST_ROUTES) * 5


@pytest.mark.parametrize("number", [ABSURD, str(2**31), str(2**63)])
def test_ids_beyond_the_database_range_are_not_found(app, browser, sample, number):
    client = browser("archivist")
    failures = []
    with app.app_context():
        urls = list(_urls_with_ids(app, number))
    assert len(urls) > 20  # every route with an id was probed
    for url in urls:
        response = client.get(url)
        response.close()
        if response.status_code != 404:
            failures.append((url, response.status_code))
    assert failures == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/access-requests?interview=" + ABSURD,
        "/api/v1/access-requests?requester=" + ABSURD,
        "/access/audit?object_id=" + ABSURD,
        "/api/v1/interviews?per_page=" + ABSURD,
    ],
)
def test_absurd_integer_filters_are_a_clear_4xx(app, browser, sample, url):
    response = browser("archivist").get(url)
    assert response.status_code in (400, 422)
    name = url.split("?")[1].split("=")[0]
    assert name in response.get_data(as_text=True)
