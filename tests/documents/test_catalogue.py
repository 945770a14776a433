"""The document catalogue: create, edit, list with filters and sorting, the attached file."""

from __future__ import annotations

import io
import os

import pytest

from oralhist.extensions import db
from oralhist.models import Document, Person

from .conftest import document_count, make_document, pdf_bytes, png_bytes


def stored_files(app) -> list[str]:
    root = app.config["MEDIA_ROOT"]
    found = []
    for folder, _dirs, files in os.walk(root):
        if os.path.basename(folder) == "tmp":
            continue
        found += files
    return found


def test_create_with_creators_and_partial_date(app, browser, users):
    client = browser("contributor")
    with app.app_context():
        existing = Person(name="Kate Clark", sort_name="Clark, Kate")
        db.session.add(existing)
        db.session.commit()
        existing_id = existing.id
    response = client.post(
        "/api/v1/documents",
        json={
            "title": "Why we Left the Communist Party",
            "doc_type": "pamphlet",
            "date": "1957-03",
            "publisher": "Nottingham Marxist Group",
            "creators": [existing_id, {"name": "John Smith"}, "kate clark"],
            "external_url": "https://example.org/pamphlet",
            "citation": "NMG, 1957.",
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["date"] == "1957-03"
    assert [c["name"] for c in body["creators"]] == ["Kate Clark", "John Smith"]
    assert body["passages"] == []
    page = client.get(f"/documents/{body['id']}").get_data(as_text=True)
    assert "March 1957" in page and "John Smith" in page and "Nottingham Marxist Group" in page
    with app.app_context():
        assert db.session.query(Person).filter_by(name="John Smith").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "X", "date": "1957-13"}, "date"),
        ({"title": "X", "doc_type": "poster"}, "doc_type"),
        ({"title": "X", "external_url": "javascript:alert(1)"}, "external_url"),
        ({"title": "X", "external_url": "JavaScript:alert(1)"}, "external_url"),
        ({"title": "X", "external_url": "data:text/html,hi"}, "external_url"),
        ({"title": "X", "external_url": "ftp://example.org/x"}, "external_url"),
        ({"title": "X", "creators": [99999]}, "creators"),
        ({"title": "X", "access_level": "secret"}, "access_level"),
    ],
)
def test_bad_fields_are_422_and_nothing_saved(app, browser, body, field):
    response = browser("archivist").post("/api/v1/documents", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]
    assert document_count(app) == 0


def test_javascript_url_in_the_form_is_refused(app, browser):
    client = browser("archivist")
    response = client.post(
        "/documents/new", data={"title": "Bad link", "external_url": "javascript:alert(1)"}
    )
    assert response.status_code == 422
    assert "http:// or https://" in response.get_data(as_text=True)
    assert document_count(app) == 0


def test_contributor_cannot_create_closed_documents(app, browser):
    response = browser("contributor").post(
        "/api/v1/documents", json={"title": "C", "access_level": "closed"}
    )
    assert response.status_code == 422
    assert document_count(app) == 0


