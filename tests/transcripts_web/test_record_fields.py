"""The OHMS record's fields as catalogue fields (issue 13 item 3): subjects, keywords,
funding, usage, media URL and language offered in the import preview, stored on the
interview, editable on the form and through the API, shown on the page, carried in the
OHMS export, OAI-PMH (Dublin Core and MODS), JSON-LD and the search index."""

from __future__ import annotations

import io
import json
import re

import pytest
from lxml import etree

from oralhist.errors import ValidationError
from oralhist.services.fields import Fields
from oralhist.services.transcripts import language_tag

from .conftest import make_interview  # noqa: F401
from .test_import import TOKEN_RE, preview

OHMS = (
    '<?xml version="1.0"?><ROOT xmlns="https://www.weareavp.com/nunncenter/ohms"><record>'
    "<title>The works</title><description>About the works.</description>"
    "<rights>In copyright</rights><usage>Cite as: The works.</usage>"
    "<subject>Bicycle industry</subject><subject>Apprentices; Trade unions</subject>"
    "<keyword>Raleigh</keyword><keyword>night shift</keyword>"
    "<funding>A heritage grant.</funding><language>Spanish</language>"
    "<media_url>https://media.example.org/works.mp3</media_url>"
    "<vtt_transcript><![CDATA[WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Ann>The works.\n]]>"
    "</vtt_transcript></record></ROOT>"
)
OFFERED = ["summary", "rights", "usage", "funding", "subjects", "keywords", "media_url", "language"]


def confirm(client, interview_id: int, html: str, chosen: list[str]):
    token = TOKEN_RE.search(html).group(1)
    return client.post(
        f"/interviews/{interview_id}/transcript/import/confirm",
        data={"token": token, "prefill": chosen},
    )


@pytest.fixture
def catalogued(app, browser, make_interview):  # noqa: F811
    """A published open interview whose record was filled from the OHMS file's fields."""
    interview_id = make_interview()
    archivist = browser("archivist")
    html = preview(archivist, interview_id, OHMS.encode(), "works.xml").get_data(as_text=True)
    for key in OFFERED:
        assert f'name="prefill" value="{key}"' in html, key
    assert confirm(archivist, interview_id, html, OFFERED).status_code == 302
    return interview_id


def test_preview_offers_each_record_field_and_confirm_stores_them(app, browser, catalogued):
    record = browser(None).get(f"/api/v1/interviews/{catalogued}").get_json()
    assert record["subjects"] == ["Bicycle industry", "Apprentices", "Trade unions"]
    assert record["keywords"] == ["Raleigh", "night shift"]
    assert record["funding"] == "A heritage grant."
    assert record["usage"] == "Cite as: The works."
    assert record["rights_statement"] == "In copyright"
    assert record["media_url"] == "https://media.example.org/works.mp3"
    assert record["language"] == "es"
    assert record["summary"] == "About the works."


def test_a_field_the_record_already_has_is_not_offered(app, browser, make_interview):  # noqa: F811
    interview_id = make_interview()
    archivist = browser("archivist")
    archivist.patch(
        f"/api/v1/interviews/{interview_id}",
        json={"subjects": ["Cycling"], "funding": "Ours.", "language": "es"},
    )
    html = preview(archivist, interview_id, OHMS.encode(), "w.xml").get_data(as_text=True)
    for kept in ("subjects", "funding", "language"):
        assert f'value="{kept}"' not in html
    assert 'value="keywords"' in html


def test_page_shows_the_fields_and_subjects_link_to_a_search(app, browser, catalogued):
    page = browser(None).get(f"/interviews/{catalogued}").get_data(as_text=True)
    assert "<dt>Subjects</dt>" in page and "Bicycle industry" in page
    assert 'href="/search?q=%22Trade+unions%22"' in page
    assert "<dt>Keywords</dt>" in page and "night shift" in page
    assert "<dt>Funding</dt><dd>A heritage grant.</dd>" in page
    assert "<dt>Usage</dt><dd>Cite as: The works.</dd>" in page
    assert 'href="https://media.example.org/works.mp3"' in page


def test_search_finds_the_interview_by_a_subject_or_keyword(app, browser, catalogued):
    for q in ("%22bicycle+industry%22", "raleigh"):
        results = browser(None).get(f"/api/v1/search?q={q}").get_json()["results"]
        assert catalogued in {r["interview_id"] for r in results}, q


def test_ohms_export_writes_the_record_fields(app, browser, catalogued):
    response = browser(None).get(f"/api/v1/interviews/{catalogued}/transcript?format=ohms")
    assert response.status_code == 200, response.data[:300]
    xml = response.data
    root = etree.fromstring(xml)
    ns = {"o": "https://www.weareavp.com/nunncenter/ohms"}
    record = root.find("o:record", ns)
    assert [e.text for e in record.findall("o:subject", ns)] == [
        "Bicycle industry",
        "Apprentices",
        "Trade unions",
    ]
    assert [e.text for e in record.findall("o:keyword", ns)] == ["Raleigh", "night shift"]
    assert record.findtext("o:funding", namespaces=ns) == "A heritage grant."
    assert record.findtext("o:usage", namespaces=ns) == "Cite as: The works."
    assert record.findtext("o:media_url", namespaces=ns) == "https://media.example.org/works.mp3"


