"""Anonymisation: a narrator whose agreement asks for it appears as "Narrator A" in every
public page, snippet, facet, citation, export and API response and in the public search
index; archivists see the name. The marker name must appear nowhere else."""

from __future__ import annotations

from .conftest import NAME
from .test_redaction_http import EXPORTS, ROLES, _without_echo

SURNAME = NAME.split()[-1]


def anonymise(browser, archive):
    iid, pid = archive["interview"], archive["participant"]
    response = browser("archivist").patch(
        f"/api/v1/interviews/{iid}/agreements/{pid}", json={"anonymise": True}
    )
    assert response.status_code == 200 and response.json["anonymise"] is True


def public_texts(client, archive) -> dict[str, str]:
    iid, person = archive["interview"], archive["narrator"]
    out = {
        "page": client.get(f"/interviews/{iid}").get_data(as_text=True),
        "list": client.get("/interviews").get_data(as_text=True),
        "api": client.get(f"/api/v1/interviews/{iid}").get_data(as_text=True),
        "api_list": client.get("/api/v1/interviews").get_data(as_text=True),
        "transcript": client.get(f"/api/v1/interviews/{iid}/transcript").get_data(as_text=True),
        "speakers": client.get(f"/api/v1/interviews/{iid}/speakers").get_data(as_text=True),
        "speakers_page": client.get(f"/interviews/{iid}/speakers").get_data(as_text=True),
        "browse": client.get("/search?q=harbour").get_data(as_text=True),
        "search": client.get("/api/v1/search?q=harbour").get_data(as_text=True),
        "by_name": _without_echo(client, "/api/v1/search?q={q}", SURNAME),
        "by_name_page": _without_echo(client, "/search?q={q}", SURNAME),
        "person_page": client.get(f"/people/{person}").get_data(as_text=True),
    }
    for fmt in EXPORTS:
        out[fmt] = client.get(f"/api/v1/interviews/{iid}/transcript?format={fmt}").get_data(
            as_text=True
        )
    return out


def test_the_name_is_a_label_for_everyone_but_archivists(app, browser, archive):
    before = public_texts(browser("researcher").client, archive)
    assert NAME in before["page"] and NAME in before["vtt"] and SURNAME in before["by_name"]
    anonymise(browser, archive)
    for role in ROLES:
        seen = public_texts(browser(role).client, archive)
        for where, text in seen.items():
            if where == "person_page":
                continue  # the person's own page names them, but lists no anonymous interview
            assert NAME not in text and SURNAME not in text, (role, where)
        assert "Narrator A" in seen["page"] and "Narrator A" in seen["api"]
        assert "Narrator A" in seen["vtt"] and "Narrator A" in seen["ohms"]
        assert "Harbour days" not in seen["person_page"], role
        search = browser(role).get(f"/api/v1/search?q={SURNAME}").json
        assert search["total"] == 0, role
        facets = browser(role).get("/api/v1/search?q=harbour").json["facets"]
        assert any(v["value"] == "Narrator A" for v in facets.get("narrator", [])), facets
        participants = (
            browser(role).get(f"/api/v1/interviews/{archive['interview']}").json["participants"]
        )
        assert participants[0] == {"person_id": None, "name": "Narrator A", "role": "interviewee"}
    archivist = public_texts(browser("archivist").client, archive)
    assert NAME in archivist["page"] and NAME in archivist["vtt"]
    assert browser("archivist").get(f"/api/v1/search?q={SURNAME}").json["total"] == 1
    assert "Harbour days" in archivist["person_page"]


def test_passages_and_citations_use_the_label(app, browser, archive):
    from oralhist.extensions import db
    from oralhist.services import catalogue, mentions  # noqa: F401

    iid = archive["interview"]
    archivist = browser("archivist")
    document = archivist.post(
        "/api/v1/documents", json={"title": "Harbour bulletin", "access_level": "open"}
    )
    assert document.status_code == 201, document.json
    did = document.json["id"]
    linked = archivist.post(
        f"/api/v1/documents/{did}/mentions",
        json={"interview_id": iid, "start_ms": 10000, "end_ms": 14000, "note": f"{NAME} talks"},
    )
    assert linked.status_code == 201, linked.json
    anonymise(browser, archive)
    archivist.post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 10000, "end_ms": 14000, "reason": "r"},
    )
    for role in ROLES:
        client = browser(role).client
        for url in (f"/api/v1/documents/{did}", f"/documents/{did}"):
            text = client.get(url).get_data(as_text=True)
            assert NAME not in text and SURNAME not in text, (role, url)
            assert "xylomarkerword" not in text, (role, url)
        detail = client.get(f"/api/v1/documents/{did}").json
        assert "Interview with Narrator A" in detail["passages"][0]["citation"]
    detail = archivist.get(f"/api/v1/documents/{did}").json
    assert NAME in detail["passages"][0]["citation"]
    with app.app_context():
        db.session.rollback()
