"""WebVTT as browsers read it (W3C parser algorithm, issue 13 item 1), on our own inputs.

``bench/wpt_webvtt.py`` runs the web-platform-tests suite itself; these tests pin each
behaviour the issue names, so that a regression shows up without a wpt checkout.
"""

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, vtt, write_transcript
from oralhist.transcripts.model import Segment


def parse(text: str, **kwargs):
    return vtt.parse(text, "talk.vtt", **kwargs)


def cues(text: str) -> list[tuple[str, int, int, str]]:
    return [(c.id, c.start_ms, c.end_ms, c.text) for c in vtt.parse_cues(text).cues]


def test_a_bad_block_is_dropped_with_a_warning_and_the_rest_kept():
    result = parse(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n\n"
        "00:00:03.000 --> 00:00:0x.000\nbroken\n\n"
        "stray text\n\n"
        "00:00:05.000 --> 00:00:06.000\nthree\n"
    )
    assert [s.text for s in result.segments] == ["one", "three"]
    assert [(w.line, w.message.split(" (")[0]) for w in result.warnings] == [
        (6, "bad cue timing '00:00:03.000 --> 00:00:0x.000'"),
        (9, "block without a cue timing line"),
    ]


def test_a_file_with_no_cues_is_refused_with_the_first_dropped_block():
    with pytest.raises(TranscriptError) as caught:
        parse("WEBVTT\n\n00:00:01.000 --> 00:00:02.0\nx\n")
    assert caught.value.line == 3
    assert "has no cues" in caught.value.reason
    assert "bad cue timing" in caught.value.reason


def test_nul_becomes_replacement_character_and_u_fffd_is_kept():
    result = parse_transcript(
        b"WEBVTT\n\nid\x00\n00:00:01.000 --> 00:00:02.000\n\xef\xbf\xbdtext\x003\n", "n.vtt"
    )
    assert result.segments[0].text == "\ufffdtext\ufffd3"
    assert result.segments[0].cue_id == "id\ufffd"


def test_whitespace_only_line_stays_inside_the_cue():
    result = parse("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n   \nsecond\n")
    assert [s.text for s in result.segments] == ["first\nsecond"]


@pytest.mark.parametrize(
    ("timing", "start", "end"),
    [
        ("0:00:00.000 --> 0:00:01.500", 0, 1500),  # one-digit hours
        ("\f\f00:00:00.000\f-->\f00:00:01.500\f", 0, 1500),  # form feed as spacing
        ("000:00:00.000 --> 00:00:01.500", 0, 1500),  # three-digit hours
        ("00:00.000 --> 00:01.500", 0, 1500),  # hours omitted
    ],
)
def test_timings_browsers_accept(timing, start, end):
    assert cues(f"WEBVTT\n\n{timing}\nx\n") == [("", start, end, "x")]


@pytest.mark.parametrize(
    "timing",
    ["00:00:0.000 --> 00:00:01.000", "00:00:00.0000 --> 00:00:01.000", "00:0:00.000 --> x"],
)
def test_timings_browsers_drop(timing):
    found = vtt.parse_cues(f"WEBVTT\n\n{timing}\nx\n")
    assert found.cues == []
    assert found.dropped[0].line == 3


def test_end_before_start_is_kept_with_an_unknown_end():
    result = parse("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n")
    assert result.segments == [Segment(5000, None, None, "backwards")]
    assert "before it starts" in result.warnings[0].message


def test_settings_glued_to_the_timestamp_and_invalid_ones_dropped():
    found = vtt.parse_cues(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000align:end size:200% line:1%,middle\nx\n"
    )
    # "line:1%,middle": an unknown line alignment drops the whole setting (wpt settings-line)
    assert found.cues[0].settings == {"align": "end"}


def test_note_or_style_followed_by_a_timing_line_is_a_cue_with_that_id():
    assert cues("WEBVTT\n\nNOTE\n00:00:01.000 --> 00:00:02.000\nkept\n") == [
        ("NOTE", 1000, 2000, "kept")
    ]


def test_a_line_with_an_arrow_ends_the_cue_text():
    assert cues(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\none\nfoo-->\n00:00:02.000 --> 00:00:03.000\ntwo\n"
    ) == [
        ("", 0, 1000, "one"),
        ("", 2000, 3000, "two"),
    ]


def test_signature_must_be_followed_by_space_tab_or_newline():
    with pytest.raises(vtt.SignatureError):
        vtt.parse_cues("WEBVTTX\n")
    assert vtt.parse_cues("WEBVTT\tcaptions\n\n00:01.000 --> 00:02.000\nx").cues


def test_cue_ids_and_settings_survive_vtt_export_and_reimport():
    source = (
        "WEBVTT\n\nintro\n00:00:01.000 --> 00:00:02.000 line:10% align:start\n<v A>Hi\n\n"
        "00:00:02.000 --> 00:00:03.000 position:20%,line-left\nBye\n"
    )
    first = parse(source)
    again = parse(write_transcript(first.segments, "vtt"))
    assert again.segments == first.segments
    assert first.segments[0].cue_id == "intro"
    assert first.segments[0].cue_settings == "line:10% align:start"
    assert first.segments[1].cue_settings == "position:20%,line-left"


def test_ms_teams_timings_are_read_leniently_with_a_warning():
    result = parse(
        "WEBVTT\n\n0:0:0.0 --> 0:0:3.250\n<v Jane Doe>Hello everyone.</v>\n\n"
        "0:0:3.250 --> 0:0:5.5\n<v John>Hi.</v>\n"
    )
    assert [(s.start_ms, s.end_ms, s.speaker) for s in result.segments] == [
        (0, 3250, "Jane Doe"),
        (3250, 5500, "John"),
    ]
    assert "MS Teams" in result.warnings[0].message


def test_timestamp_tags_become_word_timings_and_are_written_back():
    result = parse("WEBVTT\n\n00:01.000 --> 00:03.000\nOne <00:01.500>two <00:02.250>three\n")
    segment = result.segments[0]
    assert segment.text == "One two three"
    assert [(w.text, w.start_ms, w.end_ms) for w in segment.words] == [
        ("One", 1000, 1500),
        ("two", 1500, 2250),
        ("three", 2250, 3000),
    ]
    out = write_transcript(result.segments, "vtt")
    assert "<00:00:01.000>One <00:00:01.500>two <00:00:02.250>three" in out
    assert parse(out).segments == result.segments


def test_ids_with_spaces_survive_export():
    source = "WEBVTT\n\n leading\n00:01.000 --> 00:02.000\na\n\n \n00:02.000 --> 00:03.000\nb\n"
    first = parse(source)
    assert [s.cue_id for s in first.segments] == [" leading", " "]
    assert parse(write_transcript(first.segments, "vtt")).segments == first.segments