def test_oai_dc_mods_and_json_ld_carry_subjects_keywords_and_funding(app, browser, catalogued):
    identifier = f"oai:localhost:interview/{catalogued}"
    client = browser(None)
    dc = client.get(f"/oai?verb=GetRecord&identifier={identifier}&metadataPrefix=oai_dc").data
    subjects = etree.fromstring(dc).findall(".//{http://purl.org/dc/elements/1.1/}subject")
    assert {"Bicycle industry", "Trade unions", "Raleigh"} <= {s.text for s in subjects}
    mods = etree.fromstring(
        client.get(f"/oai?verb=GetRecord&identifier={identifier}&metadataPrefix=mods").data
    )
    m = "{http://www.loc.gov/mods/v3}"
    topics = {t.text for t in mods.iter(f"{m}topic")}
    assert {"Apprentices", "night shift"} <= topics
    assert [n.text for n in mods.iter(f"{m}note") if n.get("type") == "funding"] == [
        "A heritage grant."
    ]
    page = client.get(f"/interviews/{catalogued}").get_data(as_text=True)
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    keywords = json.loads(found.group(1))["keywords"]
    assert "Raleigh" in keywords and "Bicycle industry" in keywords


def test_the_edit_form_shows_and_saves_the_fields(app, browser, catalogued):
    archivist = browser("archivist")
    form = archivist.get(f"/interviews/{catalogued}/edit").get_data(as_text=True)
    assert 'value="Bicycle industry; Apprentices; Trade unions"' in form
    assert ">A heritage grant.</textarea>" in form
    saved = archivist.post(
        f"/interviews/{catalogued}/edit",
        data={"title": "The works", "subjects": "Cycling ;  Cycling; Strikes", "keywords": ""},
    )
    assert saved.status_code == 302
    record = archivist.get(f"/api/v1/interviews/{catalogued}").get_json()
    assert record["subjects"] == ["Cycling", "Strikes"] and record["keywords"] == []
    bad = archivist.post(
        f"/interviews/{catalogued}/edit", data={"title": "The works", "media_url": "ftp://x"}
    )
    assert bad.status_code == 422
    assert "Media URL must be an http:// or https:// address" in bad.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"subjects": ";".join(f"t{n}" for n in range(201))}, "subjects", "has 201 terms"),
        ({"keywords": [1, 2]}, "keywords", "must be a list of texts"),
        ({"keywords": ["x" * 256]}, "keywords", "has a term of 256 characters"),
        ({"media_url": "javascript:alert(1)"}, "media_url", "must be an http:// or https://"),
        ({"funding": "f" * 5001}, "funding", "is too long"),
    ],
)
def test_bad_values_get_a_422_naming_the_field(app, browser, make_interview, body, field, problem):  # noqa: F811
    interview_id = make_interview(state="draft")
    response = browser("archivist").patch(f"/api/v1/interviews/{interview_id}", json=body)
    assert response.status_code == 422
    assert problem in response.get_json()["error"]["details"]["fields"][field]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        ("researcher", 404),
        ("contributor", 200),
        ("contributor2", 404),
        ("archivist", 200),
    ],
)
def test_who_may_set_the_fields(app, browser, make_interview, role, status):  # noqa: F811
    # others are told the draft is not found (drafts are hidden from them)
    interview_id = make_interview(state="draft")  # the contributor's own draft
    response = browser(role).patch(
        f"/api/v1/interviews/{interview_id}", json={"subjects": ["Cycling"], "funding": "A."}
    )
    assert response.status_code == status
    record = browser("archivist").get(f"/api/v1/interviews/{interview_id}").get_json()
    assert record["subjects"] == (["Cycling"] if status == 200 else [])


def test_terms_reader():
    fields = Fields({"a": " Cycling;cycling ;\nCycling ;  ", "b": ["x", " x ", "y  z"]})
    fields.terms("a")
    fields.terms("b")
    assert fields.check() == {"a": ["Cycling", "cycling"], "b": ["x", "y z"]}
    bad = Fields({"a": {"x": 1}})
    bad.terms("a")
    with pytest.raises(ValidationError):
        bad.check()


@pytest.mark.parametrize(
    ("value", "tag"),
    [("English", "en"), ("eng", "en"), ("en-US", "en-US"), ("Spanish; English", "es"), ("", None)],
)
def test_language_tag_reads_names_and_codes(value, tag):
    assert language_tag(value) == tag


def test_ohms_export_names_this_archives_audio_for_the_ohms_viewer(app, browser, with_transcript):
    from tests.recordings.conftest import wav_bytes

    interview_id = with_transcript()
    archivist = browser("archivist")
    made = archivist.post(
        f"/api/v1/interviews/{interview_id}/recordings",
        data={"file": (io.BytesIO(wav_bytes(2.0)), "tape.wav")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_json()
    xml = archivist.get(f"/api/v1/interviews/{interview_id}/transcript?format=ohms").data
    record = etree.fromstring(xml).find("{https://www.weareavp.com/nunncenter/ohms}record")
    ns = {"o": "https://www.weareavp.com/nunncenter/ohms"}
    # the viewer reads the player's format from the address's last three letters
    assert record.findtext("o:media_url", namespaces=ns) == (
        f"http://localhost/recordings/{made.get_json()['id']}/audio#.wav"
    )
    assert record.findtext("o:mediafile/o:host", namespaces=ns) == "Other"
    assert record.findtext("o:duration", namespaces=ns) == "00:00:02"
