"""Plain-text transcripts: speakers, timecodes, header block, untimed text."""

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, plain, write_transcript
from oralhist.transcripts.model import Segment


def parse(text: str, **kwargs):
    return plain.parse(text, "t.txt", **kwargs)


def test_header_speakers_and_timecodes():
    result = parse(
        "  \ufeffINTERVIEWEE:  André Isaacs\n\nINTERVIEWERS: Sarah Schneider\nDavid Caruso\n"
        "DATE: 11 December 2023\nLOCATION: via Zoom\n\n"
        "[00:00:05]\nSCHNEIDER:  Okay. So today\nis Monday.\n\n"
        "[00:47] ISAACS: Sure.\n\nSecond paragraph.\n"
        "[00:01:02.5]\nMore from Isaacs.\n"
        "[1:00:00] KC: Initials work.\n",
        duration_ms=4_000_000,
    )
    assert result.header == {
        "interviewee": "André Isaacs",
        "interviewer": "Sarah Schneider; David Caruso",
        "date": "11 December 2023",
        "location": "via Zoom",
    }
    assert result.segments == [
        Segment(5000, 47000, "SCHNEIDER", "Okay. So today is Monday."),
        Segment(47000, 62500, "ISAACS", "Sure.\nSecond paragraph."),
        Segment(62500, 3_600_000, "ISAACS", "More from Isaacs."),
        Segment(3_600_000, 4_000_000, "KC", "Initials work."),
    ]
    assert result.lines == [8, 12, 15, 17]
    assert result.warnings == []


def test_untimed_turns_abstract_notes_and_headings():
    result = parse(
        "      An abstract of the interview.\n\n\n"
        "INTERVIEWEE: Harland Wood\nINTERVIEWER: James Bohning\n"
        "WOOD: First line\n     Indented paragraph.\n"
        "Sarah Jones: Title-case names count when used twice.\n"
        "WOOD: Reply.\n\n[END OF TAPE]\n\nWOOD: Still me.\n"
        "Sarah Jones: Again.\n\n"
        "NOTES\n\n1. A reference.\n"
    )
    assert result.header["abstract"] == "An abstract of the interview."
    assert result.header["interviewee"] == "Harland Wood"
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("WOOD", "First line\nIndented paragraph."),
        ("Sarah Jones", "Title-case names count when used twice."),
        ("WOOD", "Reply."),
        (None, "[END OF TAPE]"),
        ("WOOD", "Still me."),
        ("Sarah Jones", "Again."),
        (None, "NOTES"),
        (None, "1. A reference."),
    ]
    assert all(s.start_ms is None and s.end_ms is None for s in result.segments)


def test_prose_colons_are_not_speakers():
    result = parse("However: this is prose.\n\nAnd so: is this.\n")
    assert [(s.speaker, s.text) for s in result.segments] == [
        (None, "However: this is prose."),
        (None, "And so: is this."),
    ]


def test_untimed_text_without_labels_is_one_segment_per_paragraph():
    result = parse("First paragraph\nwrapped.\n\nSecond.\n")
    assert result.segments == [
        Segment(None, None, None, "First paragraph wrapped."),
        Segment(None, None, None, "Second."),
    ]


def test_turn_without_timecode_in_a_timed_file_is_warned():
    result = parse("[00:00:01] A: one\nB: two\n[00:00:09] A: three\n")
    assert [(s.start_ms, s.end_ms, s.speaker) for s in result.segments] == [
        (1000, 9000, "A"),
        (None, None, "B"),
        (9000, None, "A"),
    ]
    assert result.warnings[0].line == 2


def test_out_of_order_timecodes_warn_and_bad_ones_stay_text():
    result = parse("[00:00:09] A: one\n[00:00:01] A: two\nsee verse [12:75] here\n")
    assert [s.text for s in result.segments] == ["one", "two see verse [12:75] here"]
    assert {w.line for w in result.warnings} == {2, 3}


@pytest.mark.parametrize("text", ["", "  \n\n", "\ufeff"])
def test_empty(text):
    with pytest.raises(TranscriptError, match="empty"):
        parse(text)


def test_header_only_is_an_error():
    with pytest.raises(TranscriptError, match="no transcript text"):
        parse("INTERVIEWEE: A\nDATE: 1990\n")


def test_writer_format():
    segments = [
        Segment(5000, 7000, "SCHNEIDER", "Hello.\nSecond paragraph."),
        Segment(7250, None, None, "Continued."),
    ]
    out = write_transcript(segments, "txt", metadata={"interviewee": "Ann", "other": "x"})
    assert out == (
        "INTERVIEWEE: Ann\n\n"
        "[00:00:05] SCHNEIDER: Hello.\n\nSecond paragraph.\n\n"
        "[00:00:07.250] Continued.\n"
    )
    untimed = write_transcript(
        [Segment(None, None, "A", "x"), Segment(None, None, None, "y")], "txt"
    )
    assert untimed == "A: x\n\ny\n"


def test_bytes_with_bom_and_windows_line_endings():
    data = "\ufeffA: one\r\n\r\nB: two\r\n".encode()
    result = parse_transcript(data, "x.txt")
    assert [(s.speaker, s.text) for s in result.segments] == [("A", "one"), ("B", "two")]


def test_timecode_like_text_is_escaped_on_export_and_read_back_as_text():
    segments = [
        Segment(1000, 5000, "SMYTH", "He wrote [3:40:29] on the tape."),
        Segment(5000, None, "DOEL", "Yes."),
    ]
    out = write_transcript(segments, "txt")
    assert "\\[3:40:29]" in out
    assert parse_transcript(out.encode(), "x.txt").segments == segments


def test_a_timed_bracketed_note_has_no_speaker():
    text = "[00:00:01] BROCK: Thanks.\n\n[00:00:05] [END OF INTERVIEW]\n"
    result = parse_transcript(text.encode(), "x.txt")
    assert [s.speaker for s in result.segments] == ["BROCK", None]
