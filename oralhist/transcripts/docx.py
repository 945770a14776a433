"""Word ``.docx`` transcripts, read with python-docx and then as plain text.

Most oral-history transcripts exist as Word documents. The document's body is turned into
plain text in reading order (paragraphs, and table rows as paragraphs), one paragraph per
blank-line-separated block, soft line breaks kept as line breaks, and then read by
``plain.py``: ``NAME:`` turns (bold or not: the label is the text either way),
``[hh:mm:ss]`` timecodes, the header block (``TITLE:``, ``NARRATOR:``/``INTERVIEWEE:``,
``INTERVIEWER:``, ``DATE:``, ``LOCATION:``) offered to the catalogue, and untimed text
accepted as an untimed transcript. The document's own title property fills ``title``
when the text has none. Lines in messages count lines of that text (a paragraph with a
soft break is two lines).

A ``.docx`` is a ZIP: its members' declared sizes are checked before anything is
decompressed, so a small upload cannot expand into gigabytes. python-docx parses the XML
with lxml, entities unresolved and no network access.
"""

from __future__ import annotations

import io
import re
import zipfile

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from oralhist.errors import TranscriptError

from . import plain
from .model import ParseResult

FORMAT = "docx"
#: Decompressed size a .docx may reach: 200 MB (a 1,000-page transcript is ~5 MB of XML).
MAX_UNZIPPED = 200 * 1024 * 1024
_TIMECODE_CELL = re.compile(r"\[?(\d{1,2}:)?\d{1,2}:\d{2}(\.\d{1,3})?\]?")


def is_docx(data: bytes) -> bool:
    """A ZIP holding ``word/document.xml``."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _paragraphs(document) -> list[str]:
    """The body's paragraphs and table rows in document order."""
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            blocks.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if cells and _TIMECODE_CELL.fullmatch(cells[0]):
                    cells[0] = f"[{cells[0].strip('[]')}]"  # time | speaker | text tables
                if len(cells) >= 3 and len(cells[1]) <= 60 and not cells[1].endswith(":"):
                    cells[1] += ":"
                blocks.append(" ".join(cells))
    return blocks


def to_text(data: bytes, filename: str) -> tuple[str, str]:
    """``(text, title)``: the document as plain text, and its title property."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise TranscriptError(
            "is not a readable Word (.docx) document", filename=filename
        ) from error
    if unzipped > MAX_UNZIPPED:
        raise TranscriptError(
            f"expands to {unzipped:,} bytes; a Word transcript may expand to at most "
            f"{MAX_UNZIPPED:,}",
            filename=filename,
        )
    try:
        document = Document(io.BytesIO(data))
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        XMLSyntaxError,
        zipfile.BadZipFile,
    ) as error:
        raise TranscriptError(
            f"is not a readable Word (.docx) document ({error})", filename=filename
        ) from error
    paragraphs = [p.replace("\r", "\n").replace("\x0b", "\n") for p in _paragraphs(document)]
    text = "\n\n".join(p.strip("\n") for p in paragraphs if p.strip())
    return text, (document.core_properties.title or "").strip()


def parse(
    data: bytes, filename: str = "transcript.docx", *, duration_ms: int | None = None
) -> ParseResult:
    text, title = to_text(data, filename)
    if not text.strip():
        raise TranscriptError("is empty: the Word document has no text", filename=filename)
    result = plain.parse(text, filename, duration_ms=duration_ms)
    result.format = FORMAT
    if title and "title" not in result.header:
        result.header["title"] = title
    return result
