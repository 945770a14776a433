"""Every role against every catalogue page and API endpoint: the expected status, and drafts
never leak. Later areas (recordings, transcripts, documents, access) add their own rows in
their own matrices."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import Interview

ROLE_COLUMNS = ("anon", "researcher", "contributor", "contributor2", "archivist", "admin")

# (method, url template, expected status per role column). A write without credentials is
# refused before anything is looked up: 401 from the API, the sign-in page (302) from pages.
MATRIX = [
    ("GET", "/", (200, 200, 200, 200, 200, 200)),
    ("GET", "/interviews", (200, 200, 200, 200, 200, 200)),
    ("GET", "/collections", (200, 200, 200, 200, 200, 200)),
    ("GET", "/people", (200, 200, 200, 200, 200, 200)),
    ("GET", "/interviews/{published}", (200, 200, 200, 200, 200, 200)),
    ("GET", "/interviews/{draft}", (404, 404, 200, 404, 200, 200)),
    ("GET", "/interviews/{draft}/edit", (404, 404, 200, 404, 200, 200)),
    ("GET", "/interviews/{published}/edit", (302, 403, 403, 403, 200, 200)),
    ("GET", "/interviews/new", (302, 403, 200, 200, 200, 200)),
    ("GET", "/collections/new", (302, 403, 200, 200, 200, 200)),
    ("GET", "/people/new", (302, 403, 200, 200, 200, 200)),
    ("GET", "/account/", (302, 200, 200, 200, 200, 200)),
    ("GET", "/admin/users", (302, 403, 403, 403, 403, 200)),
    ("GET", "/login", (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/interviews", (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/interviews/{published}", (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/interviews/{draft}", (404, 404, 200, 404, 200, 200)),
    ("GET", "/api/v1/interviews/{published}/citation?t=0", (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/interviews/{draft}/citation?t=0", (404, 404, 200, 404, 200, 200)),
    ("GET", "/api/v1/interviews/{draft}/speaker-merges", (404, 404, 200, 404, 200, 200)),
    ("GET", "/api/v1/interviews/{published}/speaker-merges", (401, 403, 403, 403, 200, 200)),
    ("GET", "/api/v1/collections", (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/people", (200, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/interviews", (401, 403, 201, 201, 201, 201)),
    ("POST", "/api/v1/collections", (401, 403, 201, 201, 201, 201)),
    ("POST", "/api/v1/people", (401, 403, 201, 201, 201, 201)),
    ("PATCH", "/api/v1/interviews/{draft}", (401, 404, 200, 404, 200, 200)),
    ("PATCH", "/api/v1/interviews/{published}", (401, 403, 403, 403, 200, 200)),
    ("POST", "/api/v1/interviews/{draft}/publish", (401, 404, 403, 404, 200, 200)),
    ("POST", "/interviews/{draft}/publish", (302, 404, 403, 404, 302, 302)),
    # interoperability (issue 17): public to all; a draft's manifest only to who sees it
    ("GET", "/oai?verb=Identify", (200, 200, 200, 200, 200, 200)),
    ("POST", "/oai?verb=Identify", (200, 200, 200, 200, 200, 200)),
    ("GET", "/sitemap.xml", (200, 200, 200, 200, 200, 200)),
    ("GET", "/iiif/collections", (200, 200, 200, 200, 200, 200)),
    ("GET", "/iiif/interviews/{published}/manifest", (200, 200, 200, 200, 200, 200)),
    ("GET", "/iiif/interviews/{draft}/manifest", (404, 404, 200, 404, 200, 200)),
    # One-step deposit and review (#14 item 5, #15).
    ("GET", "/deposit", (302, 403, 200, 200, 200, 200)),
    ("POST", "/deposit", (302, 403, 422, 422, 422, 422)),
    ("POST", "/deposit/audio", (302, 403, 422, 422, 422, 422)),
    ("POST", "/deposit/audio/99999/remove", (302, 404, 404, 404, 404, 404)),
    ("GET", "/api/v1/deposit/audio", (401, 403, 200, 200, 200, 200)),
    ("POST", "/api/v1/deposit/audio", (401, 403, 422, 422, 422, 422)),
    ("DELETE", "/api/v1/deposit/audio/99999", (401, 404, 404, 404, 404, 404)),
    ("GET", "/review", (302, 403, 403, 403, 200, 200)),
    ("POST", "/interviews/{draft}/review", (302, 404, 302, 404, 403, 403)),
    # nginx's cached access check (MEDIA_ACCEL_AUTH): off by default, so no such page
    # (roles with it on: tests/access/test_media_check.py)
    ("GET", "/_oh/media-check", (404, 404, 404, 404, 404, 404)),
]

BODIES = {
    "/api/v1/interviews": {"title": "New one"},
    "/api/v1/collections": {"title": "New collection"},
    "/api/v1/people": {"name": "New Person"},
}


@pytest.fixture
def records(app, browser):
    owner = browser("contributor")
    draft = owner.post("/api/v1/interviews", json={"title": "Draft DRAFTMARKER"}).json["id"]
    published = owner.post("/api/v1/interviews", json={"title": "Published one"}).json["id"]
    browser("archivist").post(f"/api/v1/interviews/{published}/publish")
    return {"draft": draft, "published": published}


@pytest.mark.parametrize(
    ("method", "template", "expected"), MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX]
)
def test_role_matrix(app, browser, records, method, template, expected):
    url = template.format(**records)
    mismatches = []
    for role, status in zip(ROLE_COLUMNS, expected, strict=True):
        client = browser(None if role == "anon" else role)
        if method == "GET":
            response = client.get(url)
        elif method == "PATCH":
            response = client.patch(url, json={"summary": "changed"})
        elif method == "DELETE":
            response = client.delete(url)
        elif url.startswith("/api/"):
            body = {k: f"{v} {role}" for k, v in BODIES.get(url, {}).items()}
            response = client.post(url, json=body)
        else:
            response = client.post(url, data={})
        if response.status_code != status:
            mismatches.append((role, status, response.status_code))
        if role in ("anon", "researcher", "contributor2"):
            assert "DRAFTMARKER" not in response.get_data(as_text=True), (role, url)
        if method != "GET" and response.status_code < 400:
            # Undo writes so that each role meets the same state.
            with app.app_context():
                draft = db.session.get(Interview, records["draft"])
                draft.status = "draft"
                draft.review_requested_at = None
                db.session.commit()
    assert mismatches == []
