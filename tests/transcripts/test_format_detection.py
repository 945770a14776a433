"""Recognising the format from content first, the extension as tie-breaker."""

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import FORMATS, detect_format, parse_transcript, write_transcript
from tests.conftest import testdata as shared_file

SRT = b"1\n00:00:01,000 --> 00:00:02,000\nhi\n"
VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n"
OHMS = (
    b'<?xml version="1.0"?><ROOT xmlns="https://www.weareavp.com/nunncenter/ohms"><record/></ROOT>'
)
JSON = b'{"segments": []}'
TXT = b"SCHNEIDER: hello\n"


def test_formats_tuple():
    assert FORMATS == ("vtt", "srt", "ohms", "txt", "json", "sbv", "docx")


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (VTT, "a.txt", "vtt"),
        (b"\xef\xbb\xbf" + VTT, None, "vtt"),
        (SRT, "a.vtt", "vtt"),  # cue timings without WEBVTT: the extension breaks the tie
        (SRT, "a.srt", "srt"),
        (SRT, None, "srt"),
        ("\ufeff".encode("utf-16-le") + SRT.decode().encode("utf-16-le"), "a.srt", "srt"),
        (OHMS, "a.txt", "ohms"),
        (b"<record><transcript/></record>", None, "ohms"),
        (JSON, "a.txt", "json"),
        (b'[{"start": 0, "end": 1, "text": "x"}]', None, "json"),
        (TXT, "a.txt", "txt"),
        (b"[00:00:05] A: hi", "a.txt", "txt"),
        (b"[untranscribed] text", None, "txt"),
        (b"some text", "a.srt", "srt"),  # no structure: the extension decides
        (b"some text", "a.json", "json"),
        (b"some text", "a.xml", "txt"),
        (b"some text", "notes", "txt"),
    ],
)
def test_detect(data, filename, expected):
    assert detect_format(data, filename) == expected


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"[Script Info]\nTitle: x\n", "a.txt", "ASS/SSA"),
        (b"PK\x03\x04rest-of-zip", "a.docx", "Word"),
        (b"%PDF-1.7", "a.pdf", "PDF"),
        (b"{\\rtf1\\ansi hello}", "a.rtf", "RTF"),
        (b"<html><body>x</body></html>", "a.html", "not an OHMS export"),
    ],
)
def test_unsupported_formats_are_refused_with_advice(data, filename, reason):
    with pytest.raises(TranscriptError) as caught:
        detect_format(data, filename)
    assert reason in caught.value.reason
    assert "WebVTT" in caught.value.reason


def test_forced_format_and_unknown_format():
    assert parse_transcript(SRT, "x.txt", "srt").format == "srt"
    with pytest.raises(TranscriptError, match="not one of"):
        parse_transcript(SRT, "x.srt", "rtf")


def test_max_bytes_is_checked_before_anything_else():
    with pytest.raises(TranscriptError, match=r"big.srt: is 35 bytes; .* at most 10 bytes"):
        parse_transcript(SRT, "big.srt", max_bytes=10)


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_files(data):
    with pytest.raises(TranscriptError, match=r"e.srt: is empty"):
        parse_transcript(data, "e.srt")


def test_youtube_sbv_is_detected_and_read():
    data = b"0:00:00.378,0:00:11.378\n>> ANNA: Hello.\n\n0:00:11.378,0:00:12.305\n>> BEN: Hi.\n"
    assert detect_format(data, "a.txt") == "sbv"
    result = parse_transcript(data, "captions.sbv")
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in result.segments] == [
        (378, 11378, "ANNA", "Hello."),
        (11378, 12305, "BEN", "Hi."),
    ]
    again = parse_transcript(write_transcript(result.segments, "sbv").encode(), "b.sbv")
    assert again.segments == result.segments


def test_a_damaged_sbv_block_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(b"0:00:00.378,0:00:11.378\nok\n\nsome text\n", "c.sbv")
    assert caught.value.line == 4


def test_an_sbv_cue_ending_before_it_starts_is_kept_as_webvtt_py_reads_it():
    # webvtt-py's tests/subtitles/sample.sbv, cue 5: "0:00:17.484,0:00:16.543"
    data = b"0:00:15.489,0:00:16.234\nCaption text #4\n\n0:00:17.484,0:00:16.543\nCaption text #5\n"
    result = parse_transcript(data, "sample.sbv")
    assert [(s.start_ms, s.end_ms, s.text) for s in result.segments] == [
        (15489, 16234, "Caption text #4"),
        (17484, None, "Caption text #5"),
    ]
    assert [(w.line, w.message) for w in result.warnings] == [
        (4, "cue ends (00:00:16.543) before it starts (00:00:17.484); its end is taken as unknown")
    ]


def test_webvtt_py_sample_sbv_is_read_whole():
    result = parse_transcript(
        shared_file("webvtt-py/subtitles/sample.sbv").read_bytes(), "sample.sbv"
    )
    assert len(result.segments) == 5
    assert result.segments[2].text == "Caption text #3 (line 1)\nCaption text #3 (line 2)"
    assert result.segments[4].end_ms is None
