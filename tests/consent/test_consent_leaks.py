"""Marker-word leak scan for the new kinds of text: an agreement's conditions, a signed
form's file name and a redaction's reason are archivists' alone: no page, API response,
export or search of any other role shows them."""

from __future__ import annotations

import io

from ..documents.conftest import pdf_bytes
from .test_redaction_http import EXPORTS, ROLES, _without_echo

CONDITIONS = "condmarkerqz"
FORM = "formmarkerqz"
REASON = "reasonmarkerqz"


def test_consent_text_stays_with_archivists(app, browser, archive):
    iid, pid = archive["interview"], archive["participant"]
    archivist = browser("archivist")
    assert (
        archivist.patch(
            f"/api/v1/interviews/{iid}/agreements/{pid}", json={"conditions": CONDITIONS}
        ).status_code
        == 200
    )
    stored = archivist.client.post(
        f"/api/v1/interviews/{iid}/agreements/{pid}/form",
        data={"file": (io.BytesIO(pdf_bytes("x")), f"{FORM}.pdf")},
        headers={"X-CSRFToken": archivist.token()},
    )
    assert stored.status_code == 201
    assert (
        archivist.post(
            f"/api/v1/interviews/{iid}/redactions",
            json={"start_ms": 20000, "end_ms": 21000, "reason": REASON},
        ).status_code
        == 201
    )
    urls = [
        f"/interviews/{iid}",
        f"/interviews/{iid}/speakers",
        f"/api/v1/interviews/{iid}",
        f"/api/v1/interviews/{iid}/transcript",
        f"/api/v1/interviews/{iid}/agreements",
        f"/api/v1/interviews/{iid}/redactions",
        "/interviews",
        "/api/v1/interviews",
        "/access/audit",
    ] + [f"/api/v1/interviews/{iid}/transcript?format={fmt}" for fmt in EXPORTS]
    for role in ROLES:
        client = browser(role).client
        for url in urls:
            text = client.get(url).get_data(as_text=True)
            for marker in (CONDITIONS, FORM, REASON):
                assert marker not in text, (role, url, marker)
        for marker in (CONDITIONS, FORM, REASON):
            for search in ("/api/v1/search?q={q}", "/search?q={q}"):
                assert marker not in _without_echo(client, search, marker), (role, marker)
    page = archivist.get(f"/interviews/{iid}").get_data(as_text=True)
    assert CONDITIONS in page and FORM in page and REASON in page
