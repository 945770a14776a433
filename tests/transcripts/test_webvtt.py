"""WebVTT parsing after the W3C rules, and the writer."""

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, vtt, write_transcript
from oralhist.transcripts.model import Segment


def parse(text: str, **kwargs):
    return vtt.parse(text, "talk.vtt", **kwargs)


def test_voices_become_speakers_and_tags_are_stripped():
    result = parse(
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.000\n<v Sarah Schneider>Hello <i>there</i>\n\n"
        "00:00:02.000 --> 00:00:03.000\n<v.loud.first Esme>Shout <b>&amp;</b> <u>run</u>\n\n"
        "00:03.000 --> 00:04.000\n<c.yellow>plain</c> <lang en>text</lang> <00:03.500>timed\n\n"
        "00:00:04.000 --> 00:00:05.000\n<ruby>漢<rt>kan</rt></ruby>字 &lt;tag&gt; &nbsp;x\n"
    )
    assert [s.speaker for s in result.segments] == ["Sarah Schneider", "Esme", None, None]
    assert [s.text for s in result.segments] == [
        "Hello there",
        "Shout & run",
        "plain text timed",
        "漢字 <tag> x",
    ]
    assert result.format == "vtt"
    assert result.warnings == []


def test_w3c_structure_bom_line_endings_blocks_ids_settings():
    text = (
        "\ufeffWEBVTT - a title\r\nKind: captions\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "REGION\r\nid:fred width:40%\r\n\r\n"
        "NOTE a comment\r\nspanning lines\r\n\r\n"
        "intro\r\n00:00:01.000 --> 00:00:02.500 align:start position:10%\r\n"
        "first line\r\nsecond\r\n\r\n"
        "NOTE\rone more\r\r"
        "2\r00:00:03.000-->00:00:04.000\rlast"
    )
    result = parse(text)
    assert result.segments == [
        Segment(
            1000,
            2500,
            None,
            "first line\nsecond",
            cue_id="intro",
            cue_settings="position:10% align:start",
        ),
        Segment(3000, 4000, None, "last", cue_id="2"),
    ]
    assert result.lines == [14, 22]
    assert result.warnings == []  # STYLE, REGION and NOTE blocks are dropped silently


def test_a_timing_line_inside_cue_text_starts_the_next_cue():
    result = parse(
        "WEBVTT\n\n00:00:00.500 --> 00:00:07.000\n00:00:07.000 --> 00:00:10.890\nCaption text #2\n"
    )
    assert [s.text for s in result.segments] == ["", "Caption text #2"]
    assert result.warnings[0].line == 3


def test_several_voices_become_several_turns_sharing_the_cue_time():
    result = parse("WEBVTT\n\n00:01.000 --> 00:03.000\n<v A>Hi\n<v B>Hello\n")
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in result.segments] == [
        (1000, 1571, "A", "Hi"),  # the cue's 2 s shared out by length: 2 and 5 letters
        (1571, 3000, "B", "Hello"),
    ]
    assert result.warnings[0].line == 3
    assert "2 voices" in result.warnings[0].message


def test_voice_turns_take_their_time_from_timestamp_tags():
    result = parse(
        "WEBVTT\n\n00:01.000 --> 00:04.000\n<v A>Yes <00:01.500>indeed <00:02.000><v B>"
        "<00:02.500>No.\n"
    )
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in result.segments] == [
        (1000, 2500, "A", "Yes indeed"),
        (2500, 4000, "B", "No."),
    ]
    assert [(w.text, w.start_ms, w.end_ms) for w in result.segments[0].words] == [
        ("Yes", 1000, 1500),
        ("indeed", 1500, 2000),
    ]
    assert result.warnings == []


