"""IIIF Presentation 3 manifests and collections: valid for iiif-prezi3's models, audio and
transcript for those who may have them, the catalogue record only for the others, CORS."""

from __future__ import annotations

import io
import json

import pytest

from oralhist.extensions import db
from oralhist.interop import iiif
from oralhist.models import Interview
from tests.interop.conftest import ARCHIVIST, RESTRICTED_WORDS
from tests.recordings.conftest import wav_bytes

prezi3 = pytest.importorskip("iiif_prezi3")


def get_manifest(client, interview_id: int) -> dict:
    response = client.get(f"/iiif/interviews/{interview_id}/manifest")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.mimetype == "application/ld+json"
    prezi3.Manifest.model_validate_json(response.get_data(as_text=True))
    return response.get_json(force=True)


def test_open_interview_manifest(app, archive):
    client = app.test_client()
    data = get_manifest(client, archive.ids["open"])
    base = f"http://localhost/iiif/interviews/{archive.ids['open']}/manifest"
    assert data["id"] == base
    assert data["label"] == {"en": ["Down the pit"]}
    assert data["homepage"][0]["id"] == f"http://localhost/interviews/{archive.ids['open']}"
    assert data["rights"] == "http://creativecommons.org/licenses/by-nc/4.0/"
    assert "open to everyone" in data["requiredStatement"]["value"]["en"][0]
    assert {"label": {"en": ["Interviewee"]}, "value": {"none": ["Ada Pellow"]}} in data["metadata"]
    (canvas,) = data["items"]
    assert canvas["duration"] == 1.0
    painting = canvas["items"][0]["items"][0]
    assert painting["motivation"] == "painting"
    assert painting["body"]["type"] == "Sound"
    audio = client.get(painting["body"]["id"].removeprefix("http://localhost"))
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    audio.close()
    pages = {page["id"].rsplit("/", 1)[1]: page for page in canvas["annotations"]}
    vtt_annotation = pages["transcript"]["items"][0]
    assert vtt_annotation["motivation"] == "supplementing"
    assert vtt_annotation["body"]["format"] == "text/vtt"
    vtt = client.get(vtt_annotation["body"]["id"].removeprefix("http://localhost"))
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    assert vtt.headers["Access-Control-Allow-Origin"] == "*"
    text = vtt.get_data(as_text=True)
    assert text.startswith("WEBVTT")
    assert "<v Ada Pellow>We worked by Lanternlight" in text
    link = pages["passages"]["items"][0]
    assert link["motivation"] == "linking"
    assert link["body"]["id"] == f"http://localhost/documents/{archive.document_id}"
    assert link["summary"] == {"en": ["About the lamps."]}
    assert link["target"] == f"{base}/canvas/1#t=0,0.4"
    (index,) = data["structures"]
    ranges = index["items"]
    assert [r["label"]["en"][0] for r in ranges] == ["Lamps", "Ovens"]
    assert ranges[0]["summary"] == {"en": ["Working by Lanternlight."]}
    assert [r["items"][0]["id"] for r in ranges] == [
        f"{base}/canvas/1#t=0,0.4",
        f"{base}/canvas/1#t=0.4,1",
    ]
    see_also = {s["profile"]: s["id"] for s in data["seeAlso"]}
    oai = client.get(see_also["http://www.loc.gov/mods/v3"].removeprefix("http://localhost"))
    assert b"<mods:title>Down the pit</mods:title>" in oai.data
    assert data["partOf"][0]["id"] == "http://localhost/iiif/collections/miners"


