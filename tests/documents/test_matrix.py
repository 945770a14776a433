"""Every role against the documents endpoints, on open and restricted documents and open and
restricted interviews. The restricted document's title never reaches a role that may not
see it."""

from __future__ import annotations

import pytest

from tests.conftest import Browser, world_scope

from .conftest import build_world

ROLE_COLUMNS = ("anon", "researcher", "contributor", "contributor2", "archivist", "admin")

# (method, url template, body, expected status per role column). An API write without
# credentials is refused with 401 before anything is looked up (see the end of this list).
MATRIX = [
    ("GET", "/documents", None, (200,) * 6),
    ("GET", "/documents/{open_doc}", None, (200,) * 6),
    ("GET", "/documents/{restricted_doc}", None, (404, 404, 200, 200, 200, 200)),
    ("GET", "/documents/{closed_doc}", None, (404, 404, 404, 404, 200, 200)),
    ("GET", "/documents/{registered_doc}", None, (404, 200, 200, 200, 200, 200)),
    ("GET", "/documents/{restricted_doc}/file", None, (404, 404, 404, 404, 404, 404)),
    ("GET", "/documents/new", None, (302, 403, 200, 200, 200, 200)),
    ("GET", "/documents/{open_doc}/edit", None, (302, 403, 403, 403, 200, 200)),
    ("GET", "/documents/{restricted_doc}/edit", None, (404, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/documents", None, (200,) * 6),
    ("GET", "/api/v1/documents/{open_doc}", None, (200,) * 6),
    ("GET", "/api/v1/documents/{restricted_doc}", None, (404, 404, 200, 200, 200, 200)),
    ("POST", "/api/v1/documents", {"title": "New"}, (403, 403, 201, 201, 201, 201)),
    (
        "POST",
        "/api/v1/documents",
        {"title": "New", "access_level": "restricted"},
        (403, 403, 201, 201, 201, 201),
    ),
    ("PATCH", "/api/v1/documents/{open_doc}", {"publisher": "P"}, (403, 403, 403, 403, 200, 200)),
    ("PATCH", "/api/v1/documents/{closed_doc}", {"publisher": "P"}, (404, 404, 404, 404, 200, 200)),
    (
        "POST",
        "/api/v1/documents/{open_doc}/mentions",
        {"interview_id": "{open_interview}", "start_ms": 0, "end_ms": "{n}"},
        (403, 403, 201, 403, 201, 201),
    ),
    (
        "POST",
        "/api/v1/documents/{restricted_doc}/mentions",
        {"interview_id": "{restricted_interview}", "start_ms": 0, "end_ms": "{n}"},
        (404, 404, 201, 403, 201, 201),
    ),
    (
        "POST",
        "/api/v1/documents/{restricted_doc}/mentions",
        {"interview_id": "{open_interview}", "start_ms": 0, "end_ms": "{n}"},
        (404, 404, 422, 403, 422, 422),
    ),
    (
        "POST",
        "/api/v1/documents/{open_doc}/mentions",
        {"interview_id": "{draft_interview}", "start_ms": 0, "end_ms": "{n}"},
        (422, 422, 201, 422, 201, 201),
    ),
    ("GET", "/api/v1/interviews/{open_interview}/mentions", None, (200,) * 6),
    ("GET", "/api/v1/interviews/{draft_interview}/mentions", None, (404, 404, 200, 404, 200, 200)),
    ("GET", "/api/v1/mentions/{open_mention}", None, (200,) * 6),
    ("GET", "/api/v1/mentions/{restricted_mention}", None, (404, 404, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/mentions/{open_mention}", {"note": "n"}, (403, 403, 200, 403, 200, 200)),
    (
        "PATCH",
        "/api/v1/mentions/{restricted_mention}",
        {"note": "n"},
        (404, 404, 200, 403, 200, 200),
    ),
    ("GET", "/mentions/{open_mention}/cite", None, (200,) * 6),
    ("GET", "/mentions/{restricted_mention}/cite", None, (404, 404, 200, 200, 200, 200)),
    ("GET", "/api/v1/documents/{open_doc}/suggestions", None, (401, 403, 200, 200, 200, 200)),
    ("GET", "/api/v1/documents/{restricted_doc}/suggestions", None, (404, 404, 200, 200, 200, 200)),
    (
        "POST",
        "/api/v1/documents/{open_doc}/suggestions/dismiss",
        {"interview_id": "{open_interview}", "start_ms": 8000},
        (403, 403, 403, 403, 201, 201),
    ),
    ("GET", "/interviews/{restricted_interview}", None, (200,) * 6),
]
MATRIX = [
    (m, t, b, (401, *e[1:]) if m != "GET" and t.startswith("/api/") else e) for m, t, b, e in MATRIX
]


@pytest.fixture
def users(world_users):
    """The module's world (tests/savepoints.py): built once, each test rolled back to it."""
    return world_users


@pytest.fixture(scope=world_scope)
def records(world_app, world_users):
    world = build_world(world_app, world_users)
    archivist = Browser(world_app, "archivist@example.org")

    def mention(doc, interview, start):
        response = archivist.post(
            f"/api/v1/documents/{doc}/mentions",
            json={"interview_id": interview, "start_ms": start, "end_ms": start + 500},
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    return {
        **world.__dict__,
        "open_mention": mention(world.open_doc, world.open_interview, 9000),
        "restricted_mention": mention(world.restricted_doc, world.restricted_interview, 9000),
    }


def _fill(value, records, n):
    if isinstance(value, str):
        text = value.format(n=n, **records)
        return int(text) if text.isdigit() else text
    if isinstance(value, dict):
        return {k: _fill(v, records, n) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "template", "body", "expected"),
    MATRIX,
    ids=[f"{m} {t} {b or ''}" for m, t, b, _ in MATRIX],
)
def test_role_matrix(app, browser, records, method, template, body, expected):
    url = template.format(**records)
    mismatches = []
    for n, (role, status) in enumerate(zip(ROLE_COLUMNS, expected, strict=True)):
        client = browser(None if role == "anon" else role)
        data = _fill(body, records, 1000 + n) if body else None
        if method == "GET":
            response = client.get(url)
        elif method == "PATCH":
            response = client.patch(url, json=data)
        else:
            response = client.post(url, json=data)
        if response.status_code != status:
            mismatches.append((role, status, response.status_code))
        if role in ("anon", "researcher") and response.status_code != 403:
            text = response.get_data(as_text=True)
            assert "RESTRICTEDDOC" not in text and "CLOSEDDOC" not in text, (role, url)
    assert mismatches == [], mismatches
