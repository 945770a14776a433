"""Marker-word leak scan over every output that names or quotes an interview: lists, the
person's pages, OAI-PMH (both formats), IIIF (manifests, collections, WebVTT), JSON-LD,
the sitemap, the editor and its diffs, versions, citations, speaker merges, notifications.
For everyone but archivists, the anonymised narrator's real name and the redacted word must
appear in none of them; archivists see both (the control that the scan can see them)."""

from __future__ import annotations

from .conftest import NAME, SURNAME, WORD, leaks_by_role


def urls(p) -> list[str]:
    iid = p.interview
    return [
        "/",
        "/interviews",
        "/interviews?q=pit",
        "/collections",
        f"/collections/{p.collection}",
        "/people",
        f"/people/{p.person}",
        f"/interviews/{iid}",
        f"/interviews/{iid}/speakers",
        f"/interviews/{iid}/citation",
        f"/interviews/{iid}/transcript/edit",
        f"/interviews/{iid}/transcript/versions",
        f"/interviews/{iid}/transcript/download?format=ohms",
        f"/api/v1/interviews/{iid}/transcript?format=ohms",
        f"/interviews/{iid}/transcript/versions/1/diff",
        f"/interviews/{iid}/transcript/versions/2/diff",
        f"/interviews/{iid}/transcript/versions/1/preview",
        f"/interviews/{iid}/speaker-merges",
        f"/interviews/{iid}/request-access",
        f"/documents/{p.document}",
        "/review",
        "/access/mine",
        "/access/queue",
        "/access/audit",
        "/deposit",
        "/search?q=pit",
        "/api/v1/interviews",
        "/api/v1/collections",
        f"/api/v1/collections/{p.collection}",
        "/api/v1/people",
        f"/api/v1/people?q={SURNAME[:4]}",
        f"/api/v1/people?q={NAME.split()[0]}",
        f"/api/v1/people/{p.person}",
        f"/api/v1/interviews/{iid}",
        f"/api/v1/interviews/{iid}/citation",
        f"/api/v1/interviews/{iid}/transcripts",
        f"/api/v1/interviews/{iid}/transcripts/1/diff",
        f"/api/v1/interviews/{iid}/transcripts/2/diff",
        f"/api/v1/interviews/{iid}/transcripts/1/preview",
        f"/api/v1/interviews/{iid}/transcripts/2/preview",
        f"/api/v1/interviews/{iid}/speaker-merges",
        f"/api/v1/interviews/{iid}/mentions",
        f"/api/v1/documents/{p.document}",
        f"/api/v1/documents/{p.document}/suggestions",
        f"/documents/{p.document}/suggestions",
        f"/api/v1/interviews/{iid}/search?q=lamplight",
        f"/api/v1/interviews/{iid}/speakers",
        f"/recordings/{p.recording}",
        f"/api/v1/recordings/{p.recording}",
        "/api/v1/access-requests",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
        "/oai?verb=ListRecords&metadataPrefix=mods",
        "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
        "/oai?verb=ListSets",
        f"/iiif/interviews/{iid}/manifest",
        f"/iiif/interviews/{iid}/transcript/1.vtt",
        f"/iiif/collections/{p.collection}",
        "/iiif/collections",
        "/sitemap.xml",
    ]


def test_no_output_leaks_to_anyone_but_archivists(app, browser, private):
    found = leaks_by_role(browser, urls(private))
    assert found == [], "\n".join(map(str, found))


def test_archivists_see_the_truth(app, browser, private):
    archivist = browser("archivist").client
    page = archivist.get(f"/interviews/{private.interview}").get_data(as_text=True)
    assert NAME in page and WORD in page
    listed = archivist.get("/interviews").get_data(as_text=True)
    assert NAME in listed
