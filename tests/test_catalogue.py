"""Catalogue: validation of every form and API field, drafts, sorting and filters."""

from __future__ import annotations

import re

import pytest

from oralhist.extensions import db
from oralhist.models import Collection, Interview, Person
from oralhist.services.fields import parse_partial_date


@pytest.mark.parametrize("value", ["1957", "1957-03", "1957-03-12", "2000-02-29"])
def test_partial_dates_accepted(value):
    assert parse_partial_date(value) == value


@pytest.mark.parametrize(
    "value", ["57", "1957-13", "1957-02-30", "1957/03", "March 1957", "1957-3"]
)
def test_partial_dates_refused(value):
    with pytest.raises(ValueError):
        parse_partial_date(value)


def make_collection(app, slug="c1"):
    with app.app_context():
        collection = Collection(slug=slug, title=f"Collection {slug}")
        db.session.add(collection)
        db.session.commit()
        return collection.id


def interview_count(app) -> int:
    with app.app_context():
        return db.session.query(Interview).count()


BAD_INTERVIEWS = [
    ({"summary": "no title"}, "title", "is required"),
    ({"title": "x", "date_recorded": "1957-13"}, "date_recorded", "month 13"),
    ({"title": "x", "collection_id": 9999}, "collection_id", "no collection 9999"),
    ({"title": "x" * 256}, "title", "too long"),
    ({"title": ["a", "list"]}, "title", "must be text"),
    ({"title": "x", "access_level": "secret"}, "access_level", "must be one of"),
    ({"title": "x", "collection_id": "abc"}, "collection_id", "whole number"),
    ({"title": "x", "participants": "Thomas"}, "participants", "must be a list"),
    ({"title": "x", "participants": [{"person_id": 777}]}, "participants", "no person 777"),
    ({"title": "x", "embargo_until": "soon"}, "embargo_until", "YYYY-MM-DD"),
]


@pytest.mark.parametrize(("body", "field", "text"), BAD_INTERVIEWS)
def test_api_rejects_bad_interviews(app, browser, body, field, text):
    client = browser("contributor")
    response = client.post("/api/v1/interviews", json=body)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]["fields"] or field in error["message"]
    assert text in error["message"]
    assert interview_count(app) == 0


def test_api_rejects_non_json_and_non_objects(app, browser):
    client = browser("contributor")
    assert (
        client.post("/api/v1/interviews", data="title=x", content_type="text/plain").status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/interviews", data="{bad json", content_type="application/json"
        ).status_code
        == 422
    )
    assert client.post("/api/v1/interviews", json=["title"]).status_code == 422
    assert interview_count(app) == 0


def test_duplicate_accession_is_a_conflict(app, browser):
    client = browser("archivist")
    assert (
        client.post("/api/v1/interviews", json={"title": "a", "accession": "OH-1"}).status_code
        == 201
    )
    dup = client.post("/api/v1/interviews", json={"title": "b", "accession": "OH-1"})
    assert dup.status_code == 409
    assert "OH-1" in dup.json["error"]["message"]
    assert interview_count(app) == 1


def test_accession_is_generated(app, browser):
    client = browser("contributor")
    first = client.post("/api/v1/interviews", json={"title": "a", "date_recorded": "1957"}).json
    second = client.post("/api/v1/interviews", json={"title": "b", "date_recorded": "1957-05"}).json
    assert first["accession"] == "OH-1957-001"
    assert second["accession"] == "OH-1957-002"
    assert first["status"] == "draft"