def test_pdf_attachment_is_stored_hashed_and_its_text_extracted(app, browser):
    import hashlib

    client = browser("archivist")
    data = pdf_bytes("Why we Left the Communist Party")
    response = client.post(
        "/api/v1/documents",
        data={"title": "Pamphlet", "file": (io.BytesIO(data), "pamphlet.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["file"]["mime"] == "application/pdf"
    assert "Communist Party" in body["full_text"]
    url = body["file"]["url"]
    served = client.get(url)
    assert served.status_code == 200 and served.data == data
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    served.close()
    ranged = client.get(url, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.data == data[:8]
    ranged.close()


def test_pasted_text_wins_over_the_pdf_text(app, browser):
    response = browser("archivist").post(
        "/api/v1/documents",
        data={
            "title": "Pamphlet",
            "full_text": "Typed by hand",
            "file": (io.BytesIO(pdf_bytes()), "p.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.json["full_text"] == "Typed by hand"


def test_image_attachment_through_the_form(app, browser):
    client = browser("archivist")
    response = client.post(
        "/documents/new",
        data={
            "title": "Photo of the branch",
            "doc_type": "photograph",
            "access_level": "open",
            "file": (io.BytesIO(png_bytes()), "branch.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        doc = db.session.query(Document).one()
        assert doc.file_mime == "image/png" and doc.file_name == "branch.png"
        doc_id = doc.id
    served = client.get(f"/documents/{doc_id}/file")
    assert served.headers["Content-Type"] == "image/png"
    served.close()


@pytest.mark.parametrize(
    ("name", "content"),
    [("pamphlet.pdf", b"this is not a pdf at all"), ("photo.jpg", None), ("x.exe", b"MZ....")],
)
def test_a_file_that_is_not_a_pdf_or_image_is_refused(app, browser, name, content):
    content = content if content is not None else pdf_bytes()  # a PDF named .jpg
    response = browser("archivist").post(
        "/api/v1/documents",
        data={"title": "Fake", "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert name in response.json["error"]["message"]
    assert document_count(app) == 0
    assert stored_files(app) == []


def test_an_oversized_attachment_is_413_and_nothing_saved(app, browser):
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    response = browser("archivist").post(
        "/api/v1/documents",
        data={"title": "Big", "file": (io.BytesIO(pdf_bytes() + b"%" * 2000), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert document_count(app) == 0
    assert stored_files(app) == []


def refuse_commits(monkeypatch) -> None:
    """Make the unit of work's commit fail as a constraint violation at commit would."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import scoped_session

    def refuse(self):
        raise IntegrityError("COMMIT", {}, Exception("the database refused the change"))

    monkeypatch.setattr(scoped_session, "commit", refuse)


def test_a_failed_transaction_removes_the_stored_file(app, browser, monkeypatch):
    client = browser("archivist")
    refuse_commits(monkeypatch)
    response = client.post(
        "/api/v1/documents",
        data={"title": "Doomed", "file": (io.BytesIO(pdf_bytes()), "p.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert document_count(app) == 0
    assert stored_files(app) == []


def test_edit_replaces_fields_and_removes_the_file(app, browser, users):
    client = browser("archivist")
    doc = client.post(
        "/api/v1/documents",
        data={"title": "Pamphlet", "file": (io.BytesIO(pdf_bytes()), "p.pdf")},
        content_type="multipart/form-data",
    ).json
    response = client.patch(f"/api/v1/documents/{doc['id']}", json={"publisher": "NMG"})
    assert response.status_code == 200 and response.json["publisher"] == "NMG"
    assert response.json["title"] == "Pamphlet"
    response = client.post(
        f"/documents/{doc['id']}/edit",
        data={
            "title": "Pamphlet (2nd ed.)",
            "doc_type": "pamphlet",
            "access_level": "open",
            "remove_file": "1",
            "creator_names": "Ann Other",
        },
    )
    assert response.status_code == 302
    again = client.get(f"/api/v1/documents/{doc['id']}").json
    assert again["title"] == "Pamphlet (2nd ed.)" and again["file"] is None
    assert [c["name"] for c in again["creators"]] == ["Ann Other"]


def _with_file(client, data: bytes, title: str = "Pamphlet") -> dict:
    response = client.post(
        "/api/v1/documents",
        data={"title": title, "file": (io.BytesIO(data), "p.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_replaced_or_removed_file_leaves_storage_once_committed(app, browser):
    import hashlib

    from oralhist.models import AuditEvent

    client = browser("archivist")
    first, second = pdf_bytes("First edition"), pdf_bytes("Second edition")
    doc = _with_file(client, first)
    replaced = client.patch(
        f"/api/v1/documents/{doc['id']}",
        data={"file": (io.BytesIO(second), "p2.pdf")},
        content_type="multipart/form-data",
    )
    assert replaced.status_code == 200, replaced.json
    assert stored_files(app) == [hashlib.sha256(second).hexdigest()]
    with app.app_context():
        details = db.session.scalars(
            db.select(AuditEvent.details).where(AuditEvent.action == "document.update")
        ).all()
    assert {"replaced_file": hashlib.sha256(first).hexdigest()}.items() <= details[-1].items()
    removed = client.patch(f"/api/v1/documents/{doc['id']}", json={"remove_file": True})
    assert removed.status_code == 200 and removed.json["file"] is None
    assert stored_files(app) == []


def test_a_replaced_file_another_row_uses_stays(app, browser):
    client = browser("archivist")
    shared = pdf_bytes("Shared")
    doc = _with_file(client, shared)
    _with_file(client, shared, title="The same scan, catalogued twice")
    response = client.patch(f"/api/v1/documents/{doc['id']}", json={"remove_file": True})
    assert response.status_code == 200
    assert len(stored_files(app)) == 1


def test_a_failed_replacement_keeps_the_old_file(app, browser, monkeypatch):
    client = browser("archivist")
    doc = _with_file(client, pdf_bytes("Kept"))
    before = stored_files(app)
    refuse_commits(monkeypatch)
    response = client.patch(
        f"/api/v1/documents/{doc['id']}",
        data={"file": (io.BytesIO(pdf_bytes("Lost")), "p2.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert stored_files(app) == before
    served = client.get(doc["file"]["url"])
    assert served.status_code == 200 and served.data == pdf_bytes("Kept")
    served.close()


def test_contributors_edit_only_their_own(app, browser):
    doc = browser("contributor").post("/api/v1/documents", json={"title": "Mine"}).json
    assert (
        browser("contributor2")
        .patch(f"/api/v1/documents/{doc['id']}", json={"title": "Theirs"})
        .status_code
        == 403
    )
    assert (
        browser("contributor")
        .patch(f"/api/v1/documents/{doc['id']}", json={"title": "Still mine"})
        .status_code
        == 200
    )
    assert (
        browser("archivist")
        .patch(f"/api/v1/documents/{doc['id']}", json={"title": "Archivist's"})
        .status_code
        == 200
    )


def test_list_filters_and_sorting(app, browser, users):
    client = browser("archivist")
    person = client.post("/api/v1/people", json={"name": "Kate Clark"}).json["id"]
    make_document(app, title="B letter", doc_type="letter", date="1956-11")
    make_document(app, title="a pamphlet", doc_type="pamphlet", date="1957", creators=[person])
    make_document(app, title="C minutes", doc_type="minutes", date="1960-02-01")
    make_document(app, title="D restricted", doc_type="letter", date="1958", level="restricted")

    def titles(query: str, who=None) -> list[str]:
        c = browser(who) if who else client
        return [d["title"] for d in c.get("/api/v1/documents" + query).json["items"]]

    assert titles("") == ["a pamphlet", "B letter", "C minutes", "D restricted"]
    assert titles("?sort=-title")[0] == "D restricted"
    assert titles("?sort=date") == ["B letter", "a pamphlet", "D restricted", "C minutes"]
    assert titles("?sort=-added")[0] == "D restricted"
    assert titles("?type=letter") == ["B letter", "D restricted"]
    assert titles("?year_from=1957&year_to=1958") == ["a pamphlet", "D restricted"]
    assert titles(f"?creator={person}") == ["a pamphlet"]
    assert titles("?access_level=restricted") == ["D restricted"]
    assert titles("?q=MINUTES") == ["C minutes"]
    assert titles("", "researcher") == ["a pamphlet", "B letter", "C minutes"]
    assert client.get("/api/v1/documents?sort=colour").status_code == 422
    page = client.get("/documents?type=letter&sort=-title").get_data(as_text=True)
    assert "B letter" in page and "a pamphlet" not in page
