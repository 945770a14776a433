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
