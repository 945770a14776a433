"""The API and the archive export write each record's shared fields from one serialiser
(``services/serialise.py``), so a field cannot drift between them."""

from __future__ import annotations

import json

from .conftest import Browser
from .test_bulk import enrich_sample, load_sample, ok

SHARED_INTERVIEW = (
    "accession",
    "title",
    "summary",
    "date_recorded",
    "place",
    "language",
    "rights_statement",
    "access_level",
    "embargo_until",
    "status",
)
SHARED_DOCUMENT = ("title", "doc_type", "date", "publisher", "description", "citation")


def test_api_and_export_agree_on_every_shared_field(app, users, tmp_path):
    load_sample(app)
    enrich_sample(app)
    ok(app, "export", tmp_path / "out", "--no-media")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    api = Browser(app, "archivist@example.org")

    interviews = api.get("/api/v1/interviews?per_page=100").get_json()["items"]
    by_accession = {i["accession"]: i for i in interviews}
    assert len(manifest["interviews"]) == len(interviews) >= 3
    for entry in manifest["interviews"]:
        served = by_accession[entry["accession"]]
        assert {k: entry[k] for k in SHARED_INTERVIEW} == {k: served[k] for k in SHARED_INTERVIEW}
        for exported, recording in zip(entry["recordings"], served["recordings"], strict=True):
            assert {k: v for k, v in exported.items() if k != "file"} == {
                k: recording[k] for k in exported if k != "file"
            }
        if "transcript" in entry:
            versions = api.get(f"/api/v1/interviews/{served['id']}/transcripts").get_json()
            current = next(v for v in versions["items"] if v["is_current"])
            shared = ("version", "created_at", "language", "source_filename")
            assert {k: entry["transcript"][k] for k in shared} == {k: current[k] for k in shared}

    people = {p["name"]: p for p in api.get("/api/v1/people?per_page=100").get_json()["items"]}
    assert manifest["people"]
    for person in manifest["people"]:
        assert {k: v for k, v in person.items() if k != "key"} == {
            k: v for k, v in people[person["name"]].items() if k != "id"
        }

    collections = api.get("/api/v1/collections").get_json()["items"]
    assert manifest["collections"] == [
        {k: v for k, v in c.items() if k != "id"}
        for c in sorted(collections, key=lambda c: c["slug"])
    ]

    documents = api.get("/api/v1/documents?per_page=100").get_json()["items"]
    assert len(manifest["documents"]) == len(documents) >= 1
    for entry in manifest["documents"]:
        served = next(d for d in documents if f"document-{d['id']}" == entry["key"])
        assert {k: entry[k] for k in SHARED_DOCUMENT} == {k: served[k] for k in SHARED_DOCUMENT}
        assert (entry["external_url"] or None) == served["external_url"]