def test_restricted_interview_is_only_its_catalogue_record(app, archive, browser):
    anonymous = get_manifest(app.test_client(), archive.ids["restricted"])
    (canvas,) = anonymous["items"]
    assert canvas["duration"] == 0.8
    assert "items" not in canvas and "annotations" not in canvas
    assert "structures" not in anonymous
    text = json.dumps(anonymous)
    for word in RESTRICTED_WORDS:
        assert word not in text
    assert "available on request" in anonymous["requiredStatement"]["value"]["en"][0]
    vtt = app.test_client().get(f"/iiif/interviews/{archive.ids['restricted']}/transcript/1.vtt")
    assert vtt.status_code == 401
    assert vtt.headers["Access-Control-Allow-Origin"] == "*"
    archivist = browser("archivist")
    full = get_manifest(archivist.client, archive.ids["restricted"])
    assert full["items"][0]["items"][0]["items"][0]["motivation"] == "painting"
    assert full["structures"][0]["items"][0]["label"] == {"en": ["Flintsecret"]}
    vtt = archivist.get(f"/iiif/interviews/{archive.ids['restricted']}/transcript/1.vtt")
    assert "Quarrywhisper" in vtt.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "draft", "restricted_vtt"),
    [
        (None, 404, 401),
        ("researcher", 404, 403),
        ("contributor", 404, 403),
        ("contributor2", 404, 403),
        ("archivist", 200, 200),
    ],
)
def test_manifest_routes_per_role(app, archive, browser, role, draft, restricted_vtt):
    client = browser(role)
    assert client.get(f"/iiif/interviews/{archive.ids['draft']}/manifest").status_code == draft
    assert client.get(f"/iiif/interviews/{archive.ids['open']}/manifest").status_code == 200
    assert client.get(f"/iiif/interviews/{archive.ids['open']}/transcript/1.vtt").status_code == 200
    restricted = f"/iiif/interviews/{archive.ids['restricted']}/transcript/1.vtt"
    assert client.get(restricted).status_code == restricted_vtt
    missing_part = f"/iiif/interviews/{archive.ids['open']}/transcript/9.vtt"
    assert client.get(missing_part).status_code == 404
    assert client.get("/iiif/collections/miners").status_code == 200
    assert client.get("/iiif/collections/nonesuch").status_code == 404


def test_preflight_is_answered_with_cors(app, archive):
    response = app.test_client().options(
        f"/iiif/interviews/{archive.ids['open']}/manifest",
        headers={"Origin": "https://viewer.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_collections(app, archive):
    client = app.test_client()
    response = client.get("/iiif/collections/weavers")
    prezi3.Collection.model_validate_json(response.get_data(as_text=True))
    data = response.get_json(force=True)
    labels = [item["label"]["en"][0] for item in data["items"]]
    assert labels == [f"Loom story {n}" for n in range(5)]  # no draft, nothing withdrawn
    top = client.get("/iiif/collections")
    prezi3.Collection.model_validate_json(top.get_data(as_text=True))
    assert [c["id"] for c in top.get_json(force=True)["items"]] == [
        "http://localhost/iiif/collections/miners",
        "http://localhost/iiif/collections/weavers",
    ]


def test_interview_api_names_its_manifest(app, archive):
    data = app.test_client().get(f"/api/v1/interviews/{archive.ids['open']}").json
    assert data["iiif_manifest"] == (
        f"http://localhost/iiif/interviews/{archive.ids['open']}/manifest"
    )


def test_a_second_part_gets_its_canvas_and_its_stretch_of_transcript(app, archive):
    from oralhist.services import recordings

    with app.test_request_context():
        pit = db.session.get(Interview, archive.ids["open"])
        recordings.add_recording(ARCHIVIST, pit, io.BytesIO(wav_bytes(2.0, freq=900)), "b.wav")
        db.session.commit()
    client = app.test_client()
    data = get_manifest(client, archive.ids["open"])
    assert [c["duration"] for c in data["items"]] == [1.0, 2.0]
    last = data["structures"][0]["items"][-1]
    base = data["id"]
    # "Ovens" runs from 0.4 s to the end of the interview: across both parts.
    assert [i["id"] for i in last["items"]] == [
        f"{base}/canvas/1#t=0.4,1",
        f"{base}/canvas/2#t=0,2",
    ]
    part2 = client.get(f"/iiif/interviews/{archive.ids['open']}/transcript/2.vtt")
    assert part2.status_code == 200
    assert "Lanternlight" not in part2.get_data(as_text=True)


@pytest.mark.parametrize(
    ("statement", "uri"),
    [
        ("CC BY-NC 4.0", "http://creativecommons.org/licenses/by-nc/4.0/"),
        ("Licensed cc-by-sa-3.0 by the family", "http://creativecommons.org/licenses/by-sa/3.0/"),
        (
            "See https://rightsstatements.org/vocab/InC/1.0/.",
            "http://rightsstatements.org/vocab/InC/1.0/",
        ),
        ("Dedicated under CC0.", "http://creativecommons.org/publicdomain/zero/1.0/"),
        ("All rights reserved by the archive.", None),
        ("", None),
    ],
)
def test_rights_uri(statement, uri):
    assert iiif.rights_uri(statement) == uri


def test_spans_cut_a_range_across_parts():
    parts = iiif.timeline([1000, 2000, 500])
    assert [(p.position, lo, hi) for p, lo, hi in iiif.spans(parts, 500, 3200)] == [
        (0, 500, 1000),
        (1, 0, 2000),
        (2, 0, 200),
    ]
    assert iiif.spans(parts, 1000, 1000) == []
    assert iiif.fragment("c", 1500, 20000) == "c#t=1.5,20"
