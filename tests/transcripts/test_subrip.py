"""SRT parsing: cue numbers optional, encodings, speakers only when the whole file uses them."""

import codecs

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, srt, write_transcript
from oralhist.transcripts.model import Segment

SAMPLE = (
    "1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>\n\n"
    '2\n00:00:03,000 --> 00:00:04,000\n<font color="red">Bye</font> {\\an8}now\n'
)


def test_basic_cues_and_formatting_tags():
    result = srt.parse(SAMPLE, "a.srt")
    assert result.segments == [
        Segment(1000, 2500, None, "Hello there"),
        Segment(3000, 4000, None, "Bye now"),
    ]
    assert result.lines == [2, 6]


def test_without_cue_numbers_and_without_blank_lines():
    text = (
        "00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n"
        "00:00:05,000 --> 00:00:06,000\nThree"
    )
    assert [s.text for s in srt.parse(text, "a.srt").segments] == ["One", "Two", "Three"]


def test_speakers_only_when_every_cue_has_a_label():
    labelled = (
        "1\n00:00:01,000 --> 00:00:02,000\nSCHNEIDER: Hi\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nSarah Jones: Hello\nagain\n"
    )
    result = srt.parse(labelled, "a.srt")
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("SCHNEIDER", "Hi"),
        ("Sarah Jones", "Hello\nagain"),
    ]
    mixed = (
        "1\n00:00:01,000 --> 00:00:02,000\nNote: this\n\n2\n00:00:03,000 --> 00:00:04,000\nplain\n"
    )
    assert [s.speaker for s in srt.parse(mixed, "a.srt").segments] == [None, None]
    assert srt.parse(mixed, "a.srt").segments[0].text == "Note: this"


def test_dot_separator_is_accepted_when_consistent():
    text = "1\n00:00:01.000 --> 00:00:02.000\nx\n"
    assert srt.parse(text, "a.srt").segments[0].end_ms == 2000


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("1\n00:00:01 --> 00:00:10\nno millis\n", 2, "bad cue timing"),
        ("1\n00:00:01,000 --> 00:00:02.000\nmixed\n", 2, "mixes"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03.000 --> 00:00:04.000\nx\n",
            6,
            "mixes",
        ),
        ("1\nsome text\n", 2, "not followed by a timing line"),
        ("some text\n", 1, "expected a cue number"),
        ("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", 2, "ends"),
    ],
)
def test_rejections(text, line, reason):
    with pytest.raises(TranscriptError) as caught:
        srt.parse(text, "bad.srt")
    assert caught.value.line == line
    assert f"bad.srt, line {line}" in str(caught.value)
    assert reason in caught.value.reason


def test_empty_cue_text_is_kept_with_a_warning():
    result = srt.parse(
        "1\n00:00:01,000 --> 00:00:02,000\n\n\n2\n00:00:03,000 --> 00:00:04,000\nx\n", "a.srt"
    )
    assert [s.text for s in result.segments] == ["", "x"]
    assert result.warnings[0].line == 2


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_unicode_with_byte_order_marks(codec):
    text = "1\n00:00:01,000 --> 00:00:02,000\nÉvénement 日本語\n"
    data = text.encode(codec)
    if codec in {"utf-16-be", "utf-32-be"}:
        bom = codecs.BOM_UTF16_BE if codec == "utf-16-be" else codecs.BOM_UTF32_BE
        data = bom + data
    assert parse_transcript(data, "x.srt").segments[0].text == "Événement 日本語"


def test_legacy_encodings_are_detected():
    text = "1\n00:00:01,000 --> 00:00:02,000\nIl était une fois, à l'époque où le câble.\n"
    segments = parse_transcript(text.encode("cp1252"), "fr.srt").segments
    assert segments[0].text == "Il était une fois, à l'époque où le câble."
    chinese = "1\n00:00:01,000 --> 00:00:02,000\n宇宙守护神 保护我们远离邪恶 他能徒手抓住子弹\n"
    assert parse_transcript(chinese.encode("gb2312"), "zh.srt").segments[0].text.startswith("宇宙")


def test_garbled_text_is_refused_not_stored():
    mojibake = "1\n00:00:01,000 --> 00:00:02,000\nIt’s été\n".encode().decode("cp1252")
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(mojibake.encode("utf-8"), "double.srt")
    assert caught.value.line == 3 and "double-encoded" in caught.value.reason
    damaged = "1\n00:00:01,000 --> 00:00:02,000\nbad \ufffd char\n".encode()
    with pytest.raises(TranscriptError, match=r"damaged.srt, line 3: contains U\+FFFD"):
        parse_transcript(damaged, "damaged.srt")
    with pytest.raises(TranscriptError, match="not a text file"):
        parse_transcript(b"1\n00:00:01,000 --> 00:00:02,000\nx\x00y\n", "nul.srt")
    with pytest.raises(TranscriptError, match="UTF-16"):
        parse_transcript(codecs.BOM_UTF16_LE + b"\x00\xd8", "broken.srt")


def test_writer_round_trip_with_speakers():
    segments = [Segment(0, 1000, "KC", "one\ntwo"), Segment(1000, 2500, "Sarah Jones", "three")]
    out = write_transcript(segments, "srt")
    assert out.startswith("1\n00:00:00,000 --> 00:00:01,000\nKC: one\ntwo\n\n2\n")
    assert srt.parse(out, "x.srt").segments == segments


def test_one_digit_minutes_and_seconds_are_read_as_pysrt_does():
    result = parse_transcript(b"1\n00:00:0,000 --> 00:0:2,500\nx\n", "one.srt")
    assert (result.segments[0].start_ms, result.segments[0].end_ms) == (0, 2500)


def test_mixed_and_lower_case_speakers_and_label_like_text_survive_a_round_trip():
    segments = [
        Segment(0, 1000, "KC", "Hello."),
        Segment(1000, 2000, None, "NOTE TO FILE: the tape hisses."),
        Segment(2000, 3000, "dave", "hi"),
        Segment(3000, 4000, "Sarah Jones", "Once only."),
        Segment(4000, 5000, None, "plain"),
    ]
    out = write_transcript(segments, "srt")
    assert "\n<i></i>NOTE TO FILE: the tape hisses.\n" in out
    assert "\n<b>dave:</b> hi\n" in out and "\nKC: Hello.\n" in out
    assert srt.parse(out, "x.srt").segments == segments


def test_a_stray_capitals_label_in_an_unlabelled_file_stays_text():
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nWARNING: loud noise\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nplain\n\n3\n00:00:05,000 --> 00:00:06,000\nmore\n"
    )
    assert [s.speaker for s in srt.parse(text, "a.srt").segments] == [None, None, None]