def test_br_from_ohms_becomes_a_line_break():
    result = parse("WEBVTT\n\n00:01.000 --> 00:02.000\n<v X>  One.<br><br>Two.\n")
    assert result.segments[0].text == "One.\nTwo."


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("00:00:01.000 --> 00:00:02.000\nhi\n", 1, "WEBVTT"),
        ("WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nhi\n", 1, "WEBVTT"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nhi\n", 3, "bad cue timing"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.00\nhi\n", 3, "bad cue timing"),
        ("WEBVTT\n\n00:00:01 --> 00:00:02\nhi\n", 3, "bad cue timing"),
        ("WEBVTT\n\njust text\n", 3, "without a cue timing line"),
        ("WEBVTT\n\n2562047788015:12:55.808 --> 2562047788016:00:00.000\nx\n", 3, "hours"),
    ],
)
def test_rejections_name_file_line_and_reason(text, line, reason):
    with pytest.raises(TranscriptError) as caught:
        parse(text)
    assert caught.value.line == line
    assert caught.value.filename == "talk.vtt"
    assert f"talk.vtt, line {line}" in str(caught.value)
    assert reason in caught.value.reason


@pytest.mark.parametrize("text", ["", "WEBVTT", "WEBVTT\n\nNOTE only a note\n", "\n\n"])
def test_no_cues_is_an_error(text):
    with pytest.raises(TranscriptError, match=r"talk\.vtt"):
        parse(text)


def test_order_overlap_and_duration_are_warnings_never_reordered():
    result = parse(
        "WEBVTT\n\n"
        "00:00:05.000 --> 00:00:08.000\nA\n\n"
        "00:00:07.000 --> 00:00:09.000\nB overlaps A\n\n"
        "00:00:01.000 --> 00:00:02.000\nC out of order\n\n"
        "00:00:30.000 --> 00:00:40.000\nD past the end\n",
        duration_ms=20_000,
    )
    assert [s.text for s in result.segments] == [
        "A",
        "B overlaps A",
        "C out of order",
        "D past the end",
    ]
    messages = {w.line: w.message for w in result.warnings}
    assert "overlap" in messages[6]
    assert "before cue 2" in messages[9]
    assert "past the end" in messages[12]


def test_writer_escapes_and_uses_voices():
    segments = [
        Segment(0, 1500, "A <B> & C", "1 < 2 & 3 > 2\nline --> two"),
        Segment(1500, None, None, "last"),
        Segment(4000, 5000, "Q", ""),
    ]
    out = write_transcript(segments, "vtt", metadata={"title": "T --> x"})
    assert out.startswith("WEBVTT\n\nNOTE\ntitle: T -> x\n\n")
    assert "<v A &lt;B&gt; &amp; C>1 &lt; 2 &amp; 3 &gt; 2\nline --&gt; two\n" in out
    # missing end: next start; "<v>": nobody speaks (an OHMS reader would continue A)
    assert "00:00:01.500 --> 00:00:04.000\n<v>last" in out
    back = parse(out).segments
    assert back[0] == segments[0]
    assert back[1] == Segment(1500, 4000, None, "last")
    assert back[2] == segments[2]


def test_writer_refuses_untimed_segments():
    with pytest.raises(TranscriptError, match="untimed"):
        write_transcript([Segment(None, None, "A", "x")], "vtt")


def test_max_bytes_rejects_a_50_mb_file_before_parsing():
    cue = b"00:00:01.000 --> 00:00:02.000\n<v Someone>" + b"x" * 200 + b"\n\n"
    data = b"WEBVTT\n\n" + cue * (50 * 1024 * 1024 // len(cue) + 1)
    assert len(data) > 50 * 1024 * 1024
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(data, "huge.vtt")
    assert "huge.vtt" in str(caught.value)
    assert "at most 26,214,400 bytes" in str(caught.value)


def test_a_few_megabytes_parse_quickly():
    cues = "".join(
        f"{i // 60:02d}:{i % 60:02d}.000 --> {i // 60:02d}:{i % 60:02d}.900\n<v S>cue {i}\n\n"
        for i in range(3600)
    )
    result = parse_transcript(("WEBVTT\n\n" + cues * 10).encode(), "long.vtt")
    assert len(result.segments) == 36_000
