"""Every third-party transcript file imports or is refused with a TranscriptError that names
the file (and the line where there is one), never another exception; counts and speakers
are checked where the folders' EXPECTATIONS/README give them. Skipped without the corpus."""

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, write_transcript
from oralhist.transcripts.model import Segment
from tests.conftest import TESTDATA

FOLDERS = (
    "webvtt-py/subtitles",
    "pysrt/static",
    "cdown-srt/srt_tools_files",
    "scihist/ohms_xml",
    "scihist/webvtt",
    "scihist/plain_text_transcript",
)


def corpus() -> list[Path]:
    files = []
    for folder in FOLDERS:
        directory = TESTDATA / folder
        if directory.is_dir():
            files += sorted(p for p in directory.rglob("*") if p.is_file())
    return files


FILES = corpus()
needs_corpus = pytest.mark.skipif(not FILES, reason=f"{TESTDATA} is absent")


def expectations(folder: str) -> dict:
    path = TESTDATA / folder / "EXPECTATIONS.json"
    return json.loads(path.read_text()) if path.exists() else {}


def load(relative: str):
    path = TESTDATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return parse_transcript(path.read_bytes(), path.name)


def rejects(relative: str) -> TranscriptError:
    path = TESTDATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(path.read_bytes(), path.name)
    return caught.value


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(TESTDATA)) for p in FILES])
def test_every_file_imports_or_is_refused_by_name(path):
    try:
        result = parse_transcript(path.read_bytes(), path.name)
    except TranscriptError as error:
        assert error.filename == path.name
        assert str(error).startswith(path.name)
        if error.line is not None:
            assert f"line {error.line}" in str(error)
        return
    # Whatever imports is clean text and survives our own JSON export and re-import.
    for segment in result.segments:
        assert "\ufffd" not in segment.text and "\x00" not in segment.text
    if result.segments:
        again = parse_transcript(write_transcript(result.segments, "json").encode(), "x.json")
        assert again.segments == result.segments


WEBVTT_EXPECTED = expectations("webvtt-py")


@needs_corpus
@pytest.mark.parametrize("name", sorted(WEBVTT_EXPECTED.keys() - {"_source"}))
def test_webvtt_py_expectations(name):
    expected = WEBVTT_EXPECTED[name]
    if name.endswith(".vtt") and expected.get("error") == "MalformedCaptionError":
        # webvtt-py refuses the file; browsers (the W3C parser, issue 13) drop the damaged
        # block and keep the rest, and so does this archive, with a warning at that block.
        result = load(f"webvtt-py/{name}")
        assert [w.line for w in result.warnings] == [6]
        assert "browsers drop" in result.warnings[0].message
        assert "Caption text #2" not in [s.text for s in result.segments]
        assert len(result.segments) == 6
        return
    if "error" in expected:
        error = rejects(f"webvtt-py/{name}")
        if expected["error"] == "MalformedCaptionError":
            assert error.line is not None, str(error)  # a cue-level problem names its line
        return
    result = load(f"webvtt-py/{name}")
    assert len(result.segments) == expected["captions"]
    if name.endswith("invalid_timeframe_in_cue_text.vtt"):
        assert result.segments[1].text == ""


def test_webvtt_py_thirteen_rejections():
    if not WEBVTT_EXPECTED:
        pytest.skip("webvtt-py expectations are absent")
    assert sum("error" in v for k, v in WEBVTT_EXPECTED.items() if k != "_source") == 13


def test_webvtt_py_samples():
    result = load("webvtt-py/subtitles/sample.vtt")
    assert len(result.segments) == 16
    assert result.segments[0].text == "Caption text #1"
    tags = load("webvtt-py/subtitles/cue_tags.vtt").segments
    assert [s.text for s in tags] == [
        "When the moon hits your eye",
        "Like a big-a pizza pie",
        "That's amore",
    ]
    youtube = load("webvtt-py/subtitles/youtube_dl.vtt").segments
    assert youtube[2].text == "this will happen is I'm telling"
    comments = load("webvtt-py/subtitles/comments.vtt").segments
    assert comments[0].text == "- Ta en kopp varmt te.\n- Det är inte varmt."
    assert len(load("webvtt-py/subtitles/netflix_chicas_del_cable.vtt").segments) > 800


def test_pysrt_expectations():
    assert len(load("pysrt/static/utf-8.srt").segments) == 1332
    assert len(load("pysrt/static/no-indexes.srt").segments) == 7
    assert rejects("pysrt/static/invalid.srt").line == 2
    utf8 = load("pysrt/static/utf-8.srt").segments
    assert load("pysrt/static/windows-1252.srt").segments == utf8
    assert utf8[1].text == "CE FILM RELATE DES ÉVÉNEMENTS\nQUI ONT EXISTÉ."
    reference = load("pysrt/static/bom-utf-8.srt").segments
    for variant in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        assert load(f"pysrt/static/bom-{variant}.srt").segments == reference
    capability = load("pysrt/static/capability_tester.srt")
    assert capability.segments[4].text.startswith("This should be an E with an accent: È\n日本語")
    assert "<font" not in capability.segments[4].text
    assert any("overlap" in w.message for w in capability.warnings)