def test_form_errors_are_shown_and_nothing_saved(app, browser):
    client = browser("contributor")
    response = client.post("/interviews/new", data={"title": "", "date_recorded": "1957-99"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Title is required" in html
    assert "month 99 does not exist" in html
    assert interview_count(app) == 0


def test_form_creates_interview_with_participants(app, browser):
    with app.app_context():
        person = Person(name="Kay Carter", sort_name="Carter, Kay")
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    collection_id = make_collection(app)
    client = browser("contributor")
    response = client.post(
        "/interviews/new",
        data={
            "title": "Kay Carter interview",
            "date_recorded": "1957-03",
            "collection_id": str(collection_id),
            "participant_person": [str(person_id), ""],
            "participant_role": ["interviewee", "interviewer"],
            "access_level": "open",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        interview = db.session.query(Interview).one()
        assert [(p.person_id, p.role) for p in interview.participants] == [
            (person_id, "interviewee")
        ]
        assert interview.collection_id == collection_id


def test_drafts_are_private_and_publish_is_for_archivists(app, browser):
    owner = browser("contributor")
    created = owner.post("/api/v1/interviews", json={"title": "Secret draft"}).json
    url = f"/interviews/{created['id']}"
    assert owner.get(url).status_code == 200
    for role in (None, "researcher", "contributor2"):
        assert browser(role).get(url).status_code == 404
        listing = browser(role).get("/api/v1/interviews").json
        assert all(i["id"] != created["id"] for i in listing["items"])
        assert "Secret draft" not in browser(role).get("/interviews").get_data(as_text=True)
    assert browser("archivist").get(url).status_code == 200
    assert owner.post(f"/api/v1/interviews/{created['id']}/publish").status_code == 403
    archivist = browser("archivist")
    assert (
        archivist.post(f"/api/v1/interviews/{created['id']}/publish").json["status"] == "published"
    )
    assert browser().get(url).status_code == 200
    # A contributor no longer edits a published record.
    assert (
        owner.patch(f"/api/v1/interviews/{created['id']}", json={"title": "x"}).status_code == 403
    )


def test_contributor_cannot_set_access_after_creation(app, browser):
    owner = browser("contributor")
    created = owner.post(
        "/api/v1/interviews", json={"title": "t", "access_level": "restricted"}
    ).json
    assert created["access_level"] == "restricted"
    refused = owner.patch(f"/api/v1/interviews/{created['id']}", json={"access_level": "open"})
    assert refused.status_code == 422
    assert (
        owner.patch(f"/api/v1/interviews/{created['id']}", json={"summary": "ok"}).status_code
        == 200
    )


def test_sorting_and_filters(app, browser):
    archivist = browser("archivist")
    collection_id = make_collection(app, "nottingham")
    for title, date in [("B", "1957-03"), ("A", "1960"), ("C", "1957"), ("D", "")]:
        body = {"title": title, "date_recorded": date}
        if title != "D":
            body["collection_id"] = collection_id
        made = archivist.post("/api/v1/interviews", json=body).json
        archivist.post(f"/api/v1/interviews/{made['id']}/publish")
    titles = lambda q: [i["title"] for i in browser().get(f"/api/v1/interviews?{q}").json["items"]]  # noqa: E731
    assert titles("sort=title") == ["A", "B", "C", "D"]
    assert titles("sort=date") == ["D", "C", "B", "A"]
    assert titles("sort=-date") == ["A", "B", "C", "D"]
    assert titles("year_from=1957&year_to=1958") == ["B", "C"]
    assert titles("collection=nottingham&sort=-title") == ["C", "B", "A"]
    assert titles("per_page=2&page=2") == ["C", "D"]
    listing = browser().get("/api/v1/interviews?per_page=2").json
    assert listing["total"] == 4 and listing["page"] == 1 and listing["per_page"] == 2
    for bad in ("page=abc", "page=0", "per_page=100000", "sort=nonsense", "year_from=x"):
        response = browser().get(f"/api/v1/interviews?{bad}")
        assert response.status_code == 422, bad
        assert browser().get(f"/interviews?{bad}").status_code == 422
    assert browser().get("/api/v1/interviews?collection=nowhere").status_code == 404


def test_collections_and_people(app, browser):
    contributor = browser("contributor")
    made = contributor.post("/api/v1/collections", json={"title": "Miners' Strike Voices"}).json
    assert made["slug"] == "miners-strike-voices"
    dup = contributor.post(
        "/api/v1/collections", json={"title": "x", "slug": "miners-strike-voices"}
    )
    assert dup.status_code == 409
    assert (
        contributor.post("/api/v1/collections", json={"title": "x", "slug": "Bad Slug"}).status_code
        == 422
    )
    assert browser("researcher").post("/api/v1/collections", json={"title": "x"}).status_code == 403
    assert browser().get("/collections/miners-strike-voices").status_code == 200
    person = contributor.post(
        "/api/v1/people", json={"name": "Ann Example", "dates": "1920-2001"}
    ).json
    assert person["sort_name"] == "Example, Ann"
    assert contributor.post("/api/v1/people", json={"name": ""}).status_code == 422
    assert browser().get(f"/people/{person['id']}").status_code == 200
    edit = contributor.post(f"/people/{person['id']}/edit", data={"name": "Ann B. Example"})
    assert edit.status_code == 302


def test_merge_people(app, browser):
    archivist = browser("archivist")
    keep = archivist.post("/api/v1/people", json={"name": "Thomas Whitfield"}).json
    dup = archivist.post("/api/v1/people", json={"name": "Tom Whitfield", "dates": "b. 1931"}).json
    interview = archivist.post(
        "/api/v1/interviews",
        json={"title": "t", "participants": [{"person_id": dup["id"], "role": "interviewee"}]},
    ).json
    assert (
        browser("contributor")
        .post(f"/people/{keep['id']}/merge", data={"duplicate_id": str(dup["id"])})
        .status_code
        == 403
    )
    response = archivist.post(f"/people/{keep['id']}/merge", data={"duplicate_id": str(dup["id"])})
    assert response.status_code == 302
    assert archivist.get(f"/api/v1/people/{dup['id']}").status_code == 404
    merged = archivist.get(f"/api/v1/interviews/{interview['id']}").json
    assert merged["participants"][0]["person_id"] == keep["id"]
    assert archivist.get(f"/api/v1/people/{keep['id']}").json["dates"] == "b. 1931"


def test_merge_offers_likely_duplicates_and_a_search_not_everyone(app, browser):
    from oralhist.services.catalogue import MERGE_CANDIDATES

    archivist = browser("archivist")
    keep = archivist.post("/api/v1/people", json={"name": "Thomas Whitfield"}).json
    for name in ("Tom Whitfield", "T. Whitfield", "Margaret Hale", "Thomas Paine", "100%_Odd"):
        archivist.post("/api/v1/people", json={"name": name})
    for n in range(MERGE_CANDIDATES + 5):
        archivist.post("/api/v1/people", json={"name": f"Unrelated Person {n}"})

    def offered(query: str = "") -> list[str]:
        page = archivist.get(f"/people/{keep['id']}{query}").get_data(as_text=True)
        return re.findall(r'<option value="\d+">([^<(]+?) \(', page)

    assert offered() == ["Paine, Thomas", "Whitfield, T.", "Whitfield, Tom"]
    assert offered("?merge_q=hale") == ["Hale, Margaret"]
    assert offered("?merge_q=%25_") == ["100%_Odd"]  # LIKE wildcards are taken literally
    assert len(offered("?merge_q=unrelated")) == MERGE_CANDIDATES
    assert "search to narrow" in archivist.get(f"/people/{keep['id']}?merge_q=unrelated").text
    nobody = archivist.get(f"/people/{keep['id']}?merge_q=zzz").get_data(as_text=True)
    assert "Nobody else’s name contains" in nobody
    assert "Merge a duplicate" not in browser("contributor").get(f"/people/{keep['id']}").text
    listed = archivist.get("/people?q=%25_&per_page=100").get_data(as_text=True)  # the list too
    assert "100%_Odd" in listed and "Hale" not in listed


def test_pagination_links_on_every_list(app, browser):
    archivist = browser("archivist")
    for n in range(3):
        archivist.post("/api/v1/people", json={"name": f"Person {n}"})
        made = archivist.post("/api/v1/interviews", json={"title": f"Interview {n}"}).json
        archivist.post(f"/api/v1/interviews/{made['id']}/publish")
    for url in ("/people?per_page=1", "/interviews?per_page=1", "/admin/users?per_page=1"):
        response = browser("admin").get(url)
        assert response.status_code == 200, url
        assert 'rel="next"' in response.get_data(as_text=True)


def test_collection_and_person_forms_show_errors_and_save_nothing(app, browser):
    client = browser("contributor")
    bad = client.post("/collections/new", data={"title": "", "slug": "Not A Slug"})
    assert bad.status_code == 422
    assert "Title is required" in bad.get_data(as_text=True)
    nameless = client.post("/people/new", data={"name": "", "dates": "x" * 81})
    assert nameless.status_code == 422
    html = nameless.get_data(as_text=True)
    assert "Name is required" in html and "too long" in html
    with app.app_context():
        assert db.session.query(Collection).count() == 0
        assert db.session.query(Person).count() == 0
    good = client.post("/collections/new", data={"title": "Dock Workers"})
    assert good.status_code == 302
    assert good.headers["Location"].endswith("/collections/dock-workers")


def test_a_contributor_cannot_probe_for_hidden_accessions(app, browser):
    """Accessions are unique across drafts too, so only archivists choose them: a
    contributor's answer is the same whether or not a draft they cannot see holds it."""
    owner = browser("contributor")
    draft = owner.post("/api/v1/interviews", json={"title": "Hidden draft"}).json
    other = browser("contributor2")
    taken = other.post("/api/v1/interviews", json={"title": "x", "accession": draft["accession"]})
    free = other.post("/api/v1/interviews", json={"title": "x", "accession": "OH-FREE-001"})
    assert taken.status_code == free.status_code == 422
    assert taken.json["error"]["details"] == free.json["error"]["details"]
    assert taken.json["error"]["message"] == free.json["error"]["message"]
    assert "archivist" in taken.json["error"]["message"]
    assert interview_count(app) == 1
    # without an accession the deposit works, and keeping one's own accession on edit is fine
    made = other.post("/api/v1/interviews", json={"title": "x"}).json
    again = other.patch(f"/api/v1/interviews/{made['id']}", json={"accession": made["accession"]})
    assert again.status_code == 200
    moved = other.patch(f"/api/v1/interviews/{made['id']}", json={"accession": "OH-MINE"})
    assert moved.status_code == 422
    assert (
        browser("archivist")
        .post("/api/v1/interviews", json={"title": "y", "accession": "OH-FREE-001"})
        .status_code
        == 201
    )
