"""OAI-PMH 2.0 at /oai: every response validates against the OAI-PMH schema (and each record
against oai_dc or MODS 3.7), lists page with signed resumption tokens, deleted records stay,
every protocol error is the specification's, and nothing restricted is harvested."""

from __future__ import annotations

import copy
import functools
import re

import pytest
from lxml import etree

from oralhist.extensions import db
from oralhist.models import Interview, Person
from tests.interop.conftest import ARCHIVIST, DATA, OPEN_WORDS, RESTRICTED_WORDS

NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "mods": "http://www.loc.gov/mods/v3",
}


@functools.cache
def schema():
    import xmlschema

    return xmlschema.XMLSchema(
        [str(DATA / "OAI-PMH.xsd"), str(DATA / "oai_dc.xsd"), str(DATA / "mods-3-7.xsd")]
    )


def oai(client, **args) -> etree._Element:
    """GET /oai with ``args``; the body must be valid OAI-PMH (records included)."""
    response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    body = response.get_data()
    schema().validate(body.decode())
    return etree.fromstring(body)


def error_code(root) -> str | None:
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None


def request_attributes(root) -> dict:
    return dict(root.find("o:request", NS).attrib)


def harvest(client, verb: str, **args) -> tuple[list[etree._Element], list[etree._Element]]:
    """Every item of a list verb, following tokens; (items, resumptionToken elements)."""
    items, tokens = [], []
    root = oai(client, verb=verb, **args)
    while True:
        assert error_code(root) is None, etree.tostring(root)
        container = root.find(f"o:{verb}", NS)
        tag = "o:header" if verb == "ListIdentifiers" else "o:record"
        items.extend(container.findall(tag, NS))
        token = container.find("o:resumptionToken", NS)
        if token is None or not token.text:
            if token is not None:
                tokens.append(token)
            return items, tokens
        tokens.append(token)
        root = oai(client, verb=verb, resumptionToken=token.text)


def identifier(root_or_header) -> str:
    return root_or_header.findtext(".//o:identifier", namespaces=NS)


# The module's world (tests/savepoints.py): the archive is built once, each test rolled back
# to it. The restart test, which commits, is in test_oai_restart.py.
@pytest.fixture
def users(world_users):
    return world_users


@pytest.fixture
def archive(interop_world, clock):
    clock.advance(hours=1)  # where building the archive left its clock
    return copy.deepcopy(interop_world)


@pytest.fixture
def small_pages(app):
    app.config["OAI_PAGE_SIZE"] = 3


def test_identify(app, archive):
    root = oai(app.test_client(), verb="Identify")
    identify = root.find("o:Identify", NS)
    assert identify.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://localhost/oai"
    assert identify.findtext("o:earliestDatestamp", namespaces=NS) == "2031-06-15T12:00:00Z"
    assert request_attributes(root) == {"verb": "Identify"}


def test_metadata_formats_and_sets(app, archive):
    client = app.test_client()
    root = oai(client, verb="ListMetadataFormats")
    prefixes = root.xpath("//o:metadataPrefix/text()", namespaces=NS)
    assert prefixes == ["oai_dc", "mods"]
    root = oai(client, verb="ListSets")
    assert root.xpath("//o:setSpec/text()", namespaces=NS) == ["miners", "weavers"]
    assert root.xpath("//o:setName/text()", namespaces=NS) == ["Miners of the valley", "Weavers"]


def test_list_records_pages_through_every_public_record(app, archive, small_pages):
    client = app.test_client()
    records, tokens = harvest(client, "ListRecords", metadataPrefix="oai_dc")
    ids = [identifier(r) for r in records]
    with app.app_context():
        expected = sorted([*archive.open_ids, archive.ids["restricted"], archive.ids["withdrawn"]])
    assert ids == [f"oai:localhost:interview/{i}" for i in expected]
    assert len(tokens) == 3  # 8 records by 3: two full tokens and the empty last one
    assert {t.get("completeListSize") for t in tokens} == {"8"}
    assert [t.get("cursor") for t in tokens] == ["0", "3", "6"]
    assert tokens[-1].text is None and tokens[0].get("expirationDate")
    draft = f"oai:localhost:interview/{archive.ids['draft']}"
    assert draft not in ids


