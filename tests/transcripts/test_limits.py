"""Issue 12's parser limits: bad bytes, absurd times and oversized segments are refused
with the file, the line and the limit, before anything reaches the database."""

import json

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript
from oralhist.transcripts.checks import MAX_SEGMENT_CHARS


def refused(data: bytes, name: str) -> TranscriptError:
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(data, name)
    assert caught.value.filename == name
    return caught.value


def test_invalid_utf8_in_webvtt_is_refused_with_line_and_byte():
    data = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nbad \xff\xfe\xc3(\n"
    error = refused(data, "bad.vtt")
    assert error.line == 4
    assert "byte 5" in error.reason  # "bad " is four bytes
    assert "offset 42" in error.reason  # 8 + 30 + 4 bytes before it, counted from 0
    assert "ff" in error.reason
    assert "UTF-8" in error.reason


def test_invalid_utf8_in_json_is_refused_not_guessed():
    data = b'{"segments": [{"start": 0, "end": 1, "text": "caf\xe9"}]}'
    error = refused(data, "w.json")
    assert error.line == 1
    assert "byte 50" in error.reason


def test_srt_stays_legacy_encoded_and_decodes_windows_1252():
    data = "1\n00:00:01,000 --> 00:00:02,000\ncafé à la crème\n".encode("cp1252")
    result = parse_transcript(data, "old.srt")
    assert result.segments[0].text == "café à la crème"


@pytest.mark.parametrize(
    ("data", "name", "line"),
    [
        (b"WEBVTT\n\n2562047788015:12:55.808 --> 2562047788016:00:00.000\nx\n", "a.vtt", 3),
        (b"WEBVTT\n\n100:00:00.001 --> 100:00:01.000\nx\n", "b.vtt", 3),
        (b"1\n1000000000:00:00,000 --> 1000000000:00:01,000\nx\n", "c.srt", 2),
        (b"[1000000000:00:00] A: hello\n", "d.txt", 1),
    ],
)
def test_absurd_timecodes_are_refused_with_the_line(data, name, line):
    error = refused(data, name)
    assert error.line == line
    assert "at most 100 hours" in error.reason


def test_a_time_of_exactly_100_hours_is_accepted():
    data = b"WEBVTT\n\n99:59:59.000 --> 100:00:00.000\nthe very end\n"
    assert parse_transcript(data, "long.vtt").segments[0].end_ms == 100 * 3_600_000


@pytest.mark.parametrize("key", ["start", "end"])
def test_a_whisper_time_of_400_digits_is_refused_not_a_crash(key):
    segment = {"start": 1, "end": 2, "text": "x"}
    text = json.dumps({"segments": [segment]}).replace(
        f'"{key}": {segment[key]}', f'"{key}": {"9" * 400}'
    )
    error = refused(text.encode(), "w.json")
    assert f"segment 1 '{key}'" in error.reason
    assert "at most 100 hours" in error.reason
    assert len(error.reason) < 200  # the number is not echoed whole


def test_milliseconds_past_the_limit_in_our_json_are_refused():
    error = refused(b'{"segments": [{"start_ms": 1e300, "end_ms": null, "text": "x"}]}', "j.json")
    assert "at most 100 hours" in error.reason


def test_ohms_sync_interval_overflow_is_a_warning_not_a_crash():
    xml = (
        b'<?xml version="1.0"?><ROOT><record><title>T</title>'
        b"<transcript>A: one two three</transcript><sync>1e400:|1(1)</sync></record></ROOT>"
    )
    result = parse_transcript(xml, "o.xml")
    assert result.segments[0].start_ms is None
    assert any("interval" in w.message for w in result.warnings)


def test_ohms_index_time_past_the_limit_is_refused():
    xml = (
        b'<?xml version="1.0"?><ROOT><record><title>T</title><index><point>'
        b"<time>1e200</time><title>x</title></point></index></record></ROOT>"
    )
    assert "at most 100 hours" in refused(xml, "o.xml").reason


@pytest.mark.parametrize(
    ("head", "name", "line"),
    [
        (b"1\n00:00:01,000 --> 00:00:02,000\n", "big.srt", 2),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n", "big.vtt", 3),
    ],
)
def test_a_cue_longer_than_the_cap_is_refused_naming_line_and_cap(head, name, line):
    data = head + b"word " * (MAX_SEGMENT_CHARS // 5 + 1) + b"\n"
    error = refused(data, name)
    assert error.line == line
    assert f"at most {MAX_SEGMENT_CHARS:,}" in error.reason


def test_a_cue_at_the_cap_is_accepted():
    text = "x" * MAX_SEGMENT_CHARS
    data = f"1\n00:00:01,000 --> 00:00:02,000\n{text}\n".encode()
    assert len(parse_transcript(data, "ok.srt").segments[0].text) == MAX_SEGMENT_CHARS


def test_one_untimed_paragraph_longer_than_the_cap_is_refused():
    data = ("A: " + "talk " * (MAX_SEGMENT_CHARS // 5 + 10)).encode()
    assert f"at most {MAX_SEGMENT_CHARS:,}" in refused(data, "t.txt").reason
