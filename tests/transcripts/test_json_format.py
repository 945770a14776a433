"""JSON: Whisper segments (seconds), a bare list, and our own export (milliseconds)."""

import json

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, whisper_json, write_transcript
from oralhist.transcripts.model import IndexPoint, Segment


def parse(text: str, **kwargs):
    return whisper_json.parse(text, "w.json", **kwargs)


def test_whisper_segments_in_seconds():
    data = {
        "text": " Hello there. Bye.",
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.2345, "text": " Hello there.", "words": []},
            {"id": 1, "start": 1.5, "end": 3.4, "text": " Bye.", "speaker": "SPEAKER_00"},
        ],
        "language": "en",
    }
    result = parse(json.dumps(data))
    assert result.segments == [
        Segment(0, 1235, None, "Hello there."),
        Segment(1500, 3400, "SPEAKER_00", "Bye."),
    ]
    assert result.format == "json"


def test_bare_list():
    result = parse('[{"start": 1, "end": 2, "text": "x"}]')
    assert result.segments == [Segment(1000, 2000, None, "x")]


def test_own_export_reads_back_with_index_and_metadata():
    segments = [Segment(0, 1500, "A", "one\ntwo"), Segment(None, None, None, "untimed")]
    points = [IndexPoint(1500, "Topic", keywords=("a", "b"), hyperlinks=(("https://x", "X"),))]
    out = write_transcript(segments, "json", index_points=points, metadata={"title": "T"})
    assert json.loads(out)["segments"][0] == {
        "start_ms": 0,
        "end_ms": 1500,
        "speaker": "A",
        "text": "one\ntwo",
        "words": [],
    }
    result = parse(out)
    assert result.segments == segments
    assert result.index_points == points
    assert result.header == {"title": "T"}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{"segments": [\n{"start": 1, "end": 2, "text": "x"},\n]}', 3, "not valid JSON"),
        ('{"segments": [{"start": NaN, "end": 2, "text": "x"}]}', None, "not valid JSON"),
        (
            '{"segments": [{"start": -1, "end": 2, "text": "x"}]}',
            None,
            "segment 1 'start' is negative",
        ),
        ('{"segments": [{"start": "1", "end": 2, "text": "x"}]}', None, "segment 1 'start'"),
        ('{"segments": [{"start": true, "end": 2, "text": "x"}]}', None, "segment 1 'start'"),
        ('{"segments": [{"start": 1, "end": 2}]}', None, "segment 1 has no 'text'"),
        ('{"segments": [{"start": 1, "end": 2, "text": 5}]}', None, "must be a string"),
        ('{"segments": [{"start_ms": 1.5, "end_ms": 2, "text": "x"}]}', None, "whole milliseconds"),
        ('{"segments": [{"end": 2, "text": "x"}]}', None, "an end but no start"),
        ('{"segments": [{"start": 3, "end": 2, "text": "x"}]}', None, "cue 1 ends"),
        ('{"segments": []}', None, "no segments"),
        ('{"results": []}', None, "no 'segments'"),
        ('{"segments": {}}', None, "must be a list"),
        ("[1]", None, "segment 1 is not an object"),
        ("[" * 100_000, None, "not valid JSON"),
    ],
)
def test_rejections(text, line, reason):
    with pytest.raises(TranscriptError) as caught:
        parse(text)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert "w.json" in str(caught.value)


def test_detected_from_content():
    data = b'\n  {"segments": [{"start": 0, "end": 1, "text": "hi"}]}'
    assert parse_transcript(data, "upload.bin").format == "json"