def test_deleted_record_is_kept_with_its_datestamp(app, archive):
    client = app.test_client()
    wanted = f"oai:localhost:interview/{archive.ids['withdrawn']}"
    root = oai(client, verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    header = root.find(".//o:header", NS)
    assert header.get("status") == "deleted"
    assert header.findtext("o:datestamp", namespaces=NS) == "2031-06-15T13:00:00Z"
    assert header.findtext("o:setSpec", namespaces=NS) == "weavers"
    assert root.find(".//o:metadata", NS) is None
    headers, _ = harvest(client, "ListIdentifiers", metadataPrefix="mods", set="weavers")
    deleted = [h for h in headers if h.get("status") == "deleted"]
    assert [identifier(h) for h in deleted] == [wanted]


def test_republishing_revives_the_record(app, archive, clock):
    from oralhist.services import catalogue

    clock.advance(hours=2)
    with app.test_request_context():
        catalogue.publish(ARCHIVIST, db.session.get(Interview, archive.ids["withdrawn"]))
        db.session.commit()
    wanted = f"oai:localhost:interview/{archive.ids['withdrawn']}"
    root = oai(app.test_client(), verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    assert root.find(".//o:header", NS).get("status") is None
    assert root.findtext(".//dc:title", namespaces=NS) == "Published then withdrawn"
    assert root.findtext(".//o:datestamp", namespaces=NS) == "2031-06-15T15:00:00Z"


def test_oai_dc_record_fields(app, archive):
    wanted = f"oai:localhost:interview/{archive.ids['open']}"
    root = oai(app.test_client(), verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    dc = root.find(".//{http://www.openarchives.org/OAI/2.0/oai_dc/}dc")

    def values(name):
        return [e.text for e in dc.findall(f"dc:{name}", NS)]

    assert values("title") == ["Down the pit"]
    assert values("creator") == ["Ada Pellow"]
    assert values("contributor") == ["Cai Morgan"]
    assert values("date") == ["1957-03"]
    assert values("type") == ["Sound"]
    assert values("subject") == ["mining lamps", "coke ovens"]
    assert values("language") == ["en"]
    assert values("description") == ["Summary of Down the pit."]
    assert f"http://localhost/interviews/{archive.ids['open']}" in values("identifier")
    assert values("relation") == [f"http://localhost/documents/{archive.document_id}"]
    assert "CC BY-NC 4.0" in values("rights")
    assert values("format") == ["PT1S"]


def test_mods_record_fields(app, archive):
    wanted = f"oai:localhost:interview/{archive.ids['open']}"
    root = oai(app.test_client(), verb="GetRecord", identifier=wanted, metadataPrefix="mods")
    mods = root.find(".//mods:mods", NS)
    names = {
        n.findtext("mods:namePart", namespaces=NS): n.xpath(
            "mods:role/mods:roleTerm[@type='code']/text()", namespaces=NS
        )
        for n in mods.findall("mods:name", NS)
    }
    assert names == {"Ada Pellow": ["ive"], "Cai Morgan": ["ivr"]}
    assert mods.findtext("mods:typeOfResource", namespaces=NS) == "sound recording-nonmusical"
    assert mods.xpath("mods:relatedItem[@type='host']//mods:title/text()", namespaces=NS) == [
        "Miners of the valley"
    ]
    assert mods.xpath("mods:subject/mods:topic/text()", namespaces=NS) == [
        "mining lamps",
        "coke ovens",
    ]
    assert mods.findtext("mods:physicalDescription/mods:extent", namespaces=NS) == "PT1S"
    assert mods.findtext("mods:recordInfo/mods:recordIdentifier", namespaces=NS) == wanted


def test_selective_harvest_by_set_and_dates(app, archive, clock):
    client = app.test_client()
    headers, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set="miners")
    assert [identifier(h) for h in headers] == [
        f"oai:localhost:interview/{archive.ids['open']}",
        f"oai:localhost:interview/{archive.ids['restricted']}",
    ]
    # Only the withdrawal happened after 12:00:00 on the 15th.
    headers, _ = harvest(
        client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2031-06-15T12:00:01Z"}
    )
    assert [identifier(h) for h in headers] == [
        f"oai:localhost:interview/{archive.ids['withdrawn']}"
    ]
    headers, _ = harvest(
        client, "ListIdentifiers", metadataPrefix="oai_dc", until="2031-06-15T12:00:00Z"
    )
    assert len(headers) == 7
    headers, _ = harvest(
        client,
        "ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2031-06-15", "until": "2031-06-15"},
    )
    assert len(headers) == 8
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2031-06-16"})
    assert error_code(root) == "noRecordsMatch"
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="nonesuch")
    assert error_code(root) == "noRecordsMatch"


