"""Downloads in every writer format, the API export, and export -> re-import round trips."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import AuditEvent
from tests.conftest import testdata as shared_file

from .conftest import VTT, upload

FORMATS = {
    "vtt": ("text/vtt", ".vtt"),
    "srt": ("application/x-subrip", ".srt"),
    "txt": ("text/plain", ".txt"),
    "json": ("application/json", ".json"),
    "ohms": ("application/xml", ".xml"),
}


def accession(client, interview_id):
    return client.get(f"/api/v1/interviews/{interview_id}").get_json()["accession"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_download_each_format(app, browser, with_transcript, fmt):
    interview_id = with_transcript()
    reader = browser("researcher")
    response = reader.get(f"/interviews/{interview_id}/transcript/download?format={fmt}")
    assert response.status_code == 200
    mimetype, extension = FORMATS[fmt]
    assert response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{accession(reader, interview_id)}{extension}"'
    assert "Nottingham" in response.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "transcript.download")
        ).all()
    assert [(e.object_id, e.details["format"]) for e in events] == [(interview_id, fmt)]
    html = reader.get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert f"/transcript/download?format={fmt}" in html


def test_unknown_format_and_no_transcript(browser, make_interview, with_transcript):
    interview_id = with_transcript()
    reader = browser("researcher")
    bad = reader.get(f"/api/v1/interviews/{interview_id}/transcript?format=docx")
    assert bad.status_code == 422
    empty = make_interview()
    assert reader.get(f"/api/v1/interviews/{empty}/transcript").status_code == 404
    page = reader.get(f"/interviews/{empty}/transcript/download?format=vtt")
    assert page.status_code == 404


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_reimport_gives_the_same_segments(browser, with_transcript, fmt):
    interview_id = with_transcript()
    archivist = browser("archivist")
    before = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    exported = archivist.get(f"/api/v1/interviews/{interview_id}/transcript?format={fmt}")
    assert exported.status_code == 200
    filename = f"again{FORMATS[fmt][1]}"
    response = upload(archivist, interview_id, exported.get_data(), filename)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["format"] == fmt
    after = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert after["version"] == 2

    assert shape(after, fmt) == shape(before, fmt)


def shape(data, fmt):
    """What a format keeps. Plain text writes start times only: an end is read back from the
    next segment's start, so the last end (and any gap before the next turn) is not kept."""
    if fmt == "txt":
        return [(s["start_ms"], s["speaker"], s["text"]) for s in data["segments"]]
    # A missing end (the last turn of a text or legacy OHMS transcript) is written as the
    # start by the formats that need an end, and read back as such.
    return [
        (
            s["start_ms"],
            s["end_ms"] if s["end_ms"] is not None else s["start_ms"],
            s["speaker"],
            s["text"],
        )
        for s in data["segments"]
    ]


REAL = [
    ("pysrt", "static", "windows-1252.srt"),
    ("scihist", "ohms_xml", "legacy", "duarte_OH0344.xml"),
    ("scihist", "plain_text_transcript", "isaacs_j2ntg1k_sample_with_timecodes.txt"),
]


PARSER_LOSSES = {}


def _cases():
    for parts in REAL:
        for fmt in ("vtt", "json", "ohms", "txt", "srt"):
            reason = PARSER_LOSSES.get((fmt, parts[-1]))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(parts, fmt, marks=marks, id=f"{fmt}-{parts[-1]}")


@pytest.mark.parametrize(("parts", "fmt"), list(_cases()))
def test_real_file_round_trip(browser, make_interview, parts, fmt):
    path = shared_file(*parts)
    interview_id = make_interview()
    archivist = browser("archivist")
    assert upload(archivist, interview_id, path.read_bytes(), path.name).status_code == 201
    before = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    exported = archivist.get(f"/api/v1/interviews/{interview_id}/transcript?format={fmt}")
    response = upload(archivist, interview_id, exported.get_data(), f"x{FORMATS[fmt][1]}")
    assert response.status_code == 201, response.get_json()
    after = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert shape(after, fmt) == shape(before, fmt)


def test_untimed_transcript_exports_only_as_text_and_json(browser, make_interview):
    path = shared_file("scihist", "plain_text_transcript", "baltimore_sample.txt")
    interview_id = make_interview()
    archivist = browser("archivist")
    upload(archivist, interview_id, path.read_bytes(), path.name)
    for fmt in ("txt", "json"):
        url = f"/interviews/{interview_id}/transcript/download?format={fmt}"
        assert archivist.get(url).status_code == 200
    refused = archivist.get(f"/api/v1/interviews/{interview_id}/transcript?format=vtt")
    assert refused.status_code == 422 and "time codes" in refused.get_json()["error"]["message"]
    html = archivist.get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert "format=txt" in html and "format=vtt" not in html


def test_json_api_includes_index(browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    upload(archivist, interview_id, VTT)
    data = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert set(data) >= {"interview_id", "version", "language", "segments", "speakers", "index"}
    assert data["index"] == []
