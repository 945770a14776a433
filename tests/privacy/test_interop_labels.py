"""The outside world's copies follow anonymisation: OAI-PMH (both formats), IIIF and
JSON-LD name the narrator by the label, and anonymising re-dates the OAI record (and the
sitemap's lastmod) so harvesters fetch the changed record."""

from __future__ import annotations

import json

from .conftest import NAME, leaks


def test_harvested_and_linked_data_name_the_label(app, browser, private):
    client = app.test_client()
    for prefix in ("oai_dc", "mods"):
        xml = client.get(f"/oai?verb=ListRecords&metadataPrefix={prefix}").get_data(as_text=True)
        assert "Narrator A" in xml and "Ada Pellow" in xml and not leaks(xml), prefix
    manifest = client.get(f"/iiif/interviews/{private.interview}/manifest").json
    text = json.dumps(manifest)
    assert "Narrator A" in text and not leaks(text)
    assert "Down the pit with Narrator A" in json.dumps(manifest["label"])
    vtt = client.get(f"/iiif/interviews/{private.interview}/transcript/1.vtt")
    assert vtt.status_code == 200
    assert "<v Narrator A>" in vtt.get_data(as_text=True)
    assert "[redacted 0:00:00-0:00:00]" in vtt.get_data(as_text=True)
    page = client.get(f"/interviews/{private.interview}").get_data(as_text=True)
    jsonld = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "Narrator A" in jsonld and not leaks(jsonld)
    archivist = browser("archivist").get(f"/iiif/interviews/{private.interview}/manifest")
    assert NAME in archivist.get_data(as_text=True)


def test_anonymising_redates_the_record(app, browser, private, clock):
    client = app.test_client()
    clock.advance(hours=2)
    since = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    url = f"/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&from={since}"
    assert "noRecordsMatch" in client.get(url).get_data(as_text=True)
    changed = browser("archivist").patch(
        f"/api/v1/interviews/{private.interview}/agreements/{private.participant}",
        json={"anonymise": False},
    )
    assert changed.status_code == 200
    listed = client.get(url).get_data(as_text=True)
    assert "noRecordsMatch" not in listed and "<identifier>" in listed
    assert since[:13] in client.get("/sitemap.xml").get_data(as_text=True)