def test_renaming_a_person_redates_the_records_that_show_the_name(app, archive, clock):
    client = app.test_client()
    clock.advance(days=1)
    with app.test_request_context():
        from oralhist.services import catalogue

        cai = db.session.scalar(db.select(Person).where(Person.name == "Cai Morgan"))
        catalogue.save_person(ARCHIVIST, {"name": "Cai Morgan-Jones"}, cai)
        db.session.commit()
    headers, _ = harvest(
        client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2031-06-16T00:00:00Z"}
    )
    # Every interview names Cai as interviewer; the withdrawn one stays deleted, undated.
    assert len(headers) == 7
    assert {h.findtext("o:datestamp", namespaces=NS) for h in headers} == {"2031-06-16T13:00:00Z"}
    wanted = f"oai:localhost:interview/{archive.ids['open']}"
    root = oai(client, verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    assert root.xpath("//dc:contributor/text()", namespaces=NS) == ["Cai Morgan-Jones"]


def test_an_edit_of_a_draft_never_reaches_harvesters(app, archive, clock):
    from oralhist.services import catalogue

    clock.advance(days=1)
    with app.test_request_context():
        draft = db.session.get(Interview, archive.ids["draft"])
        catalogue.save_interview(ARCHIVIST, {"title": "Still a draft"}, draft)
        withdrawn = db.session.get(Interview, archive.ids["withdrawn"])
        catalogue.save_interview(ARCHIVIST, {"title": "Withdrawn, renamed"}, withdrawn)
        db.session.commit()
    root = oai(
        app.test_client(),
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2031-06-16T00:00:00Z"},
    )
    assert error_code(root) == "noRecordsMatch"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": ["Identify", "Identify"]}, "badVerb"),
        ({"verb": "Identify", "set": "miners"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "mods"]}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2031-13-45"}, "badArgument"),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2031-06-15T12:00Z"},
            "badArgument",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2031-06-15",
                "until": "2031-06-16T00:00:00Z",
            },
            "badArgument",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2031-06-16",
                "until": "2031-06-15",
            },
            "badArgument",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
            "badArgument",
        ),
        ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
        ({"verb": "ListSets", "resumptionToken": "not-a-token"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        (
            {
                "verb": "GetRecord",
                "metadataPrefix": "marc21",
                "identifier": "oai:localhost:interview/1",
            },
            "cannotDisseminateFormat",
        ),
        (
            {
                "verb": "GetRecord",
                "metadataPrefix": "oai_dc",
                "identifier": "oai:elsewhere:interview/1",
            },
            "idDoesNotExist",
        ),
        (
            {
                "verb": "GetRecord",
                "metadataPrefix": "oai_dc",
                "identifier": "oai:localhost:interview/99999",
            },
            "idDoesNotExist",
        ),
        (
            {"verb": "ListMetadataFormats", "identifier": "oai:localhost:interview/99999"},
            "idDoesNotExist",
        ),
    ],
)
def test_protocol_errors(app, archive, args, code):
    root = oai(app.test_client(), **args)
    assert error_code(root) == code
    assert root.find("o:error", NS).text  # a sentence for people
    if code in ("badVerb", "badArgument"):
        assert request_attributes(root) == {}  # section 3.2: the base URL only
    else:
        assert request_attributes(root) == {k: v for k, v in args.items() if isinstance(v, str)}
    assert root.find("o:request", NS).text == "http://localhost/oai"


def test_a_draft_is_unknown(app, archive):
    wanted = f"oai:localhost:interview/{archive.ids['draft']}"
    root = oai(app.test_client(), verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    assert error_code(root) == "idDoesNotExist"


def test_tokens_expire_and_refuse_tampering(app, archive, small_pages, clock):
    client = app.test_client()
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    token = root.find(".//o:resumptionToken", NS)
    assert token.get("expirationDate") == "2031-06-16T13:00:00Z"
    tampered = token.text[:-2] + ("A" if token.text[-2] != "A" else "B") + token.text[-1]
    root = oai(client, verb="ListRecords", resumptionToken=tampered)
    assert error_code(root) == "badResumptionToken"
    root = oai(client, verb="ListIdentifiers", resumptionToken=token.text)
    assert error_code(root) == "badResumptionToken"  # a token of another verb
    clock.advance(hours=23)
    assert error_code(oai(client, verb="ListRecords", resumptionToken=token.text)) is None
    clock.advance(hours=2)
    root = oai(client, verb="ListRecords", resumptionToken=token.text)
    assert error_code(root) == "badResumptionToken"
    assert "expired" in root.find("o:error", NS).text


def test_post_requests_are_answered_like_get(app, archive):
    response = app.test_client().post("/oai", data={"verb": "Identify"})
    assert response.status_code == 200
    schema().validate(response.get_data(as_text=True))
    assert b"<Identify>" in response.get_data()


@pytest.mark.parametrize("prefix", ["oai_dc", "mods"])
def test_restricted_words_never_harvested(app, archive, prefix):
    client = app.test_client()
    records, _ = harvest(client, "ListRecords", metadataPrefix=prefix)
    text = b"".join(etree.tostring(r) for r in records).decode()
    for word in RESTRICTED_WORDS:
        assert word not in text
    assert "Quarry ledger" not in text  # a restricted document linked from it
    # The restricted interview's catalogue record is there (it is public).
    assert "Behind the quarry" in text and "Bryn Tolley" in text
    # The control: the open interview's index keywords are harvested.
    assert "mining lamps" in text
    assert not re.search("|".join(OPEN_WORDS), text)  # transcript text is never harvested
