"""Word .docx transcripts (issue 13 item 4): the real sample and documents made here."""

import io
import zipfile

import pytest
from docx import Document

from oralhist.errors import TranscriptError
from oralhist.transcripts import detect_format, parse_transcript
from oralhist.transcripts import docx as word
from tests.conftest import testdata as shared_file


def make(paragraphs, *, title: str = "", table=None) -> bytes:
    """A .docx with one paragraph per item; an item may be [(text, bold), ...] runs."""
    document = Document()
    document.core_properties.title = title
    for item in paragraphs:
        paragraph = document.add_paragraph()
        for text, bold in [(item, False)] if isinstance(item, str) else item:
            paragraph.add_run(text).bold = bold
    if table:
        grid = document.add_table(rows=0, cols=len(table[0]))
        for row in table:
            cells = grid.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_real_sample_with_timecodes_and_sessions():
    path = shared_file("scihist", "oh_docx", "sample-oh-timecode-need-sequencing.docx")
    data = path.read_bytes()
    assert detect_format(data, path.name) == "docx"
    result = parse_transcript(data, path.name)
    assert result.format == "docx"
    assert {s.speaker for s in result.segments if s.speaker} == {"CARUSO", "SUBJECT", "LEE"}
    first = result.segments[0]
    assert (first.start_ms, first.speaker) == (1000, "CARUSO")
    assert result.segments[1].start_ms == 29_000
    # The second audio file restarts at [00:00:01]: kept in file order, with a warning.
    assert any("kept in file order" in w.message for w in result.warnings)


def test_bold_and_plain_labels_timecodes_and_header_fields():
    data = make(
        [
            "TITLE: Life at the bicycle works",
            "NARRATOR: Ruth Adler",
            "INTERVIEWER: Thomas Whitfield",
            "DATE: 7 February 1994",
            [("[00:00:05] ", False), ("ADLER:", True), (" We started in 1931.", False)],
            "[00:01:10] WHITFIELD: And then?",
            [("ADLER:", True), (" Then the war came.", False)],
        ]
    )
    result = parse_transcript(data, "adler.docx")
    assert result.header["title"] == "Life at the bicycle works"
    assert result.header["interviewee"] == "Ruth Adler"
    assert result.header["interviewer"] == "Thomas Whitfield"
    assert result.header["date"] == "7 February 1994"
    assert [(s.start_ms, s.speaker, s.text) for s in result.segments] == [
        (5000, "ADLER", "We started in 1931."),
        (70_000, "WHITFIELD", "And then?"),
        (None, "ADLER", "Then the war came."),
    ]


def test_untimed_document_is_an_untimed_transcript_and_title_property_used():
    data = make(["SMITH: Where were you born?", "JONES: In Leeds."], title="Jones interview")
    result = parse_transcript(data, "jones.docx")
    assert all(s.start_ms is None for s in result.segments)
    assert [s.speaker for s in result.segments] == ["SMITH", "JONES"]
    assert result.header["title"] == "Jones interview"


def test_a_time_speaker_text_table():
    data = make([], table=[["00:00:01", "SMITH", "Hello."], ["00:00:04", "JONES", "Hi."]])
    result = parse_transcript(data, "table.docx")
    assert [(s.start_ms, s.speaker, s.text) for s in result.segments] == [
        (1000, "SMITH", "Hello."),
        (4000, "JONES", "Hi."),
    ]


def test_a_zip_bomb_is_refused_before_it_is_expanded(monkeypatch):
    monkeypatch.setattr(word, "MAX_UNZIPPED", 10_000)
    data = make(["SMITH: " + "word " * 5000])
    with pytest.raises(TranscriptError, match="expands to"):
        parse_transcript(data, "bomb.docx")


@pytest.mark.parametrize(
    "data",
    [
        make([]),
        b"PK\x03\x04broken",
    ],
)
def test_empty_or_broken_documents_are_refused_by_name(data):
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(data, "w.docx")
    assert caught.value.filename == "w.docx"


def test_a_zip_that_is_not_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(TranscriptError, match="ZIP"):
        parse_transcript(out.getvalue(), "x.docx")
