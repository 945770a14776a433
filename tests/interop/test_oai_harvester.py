"""A real OAI-PMH harvester (oaipmh-scythe, over HTTP) harvests the archive: every record
across several resumption pages, a set, a date window and a deleted record."""

from __future__ import annotations

import pytest

pytest.importorskip("oaipmh_scythe")

from oaipmh_scythe import Scythe


@pytest.fixture
def scythe(app, archive, live_url):
    app.config["OAI_PAGE_SIZE"] = 2
    with Scythe(f"{live_url}/oai") as client:
        yield client


def test_the_harvester_reads_the_repository(scythe, archive):
    identify = scythe.identify()
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    formats = [f.metadataPrefix for f in scythe.list_metadata_formats()]
    assert formats == ["oai_dc", "mods"]
    assert [s.setSpec for s in scythe.list_sets()] == ["miners", "weavers"]


def test_the_harvester_gets_every_record_over_several_pages(scythe, archive):
    records = list(scythe.list_records(metadata_prefix="oai_dc"))
    keys = [int(r.header.identifier.rsplit("/", 1)[1]) for r in records]
    expected = sorted([*archive.open_ids, archive.ids["restricted"], archive.ids["withdrawn"]])
    assert keys == expected  # 8 records over 4 pages of 2
    deleted = [r for r in records if r.deleted]
    assert [r.header.identifier.rsplit("/", 1)[1] for r in deleted] == [
        str(archive.ids["withdrawn"])
    ]
    by_key = dict(zip(keys, records, strict=True))
    pit = by_key[archive.ids["open"]].metadata
    assert pit["title"] == ["Down the pit"]
    assert pit["creator"] == ["Ada Pellow"]
    assert pit["type"] == ["Sound"]
    live = list(scythe.list_records(metadata_prefix="oai_dc", ignore_deleted=True))
    assert len(live) == 7


def test_the_harvester_takes_a_set_and_a_date_window(scythe, archive):
    weavers = list(scythe.list_identifiers(metadata_prefix="mods", set_="weavers"))
    assert len(weavers) == 6  # five looms and the withdrawn one
    assert all(h.setSpecs == ["weavers"] for h in weavers)
    window = list(
        scythe.list_identifiers(
            metadata_prefix="oai_dc", from_="2031-06-15T12:30:00Z", until="2031-06-15T13:30:00Z"
        )
    )
    assert [(h.identifier.rsplit("/", 1)[1], h.deleted) for h in window] == [
        (str(archive.ids["withdrawn"]), True)
    ]
    record = scythe.get_record(identifier=window[0].identifier, metadata_prefix="oai_dc")
    assert record.deleted