def test_pysrt_empty_file_is_refused():
    with pytest.raises(TranscriptError, match="empty"):
        parse_transcript(b"", "empty.srt")


def test_cdown_srt_encodings():
    assert [s.text for s in load("cdown-srt/srt_tools_files/ascii.srt").segments] == [
        "ascii",
        "oh look",
        "ascii everywhere",
    ]
    chinese = load("cdown-srt/srt_tools_files/gb2312.srt").segments
    assert chinese[0].text == "宇宙守护神 保护我们远离邪恶"
    assert chinese[2].text == "轻轻一跳就能飞跃高楼"


def test_scihist_webvtt():
    result = load("scihist/webvtt/simple.vtt")
    assert result.segments[0].text == "Hildy!"
    assert len(result.segments) == 5


def test_scihist_plain_text():
    baltimore = load("scihist/plain_text_transcript/baltimore_sample.txt")
    assert baltimore.header["interviewee"] == "David Baltimore"
    assert {"SCHLESINGER", "BALTIMORE", "HUANG"} <= {s.speaker for s in baltimore.segments}
    assert baltimore.segments[0].text.startswith("Let’s not start at the beginning")
    assert all(s.start_ms is None for s in baltimore.segments)

    isaacs = load("scihist/plain_text_transcript/isaacs_j2ntg1k_sample_with_timecodes.txt")
    assert isaacs.header["interviewer"] == "Sarah Schneider; David J. Caruso"
    assert [(s.start_ms, s.speaker) for s in isaacs.segments] == [
        (5000, "SCHNEIDER"),
        (47000, "ISAACS"),
        (127000, "ISAACS"),
        (187000, "SCHNEIDER"),
    ]
    wood = load("scihist/plain_text_transcript/wood_start.txt")
    assert [s.speaker for s in wood.segments] == ["WOOD", "BOHNING", "WOOD"]
    assert wood.header["abstract"].startswith("Harland G. Wood's oral history begins with")


def within_limits(segments: list[Segment], fmt: str) -> list[Segment]:
    """What a re-import of ``segments`` exported as ``fmt`` gives: the documented limits."""
    out = []
    speaker = None
    timed = [i for i, s in enumerate(segments) if s.start_ms is not None]
    next_timed = dict(pairwise(timed))
    for i, s in enumerate(segments):
        start, end, who, text = s.start_ms, s.end_ms, s.speaker, s.text
        if fmt in {"vtt", "srt", "ohms"} and end is None:  # filled from the next start
            following = segments[i + 1].start_ms if i + 1 < len(segments) else None
            end = following if following is not None and following >= start else start
        if fmt == "txt":
            # A segment without speaker continues the last one, except notes
            # ("[END OF TAPE]"), untimed headings ("NOTES") and session headers.
            note = not who and (
                re.fullmatch(r"\[[^\[\]]*\]", text)
                or (start is None and re.fullmatch(r"[^a-z]+", text))
            )
            if note or (start is None and not who and re.match(r"[A-Z]+:", text)):
                speaker = speaker if text.startswith("[") else None
                who = None
            else:
                speaker = who or speaker
                who = speaker
            end = segments[next_timed[i]].start_ms if i in next_timed else None
        kept = {}
        if fmt in {"json", "vtt", "ohms"}:  # cue ids, settings and word timings survive
            kept = {"cue_id": s.cue_id, "cue_settings": s.cue_settings, "words": s.words}
        if fmt == "json":
            kept["note"] = s.note
        out.append(Segment(start, end, who, text, **kept))
    return out


@needs_corpus
@pytest.mark.parametrize("fmt", ["vtt", "srt", "txt", "json", "ohms"])
@pytest.mark.parametrize(
    "relative",
    [
        "scihist/ohms_xml/chappelear-ohmsvtt-example.xml",
        "scihist/plain_text_transcript/isaacs_j2ntg1k_sample_with_timecodes.txt",
        "scihist/plain_text_transcript/baltimore_sample.txt",
        "scihist/ohms_xml/legacy/duarte_OH0344.xml",
        "pysrt/static/utf-8.srt",
        "webvtt-py/subtitles/netflix_chicas_del_cable.vtt",
    ],
)
def test_real_files_round_trip(relative, fmt):
    """Import, export, re-import gives the same segments, within each format's limits."""
    original = load(relative)
    segments = original.segments
    if fmt in {"vtt", "srt", "ohms"} and any(s.start_ms is None for s in segments):
        with pytest.raises(TranscriptError, match="untimed"):
            write_transcript(segments, fmt)
        return
    out = write_transcript(
        segments, fmt, index_points=original.index_points, metadata=original.header
    )
    again = parse_transcript(out.encode(), "again." + {"ohms": "xml"}.get(fmt, fmt))
    assert again.segments == within_limits(segments, fmt)
    if fmt in {"json", "ohms"}:
        assert again.index_points == original.index_points
