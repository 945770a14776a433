"""Every role against every consent endpoint, and the role x level matrix extended with
agreement-driven states (what each role may read and hear, through the API and the pages)."""

from __future__ import annotations

import io

import pytest

from oralhist.extensions import db
from tests.conftest import Browser, world_scope

from ..documents.conftest import pdf_bytes
from .conftest import T0, Clock

ROLE_COLUMNS = (None, "researcher", "contributor", "contributor2", "archivist", "admin")

# (method, url, body, expected per role column); {iid}, {pid} and {rid} are filled in.
# "contributor" deposited the interview; agreements and redactions are archivists' alone.
ENDPOINTS = [
    ("GET", "/api/v1/interviews/{iid}/agreements", None, (401, 403, 403, 403, 200, 200)),
    (
        "PATCH",
        "/api/v1/interviews/{iid}/agreements/{pid}",
        {"conditions": "c"},
        (401, 403, 403, 403, 200, 200),
    ),
    ("GET", "/api/v1/interviews/{iid}/agreements/{pid}/form", None, (401, 403, 403, 403, 200, 200)),
    ("GET", "/api/v1/interviews/{iid}/redactions", None, (401, 403, 403, 403, 200, 200)),
    (
        "POST",
        "/api/v1/interviews/{iid}/redactions",
        {"start_ms": 1000, "end_ms": 2000, "reason": "r"},
        (401, 403, 403, 403, 201, 201),
    ),
    ("GET", "/api/v1/redactions/{rid}", None, (404, 404, 404, 404, 200, 200)),
    ("PATCH", "/api/v1/redactions/{rid}", {"reason": "changed"}, (401, 404, 404, 404, 200, 200)),
    ("DELETE", "/api/v1/redactions/{rid}", None, (401, 404, 404, 404, 204, 204)),
    (
        "POST",
        "/interviews/{iid}/agreements/{pid}",
        {"status": "signed", "signed_on": "2026-01-05"},
        (302, 403, 403, 403, 302, 302),
    ),
    (
        "POST",
        "/interviews/{iid}/consent-override",
        {"consent_override": "reason"},
        (302, 403, 403, 403, 302, 302),
    ),
    (
        "POST",
        "/interviews/{iid}/redactions",
        {"start": "1", "end": "2", "reason": "r"},
        (302, 403, 403, 403, 302, 302),
    ),
    ("POST", "/redactions/{rid}/lift", {}, (302, 404, 404, 404, 302, 302)),
]


@pytest.fixture
def users(world_users):
    """The module's world (tests/savepoints.py): built once, each test rolled back to it."""
    return world_users


@pytest.fixture
def archive(consent_world, clock):
    return consent_world


@pytest.fixture
def ids(matrix_ids, clock):
    return matrix_ids


@pytest.fixture(scope=world_scope)
def matrix_ids(world_app, consent_world):
    """The world's interview and participant, a signed form stored and one redaction (at
    T0, as the ``clock`` fixture sets it)."""
    archivist = Browser(world_app, "archivist@example.org")
    iid, pid = consent_world["interview"], consent_world["participant"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("oralhist.access.clock", Clock(T0))
        stored = archivist.client.post(
            f"/api/v1/interviews/{iid}/agreements/{pid}/form",
            data={"file": (io.BytesIO(pdf_bytes("Signed release")), "signed.pdf")},
            headers={"X-CSRFToken": archivist.token()},
        )
        assert stored.status_code == 201, stored.get_data(as_text=True)
        rid = archivist.post(
            f"/api/v1/interviews/{iid}/redactions",
            json={"start_ms": 20000, "end_ms": 21000, "reason": "r"},
        ).json["id"]
    return {"iid": iid, "pid": pid, "rid": rid}


@pytest.mark.parametrize("method,template,body,expected", ENDPOINTS)
@pytest.mark.parametrize("column", range(len(ROLE_COLUMNS)))
def test_consent_endpoints_by_role(app, browser, ids, method, template, body, expected, column):
    role = ROLE_COLUMNS[column]
    client = browser(role)
    url = template.format(**ids)
    if method == "GET":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = (
            getattr(client, method.lower())(url, json=body)
            if body is not None
            else (getattr(client, method.lower())(url))
        )
    else:
        response = client.post(url, data=body)
    response.close()  # a sent file is a stream
    assert response.status_code == expected[column], (role, method, url, response.status_code)


# Agreement-driven states: (agreement terms, level) -> (reads, listens) for a researcher;
# the depositor ("contributor") and archivists keep both; anonymous as the researcher on open.
STATES = [
    ({"status": "signed", "signed_on": "2026-01-05"}, "open", (True, True)),
    ({"status": "signed", "signed_on": "2026-01-05"}, "restricted", (False, False)),
    (
        {"status": "signed", "signed_on": "2026-01-05", "closed_until": "2031-01-01"},
        "open",
        (False, False),
    ),
    (
        {"status": "signed", "signed_on": "2026-01-05", "publication": "transcript_only"},
        "open",
        (True, False),
    ),
    (
        {"status": "signed", "signed_on": "2026-01-05", "publication": "audio_only"},
        "registered",
        (False, True),
    ),
    (
        {"status": "signed", "signed_on": "2026-01-05", "publication": "none"},
        "open",
        (False, False),
    ),
    ({"status": "withdrawn"}, "open", (False, False)),
    (
        {
            "status": "signed",
            "signed_on": "2026-01-05",
            "closed_years_after_death": 20,
            "date_of_death": "1990-01-01",
        },
        "open",
        (True, True),
    ),
    (
        {"status": "signed", "signed_on": "2026-01-05", "closed_years_after_death": 20},
        "open",
        (False, False),
    ),
]


@pytest.mark.parametrize("terms,level,expected", STATES)
def test_agreement_states_by_role(app, browser, archive, terms, level, expected):
    iid, pid = archive["interview"], archive["participant"]
    archivist = browser("archivist")
    assert (
        archivist.patch(f"/api/v1/interviews/{iid}/agreements/{pid}", json=terms).status_code == 200
    )
    if level != "open":
        assert (
            archivist.patch(f"/api/v1/interviews/{iid}", json={"access_level": level}).status_code
            == 200
        )
    reads, listens = expected
    for role, want in (
        ("researcher", (reads, listens)),
        ("contributor2", (reads, listens)),
        ("contributor", (True, True)),
        ("archivist", (True, True)),
    ):
        body = browser(role).get(f"/api/v1/interviews/{iid}").json
        assert (body["can_read_transcript"], body["can_listen"]) == want, (role, terms, level)
        status = browser(role).get(f"/api/v1/interviews/{iid}/transcript").status_code
        assert status == (200 if want[0] else 403), (role, terms)
    anonymous = browser(None).get(f"/api/v1/interviews/{iid}").json
    if level == "open":
        assert (anonymous["can_read_transcript"], anonymous["can_listen"]) == expected
    # search follows the policy for the transcript's words
    total = browser("researcher").get("/api/v1/search?q=harbour").json["total"]
    # the catalogue record is public: "harbour" in the summary is found either way; the
    # transcript's moments only when the words may be read
    moments = browser("researcher").get("/api/v1/search?q=harbour").json["total_moments"]
    assert total == 1 and (moments > 0) is reads
    with app.app_context():
        from oralhist.services import indexing

        assert indexing.check_consistency(repair=False).interviews == []
        db.session.rollback()
