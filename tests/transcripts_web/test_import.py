"""Import through the API and the page flow: all or nothing, dry run, versions, limits,
header prefill, and real third-party files."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import AuditEvent, IndexTask, Segment, Speaker, Transcript
from tests.conftest import testdata as shared_file

from .conftest import VTT, upload


def counts(app, interview_id: int) -> tuple[int, int, int]:
    with app.app_context():
        transcripts = db.session.scalar(
            select(func.count())
            .select_from(Transcript)
            .where(Transcript.interview_id == interview_id)
        )
        segments = db.session.scalar(
            select(func.count())
            .select_from(Segment)
            .join(Transcript)
            .where(Transcript.interview_id == interview_id)
        )
        speakers = db.session.scalar(
            select(func.count()).select_from(Speaker).where(Speaker.interview_id == interview_id)
        )
    return transcripts, segments, speakers


def test_api_import_returns_counts(app, browser, make_interview):
    interview_id = make_interview()
    response = upload(browser("archivist"), interview_id, VTT, "talk.vtt")
    assert response.status_code == 201
    body = response.get_json()
    assert body["segments"] == 4
    assert body["speakers"] == 2
    assert body["version"] == 1
    assert body["format"] == "vtt"
    assert body["warnings"] == []
    assert counts(app, interview_id) == (1, 4, 2)
    data = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert [s["speaker"] for s in data["segments"]] == [
        "Ruth Adler",
        "Thomas Whitfield",
        "Ruth Adler",
        "Thomas Whitfield",
    ]
    assert data["segments"][1] == {
        "id": data["segments"][1]["id"],
        "start_ms": 5000,
        "end_ms": 10000,
        "speaker": "Thomas Whitfield",
        "speaker_id": data["segments"][1]["speaker_id"],
        "text": "In Nottingham, in 1931.",
        "note": None,
        "cue_id": None,
        "cue_settings": None,
        "words": [],
    }
    assert data["version"] == 1 and data["interview_id"] == interview_id
    assert {s["label"] for s in data["speakers"]} == {"Ruth Adler", "Thomas Whitfield"}


def test_import_is_indexed_and_audited(app, browser, make_interview):
    interview_id = make_interview()
    upload(browser("archivist"), interview_id, VTT)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IndexTask)) == 0
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "transcript.import" in actions
    found = browser(None).get(f"/api/v1/interviews/{interview_id}/search?q=apprentice")
    assert found.get_json()["total"] == 1
    assert found.get_json()["results"][0]["start_ms"] == 15000


def test_bad_line_at_the_end_rejects_everything(app, browser, make_interview):
    interview_id = make_interview()
    bad = VTT + "\n2562047788015:12:55.808 --> 2562047788015:12:56.000\n<v Ruth Adler>Late.\n"
    response = upload(browser("archivist"), interview_id, bad, "broken.vtt")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "transcript_error"
    assert error["details"]["filename"] == "broken.vtt"
    timing = "2562047788015:12:55.808 --> 2562047788015:12:56.000"
    assert error["details"]["line"] == bad.splitlines().index(timing) + 1
    assert "at most 100 hours" in error["message"]  # was an API 500 (issue 12 item 8)
    assert "broken.vtt" in error["message"] and "line" in error["message"]
    assert counts(app, interview_id) == (0, 0, 0)


def test_dry_run_saves_nothing(app, browser, make_interview):
    interview_id = make_interview()
    response = upload(browser("archivist"), interview_id, VTT, dry_run="true")
    assert response.status_code == 200
    body = response.get_json()
    assert body["dry_run"] is True and body["version"] is None
    assert body["segments"] == 4 and body["speakers"] == 2
    assert body["preview"][0] == {
        "start_ms": 0,
        "end_ms": 5000,
        "speaker": "Ruth Adler",
        "text": "Where does your story begin?",
    }
    assert counts(app, interview_id) == (0, 0, 0)


def test_dry_run_preview_is_capped_at_ten(browser, make_interview):
    interview_id = make_interview()
    cues = "".join(f"\n{i}\n00:00:{i:02d}.000 --> 00:00:{i:02d}.500\nLine {i}\n" for i in range(30))
    body = upload(browser("archivist"), interview_id, cues, "many.srt", dry_run="1").get_json()
    assert body["segments"] == 30 and len(body["preview"]) == 10


def test_format_override_and_unknown_format(browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    text = "[00:00:01] KC: Hello there.\n\n[00:00:04] JB: Hello.\n"
    detected = upload(archivist, interview_id, text, "notes.dat", dry_run="true").get_json()
    assert detected["format"] == "txt" and detected["segments"] == 2
    forced = upload(archivist, interview_id, VTT, "x.vtt", format="txt", dry_run="true")
    assert forced.status_code == 200 and forced.get_json()["format"] == "txt"
    unknown = upload(archivist, interview_id, VTT, "x.vtt", format="rtf")
    assert unknown.status_code == 422
    assert "format" in unknown.get_json()["error"]["details"]["fields"]


def test_warning_past_the_end_of_the_recording(app, browser, make_interview, monkeypatch):
    interview_id = make_interview()
    from oralhist.models import Interview

    monkeypatch.setattr(Interview, "duration_ms", property(lambda self: 12_000))
    body = upload(browser("archivist"), interview_id, VTT, dry_run="true").get_json()
    assert body["warnings"], body
    assert all(isinstance(w["line"], int) for w in body["warnings"])
    assert any("end of the recording" in w["message"] for w in body["warnings"])


def test_reimport_makes_version_two_and_restore_brings_back_one(app, browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    upload(archivist, interview_id, VTT)
    second = VTT.replace("apprentice", "fitter") + (
        "\n00:00:20.000 --> 00:00:24.000\n<v Margaret Hale>A third voice.\n"
    )
    response = upload(archivist, interview_id, second, "v2.vtt")
    assert response.get_json()["version"] == 2
    assert response.get_json()["new_speakers"] == ["Margaret Hale"]
    assert counts(app, interview_id) == (2, 9, 3)  # speakers reused by label

    versions = archivist.get(f"/api/v1/interviews/{interview_id}/transcripts").get_json()
    assert versions["total"] == 2
    assert [(v["version"], v["is_current"]) for v in versions["items"]] == [(2, True), (1, False)]
    current = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert current["version"] == 2 and len(current["segments"]) == 5

    restored = archivist.post(f"/api/v1/interviews/{interview_id}/transcripts/1/restore")
    assert restored.status_code == 200 and restored.get_json()["is_current"] is True
    current = archivist.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert current["version"] == 1
    assert current["segments"][-1]["text"] == "I started there as an apprentice."
    hits = browser(None).get(f"/api/v1/interviews/{interview_id}/search?q=fitter").get_json()
    assert hits["total"] == 0
    missing = archivist.post(f"/api/v1/interviews/{interview_id}/transcripts/9/restore")
    assert missing.status_code == 404


def test_versions_page_and_restore_button(app, browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    upload(archivist, interview_id, VTT, "one.vtt")
    upload(archivist, interview_id, VTT, "two.vtt")
    page = archivist.get(f"/interviews/{interview_id}/transcript/versions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "one.vtt" in html and "two.vtt" in html
    assert html.count(">Restore</button>") == 1
    response = archivist.post(f"/interviews/{interview_id}/transcript/versions/1/restore", data={})
    assert response.status_code == 302
    with app.app_context():
        current = db.session.scalar(
            select(Transcript.version).where(
                Transcript.interview_id == interview_id, Transcript.is_current.is_(True)
            )
        )
    assert current == 1


def test_fifty_megabytes_rejected_cleanly(app, browser, make_interview):
    interview_id = make_interview()
    big = b"WEBVTT\n\n" + (b"00:00:01.000 --> 00:00:02.000\n" + b"x" * 1000 + b"\n\n") * 50_000
    assert len(big) > 50_000_000
    boundary = "oralhist-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.vtt"\r\n'
            "Content-Type: text/vtt\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    # Pre-encoded bytes: the test client would otherwise spool them to a temporary file.
    response = browser("archivist").post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in (413, 422)
    assert "bytes" in response.get_json()["error"]["message"]
    assert counts(app, interview_id) == (0, 0, 0)


def test_empty_and_binary_files_are_refused(app, browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    empty = upload(archivist, interview_id, b"", "empty.vtt")
    assert empty.status_code == 422 and "empty" in empty.get_json()["error"]["message"]
    word = upload(archivist, interview_id, b"PK\x03\x04rest", "t.docx")
    assert word.status_code == 422
    missing = archivist.post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data={},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422
    assert counts(app, interview_id) == (0, 0, 0)


# --- the page flow: upload -> preview -> confirm -----------------------------------------

TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def preview(client, interview_id: int, data: bytes | str, filename: str, **fields):
    if isinstance(data, str):
        data = data.encode()
    return client.post(
        f"/interviews/{interview_id}/transcript/import",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def test_page_flow_preview_then_confirm(app, browser, make_interview):
    interview_id = make_interview()
    archivist = browser("archivist")
    form = archivist.get(f"/interviews/{interview_id}/transcript/import")
    assert form.status_code == 200 and 'name="format"' in form.get_data(as_text=True)
    shown = preview(archivist, interview_id, VTT, "talk.vtt", format="")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Ruth Adler" in html and "Thomas Whitfield" in html
    assert "Where does your story begin?" in html
    assert counts(app, interview_id) == (0, 0, 0)  # nothing saved by the preview
    token = TOKEN_RE.search(html).group(1)
    pending = list(
        (app.instance_path and __import__("pathlib").Path(app.instance_path)).glob(
            "transcript-uploads/*.bin"
        )
    )
    assert len(pending) == 1
    done = archivist.post(
        f"/interviews/{interview_id}/transcript/import/confirm", data={"token": token}
    )
    assert done.status_code == 302
    assert counts(app, interview_id) == (1, 4, 2)
    assert not pending[0].exists()
    # The same token cannot be used twice.
    again = archivist.post(
        f"/interviews/{interview_id}/transcript/import/confirm", data={"token": token}
    )
    assert again.status_code == 422 and "upload the file again" in again.get_data(as_text=True)
    assert counts(app, interview_id) == (1, 4, 2)


def test_preview_token_is_bound_to_the_session(app, browser, make_interview):
    interview_id = make_interview()
    html = preview(browser("archivist"), interview_id, VTT, "talk.vtt").get_data(as_text=True)
    token = TOKEN_RE.search(html).group(1)
    other = browser("admin")
    response = other.post(
        f"/interviews/{interview_id}/transcript/import/confirm", data={"token": token}
    )
    assert response.status_code == 422
    assert counts(app, interview_id) == (0, 0, 0)


def test_preview_cancel_removes_the_file(app, browser, make_interview):
    from pathlib import Path

    interview_id = make_interview()
    archivist = browser("archivist")
    html = preview(archivist, interview_id, VTT, "talk.vtt").get_data(as_text=True)
    token = TOKEN_RE.search(html).group(1)
    folder = Path(app.instance_path) / "transcript-uploads"
    assert (folder / f"{token}.bin").exists()
    archivist.post(f"/interviews/{interview_id}/transcript/import/cancel", data={"token": token})
    assert not (folder / f"{token}.bin").exists()


def test_preview_of_a_bad_file_rerenders_the_form(app, browser, make_interview):
    interview_id = make_interview()
    bad = VTT + "\n200:00:00.000 --> 200:00:01.000\nPast the 100-hour limit.\n"
    shown = preview(browser("archivist"), interview_id, bad, "broken.vtt")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 422
    assert "broken.vtt, line" in html
    assert 'type="file"' in html
    assert counts(app, interview_id) == (0, 0, 0)


def test_header_prefills_an_empty_record(app, browser, make_interview):
    path = shared_file("scihist", "plain_text_transcript", "baltimore_sample.txt")
    interview_id = make_interview()
    archivist = browser("archivist")
    html = preview(archivist, interview_id, path.read_bytes(), path.name).get_data(as_text=True)
    assert "David Baltimore" in html and 'value="date"' in html
    token = TOKEN_RE.search(html).group(1)
    archivist.post(
        f"/interviews/{interview_id}/transcript/import/confirm",
        data={"token": token, "prefill": ["interviewee", "date", "location"]},
    )
    record = archivist.get(f"/api/v1/interviews/{interview_id}").get_json()
    assert record["date_recorded"] == "1994-02-07"
    assert record["place"] == "Rockefeller University, New York"
    assert [(p["name"], p["role"]) for p in record["participants"]] == [
        ("David Baltimore", "interviewee")
    ]


# --- real files through the HTTP import ---------------------------------------------------

REAL_FILES = [
    (("scihist", "webvtt", "simple.vtt"), "vtt", 5, True),
    (("webvtt-py", "subtitles", "sample.vtt"), "vtt", 16, True),
    (("pysrt", "static", "windows-1252.srt"), "srt", 1332, True),
    (("cdown-srt", "srt_tools_files", "gb2312.srt"), "srt", 3, True),
    # 111 before issue 13: 4 label-only segments are now part of their turns, and 3
    # paragraphs holding two turns are split.
    (("scihist", "ohms_xml", "legacy", "duarte_OH0344.xml"), "ohms", 110, True),
    (("scihist", "ohms_xml", "small-sample-vtt-ohms.xml"), "ohms", 6, True),
    (
        ("scihist", "plain_text_transcript", "isaacs_j2ntg1k_sample_with_timecodes.txt"),
        "txt",
        4,
        True,
    ),
    (("scihist", "plain_text_transcript", "baltimore_sample.txt"), "txt", 38, False),
]


@pytest.mark.parametrize(("parts", "fmt", "segments", "timed"), REAL_FILES)
def test_real_files_import_over_http(app, browser, make_interview, parts, fmt, segments, timed):
    path = shared_file(*parts)
    interview_id = make_interview()
    response = upload(browser("archivist"), interview_id, path.read_bytes(), path.name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["segments"], body["timed"]) == (fmt, segments, timed)
    data = (
        browser(None).get(f"/api/v1/interviews/{interview_id}/transcript?per_page=5000").get_json()
    )
    assert len(data["segments"]) == data["total"] == segments
    page = browser(None).get(f"/interviews/{interview_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The page shows the first page of segments (TRANSCRIPT_PAGE_SEGMENTS) and the total.
    assert html.count('class="segment') == min(segments, app.config["TRANSCRIPT_PAGE_SEGMENTS"])
    assert f"{segments:,} segment" in html
    if not timed:
        assert 'class="transcript untimed"' in html and 'class="time"' not in html


def test_gb2312_text_is_stored_correctly(browser, make_interview):
    path = shared_file("cdown-srt", "srt_tools_files", "gb2312.srt")
    interview_id = make_interview()
    upload(browser("archivist"), interview_id, path.read_bytes(), path.name)
    data = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert data["segments"][0]["text"] == "宇宙守护神 保护我们远离邪恶"


def test_windows_1252_text_is_not_garbled(browser, make_interview):
    path = shared_file("pysrt", "static", "windows-1252.srt")
    interview_id = make_interview()
    upload(browser("archivist"), interview_id, path.read_bytes(), path.name)
    data = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    text = " ".join(s["text"] for s in data["segments"])
    assert "\ufffd" not in text and "Ã" not in text


def test_ohms_index_points_are_imported_and_shown(browser, make_interview):
    path = shared_file("scihist", "ohms_xml", "legacy", "duarte_OH0344.xml")
    interview_id = make_interview()
    body = upload(browser("archivist"), interview_id, path.read_bytes(), path.name).get_json()
    assert body["index_points"] == 7
    data = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert len(data["index"]) == 7 and data["index"][0]["title"]
    html = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert html.count('class="index-point"') == 7
    assert data["index"][0]["title"] in html.replace("&#39;", "'").replace("&amp;", "&")


def test_invalid_real_file_names_file_and_line(app, browser, make_interview):
    path = shared_file("pysrt", "static", "invalid.srt")
    interview_id = make_interview()
    response = upload(browser("archivist"), interview_id, path.read_bytes(), path.name)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details["filename"] == path.name and isinstance(details["line"], int)
    assert counts(app, interview_id) == (0, 0, 0)


def test_a_damaged_real_vtt_block_is_dropped_with_its_line(app, browser, make_interview):
    path = shared_file("webvtt-py", "subtitles", "invalid_timeframe.vtt")
    interview_id = make_interview()
    response = upload(browser("archivist"), interview_id, path.read_bytes(), path.name)
    assert response.status_code == 201  # browsers drop the block and show the rest
    assert [w["line"] for w in response.get_json()["warnings"]] == [6]
    assert counts(app, interview_id) == (1, 6, 0)


WHISPER_WORDS = {
    "segments": [
        {
            "start": 0.0,
            "end": 2.0,
            "text": " Hello there.",
            "words": [
                {"word": " Hello", "start": 0.0, "end": 0.8, "probability": 0.91},
                {"word": " there.", "start": 0.9, "end": 2.0, "probability": 0.5},
            ],
        }
    ]
}


def test_word_timings_are_stored_and_given_by_the_api_and_exports(app, browser, make_interview):
    interview_id = make_interview()
    data = json.dumps(WHISPER_WORDS).encode()
    assert upload(browser("archivist"), interview_id, data, "w.json").status_code == 201
    client = browser(None)
    api = client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert api["segments"][0]["words"] == [
        {"text": "Hello", "start_ms": 0, "end_ms": 800, "confidence": 0.91},
        {"text": "there.", "start_ms": 900, "end_ms": 2000, "confidence": 0.5},
    ]
    exported = client.get(f"/api/v1/interviews/{interview_id}/transcript?format=json")
    assert json.loads(exported.data)["segments"][0]["words"] == api["segments"][0]["words"]
    vtt = client.get(f"/api/v1/interviews/{interview_id}/transcript?format=vtt").data.decode()
    assert "<00:00:00.000>Hello <00:00:00.900>there." in vtt


@pytest.mark.parametrize(
    ("level", "role", "status"),
    [
        ("open", None, 200),
        ("registered", None, 302),
        ("registered", "researcher", 200),
        ("restricted", "researcher", 403),
        ("closed", "researcher", 403),
        ("closed", "contributor", 200),  # the owner
        ("closed", "archivist", 200),
    ],
)
def test_the_players_word_timings_follow_the_transcript_policy(
    browser, make_interview, level, role, status
):
    interview_id = make_interview(level)
    data = json.dumps(WHISPER_WORDS).encode()
    assert upload(browser("archivist"), interview_id, data, "w.json").status_code == 201
    response = browser(role).get(f"/interviews/{interview_id}/transcript/words")
    assert response.status_code == status
    if status == 200:
        segment_id = str(
            browser("archivist")
            .get(f"/api/v1/interviews/{interview_id}/transcript")
            .get_json()["segments"][0]["id"]
        )
        assert response.get_json() == {"segments": {segment_id: [0, 900]}}
        page = browser(role).get(f"/interviews/{interview_id}").get_data(as_text=True)
        assert f'data-words-url="/interviews/{interview_id}/transcript/words"' in page


def test_ohms_record_fields_offered_and_gps_footnotes_shown(app, browser, make_interview):
    xml = (
        '<?xml version="1.0"?><ROOT xmlns="https://www.weareavp.com/nunncenter/ohms"><record>'
        "<title>T</title><description>About the works.</description><rights>In copyright</rights>"
        "<usage>Cite as: T.</usage><subject>Bicycles</subject><funding>A grant.</funding>"
        "<index><point><time>1</time><title>Works</title><gpspoints><gps>52.95, -1.15</gps>"
        "<gps_zoom>12</gps_zoom><gps_text>Nottingham</gps_text></gpspoints></point></index>"
        "<transcript>ANN: The works.[[footnote]]1[[/footnote]]\n\n"
        "[[footnotes]][[note]]Raleigh, 1931.[[/note]][[/footnotes]]</transcript>"
        "</record></ROOT>"
    )
    interview_id = make_interview()
    archivist = browser("archivist")
    html = preview(archivist, interview_id, xml.encode(), "r.xml").get_data(as_text=True)
    assert 'value="summary"' in html and "About the works." in html
    assert 'value="rights"' in html and "In copyright" in html
    # usage, subjects and funding have catalogue fields of their own now (issue 13)
    assert 'value="usage"' in html and "Cite as: T." in html
    assert 'value="subjects"' in html and "Bicycles" in html
    assert 'value="funding"' in html and "A grant." in html
    assert upload(archivist, interview_id, xml, "r.xml").status_code == 201
    page = browser(None).get(f"/interviews/{interview_id}").get_data(as_text=True)
    assert "Nottingham (52.95, -1.15)" in page
    assert "Note: [1] Raleigh, 1931." in page
    api = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert api["segments"][0]["note"] == "[1] Raleigh, 1931."
    assert api["index"][0]["gps"] == {
        "gps": "52.95, -1.15",
        "gps_zoom": "12",
        "gps_text": "Nottingham",
    }


def test_a_word_document_imports_through_the_api_and_the_preview(app, browser, make_interview):
    from tests.transcripts.test_docx import make

    data = make(["NARRATOR: Ruth Adler", "[00:00:05] ADLER: We started in 1931."])
    interview_id = make_interview()
    archivist = browser("archivist")
    html = preview(archivist, interview_id, data, "adler.docx").get_data(as_text=True)
    assert "Read as <strong>docx</strong>" in html and 'value="interviewee"' in html
    response = upload(archivist, interview_id, data, "adler.docx")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["format"] == "docx"
    api = browser(None).get(f"/api/v1/interviews/{interview_id}/transcript").get_json()
    assert [(s["start_ms"], s["speaker"]) for s in api["segments"]] == [(5000, "ADLER")]
