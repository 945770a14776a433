"""An anonymised narrator's name finds nothing and ties them to nothing for everyone but
archivists: the list's title search and person filter, the people list, the type-ahead,
the person's page (not found when every participation is anonymised), the narrators
column of lists, and the notifications and mails that name the interview."""

from __future__ import annotations

from oralhist.extensions import db

from ..access.conftest import read_mails
from ..access.test_api import FORM
from .conftest import ARCHIVIST, NAME, ROLES, SURNAME, leaks


def test_searching_the_list_by_the_name_finds_nothing(app, browser, private):
    for role in ROLES:
        b = browser(role)
        for q in (SURNAME, NAME.lower(), f"with {NAME.split()[0]}"):
            assert b.get(f"/api/v1/interviews?q={q}").json["total"] == 0, (role, q)
        assert b.get(f"/api/v1/interviews?person={private.person}").json["total"] == 0, role
        assert b.get("/api/v1/interviews?q=pit").json["total"] == 1, role
        page = b.get("/interviews?q=pit").get_data(as_text=True)
        assert "Down the pit with Narrator A" in page and "Ada Pellow" in page, role
        assert "Narrator A" in page and not leaks(page), role
    archivist = browser("archivist")
    assert archivist.get(f"/api/v1/interviews?q={SURNAME}").json["total"] == 1
    assert archivist.get(f"/api/v1/interviews?person={private.person}").json["total"] == 1
    assert NAME in archivist.get("/interviews").get_data(as_text=True)


def test_a_person_known_only_anonymously_is_not_found(app, browser, private):
    for role in ROLES:
        b = browser(role)
        assert b.get(f"/people/{private.person}").status_code == 404, role
        assert b.get(f"/api/v1/people/{private.person}").status_code == 404, role
        names = [p["name"] for p in b.get(f"/api/v1/people?q={SURNAME[:5]}").json["items"]]
        assert names == [], role
        names = [p["name"] for p in b.get("/api/v1/people?per_page=100").json["items"]]
        assert NAME not in names and "Ada Pellow" in names, role
    archivist = browser("archivist")
    page = archivist.get(f"/people/{private.person}").get_data(as_text=True)
    assert NAME in page and "Down the pit" in page
    names = [p["name"] for p in archivist.get(f"/api/v1/people?q={SURNAME[:5]}").json["items"]]
    assert names == [NAME]


def test_a_person_named_elsewhere_shows_only_the_named_interviews(app, browser, private):
    from oralhist.services import catalogue

    with app.test_request_context():
        other = catalogue.save_interview(
            ARCHIVIST,
            {
                "title": "Chapel choir",
                "access_level": "open",
                "consent_override": "test",
                "participants": [{"person_id": private.person, "role": "interviewee"}],
            },
        )
        other.consent_override = "public domain recording"
        catalogue.publish(ARCHIVIST, other)
        db.session.commit()
    for role in ROLES:
        page = browser(role).get(f"/people/{private.person}")
        assert page.status_code == 200, role
        text = page.get_data(as_text=True)
        assert "Chapel choir" in text and "Down the pit" not in text, role
        assert "Narrator A" not in text, role


def test_a_person_with_no_interview_is_listed(app, browser, private):
    made = browser("contributor").post("/api/v1/people", json={"name": "Nia Uncatalogued"})
    assert made.status_code == 201
    for role in ROLES:
        assert browser(role).get(f"/people/{made.json['id']}").status_code == 200, role


def test_mails_and_notifications_name_the_interview_by_its_label(app, browser, private):
    archivist = browser("archivist")
    changed = archivist.patch(
        f"/api/v1/interviews/{private.interview}", json={"access_level": "restricted"}
    )
    assert changed.status_code == 200, changed.json
    researcher = browser("researcher")
    asked = researcher.post(f"/api/v1/interviews/{private.interview}/access-requests", json=FORM)
    assert asked.status_code == 201, asked.json
    approved = archivist.post(f"/api/v1/access-requests/{asked.json['id']}/approve", json={})
    assert approved.status_code == 200, approved.json
    mails = [m for m in read_mails(app) if m["To"] == "researcher@example.org"]
    assert mails, "the researcher is told"
    for mail in mails:
        text = mail["Subject"] + mail.get_content()
        assert "Narrator A" in text and not leaks(text)
    for url in ("/", "/access/mine", "/api/v1/access-requests"):
        assert not leaks(researcher.get(url).get_data(as_text=True)), url
    to_archivists = [m for m in read_mails(app) if m["To"] == "archivist@example.org"]
    assert any(SURNAME in m["Subject"] for m in to_archivists)
