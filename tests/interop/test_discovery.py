"""Discoverability: the sitemap of public pages, schema.org JSON-LD on public interview pages
(the public record, whoever looks), and the Link header to the IIIF manifest."""

from __future__ import annotations

import json
import re

from lxml import etree

from tests.interop.conftest import RESTRICTED_WORDS

SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def jsonld(page: str) -> dict | None:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else None


def test_sitemap_lists_public_interviews_and_documents(app, archive):
    response = app.test_client().get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    locs = root.xpath("//s:loc/text()", namespaces=SITEMAP)
    interviews = sorted(
        int(u.rsplit("/", 1)[1]) for u in locs if u.startswith("http://localhost/interviews/")
    )
    assert interviews == sorted([*archive.open_ids, archive.ids["restricted"]])
    assert f"http://localhost/documents/{archive.document_id}" in locs
    assert not any("Quarry" in u for u in locs)
    documents = [u for u in locs if "/documents/" in u]
    assert documents == [f"http://localhost/documents/{archive.document_id}"]  # not restricted
    assert "http://localhost/collections/miners" in locs
    lastmods = root.xpath(
        "//s:url[s:loc[contains(., '/interviews/')]]/s:lastmod/text()", namespaces=SITEMAP
    )
    assert set(lastmods) == {"2031-06-15T12:00:00Z"}


def test_open_interview_page_has_jsonld_and_manifest_link(app, archive):
    response = app.test_client().get(f"/interviews/{archive.ids['open']}")
    assert response.status_code == 200
    manifest = f"http://localhost/iiif/interviews/{archive.ids['open']}/manifest"
    profile = r"application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\""
    assert response.headers["Link"] == f'<{manifest}>; rel="alternate"; type="{profile}"'
    data = jsonld(response.get_data(as_text=True))
    assert data["@type"] == "AudioObject"
    assert data["name"] == "Down the pit"
    assert data["duration"] == "PT1S"
    assert data["creator"] == [{"@type": "Person", "name": "Ada Pellow"}]
    assert data["contributor"] == [{"@type": "Person", "name": "Cai Morgan"}]
    assert data["dateCreated"] == "1957-03"
    assert data["license"] == "http://creativecommons.org/licenses/by-nc/4.0/"
    assert "Ada Pellow: We worked by Lanternlight in the pit." in data["transcript"]
    assert data["contentUrl"].endswith(f"/recordings/{archive.recordings['open']}/audio")
    assert data["subjectOf"]["url"] == manifest


def test_restricted_page_metadata_is_the_public_record_even_for_an_archivist(app, archive, browser):
    page = browser("archivist").get(f"/interviews/{archive.ids['restricted']}")
    text = page.get_data(as_text=True)
    assert "Quarrywhisper" in text  # the archivist reads the transcript on the page...
    data = jsonld(text)
    blob = json.dumps(data)
    for word in RESTRICTED_WORDS:
        assert word not in blob  # ...but the page's metadata says only what the public may
    assert "transcript" not in data and "contentUrl" not in data
    assert data["name"] == "Behind the quarry"


def test_a_draft_page_has_no_public_metadata(app, archive, browser):
    page = browser("archivist").get(f"/interviews/{archive.ids['draft']}")
    assert page.status_code == 200
    assert jsonld(page.get_data(as_text=True)) is None
