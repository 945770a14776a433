"""Transcripts: timecodes, and a parser and writer per format. Pure Python: no Flask, no db.

``parse_transcript`` turns an uploaded file into a :class:`ParseResult` or raises
:class:`~oralhist.errors.TranscriptError` naming the file, the line and the reason;
``write_transcript`` exports segments in any of the same formats.

The format is recognised from the content first (a ``WEBVTT`` line, an OHMS ``<ROOT>`` or
``<record>``, JSON, SRT cue timings), and the file name's extension only breaks ties: cue
timings without a ``WEBVTT`` line are SRT unless the file is called ``.vtt`` (then the
WebVTT parser says the header is missing), YouTube SubViewer timings are ``sbv``, and text
without any recognisable structure is plain text unless the extension names another format.
Word ``.docx`` documents are recognised by their content (a ZIP with
``word/document.xml``). Known formats this archive does not read (ASS/SSA, TTML, PDF, RTF,
Word 97-2003 ``.doc``) are refused with a
message saying what to do instead, rather than being imported as garbage plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from oralhist.errors import TranscriptError

from . import docx, ohms, plain, sbv, srt, vtt, whisper_json
from .decoding import checked_text, decode_transcript, decode_utf8, sniff_text
from .model import IndexPoint, ParseResult, ParseWarning, Segment, Word
from .timecode import format_t_param, format_timecode, parse_t_param, parse_timecode

__all__ = [
    "FORMATS",
    "IndexPoint",
    "ParseResult",
    "ParseWarning",
    "Segment",
    "Word",
    "detect_format",
    "format_t_param",
    "format_timecode",
    "parse_t_param",
    "parse_timecode",
    "parse_transcript",
    "write_transcript",
]

FORMATS = ("vtt", "srt", "ohms", "txt", "json", "sbv", "docx")
DEFAULT_MAX_BYTES = 25 * 1024 * 1024

_EXTENSIONS = {
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".srt": "srt",
    ".xml": "ohms",
    ".ohms": "ohms",
    ".txt": "txt",
    ".text": "txt",
    ".json": "json",
    ".sbv": "sbv",
    ".docx": "docx",
}
_UNSUPPORTED_EXTENSIONS = {
    ".sub": "MicroDVD/SubViewer (.sub) captions",
    ".ass": "Advanced SubStation (.ass) subtitles",
    ".ssa": "SubStation Alpha (.ssa) subtitles",
    ".ttml": "TTML captions",
    ".dfxp": "DFXP captions",
    ".scc": "Scenarist (.scc) captions",
    ".doc": "a Word document",
    ".odt": "an OpenDocument text",
    ".rtf": "an RTF document",
    ".pdf": "a PDF",
}
_MAGIC = (
    (b"PK\x03\x04", "a Word/ZIP document"),
    (b"%PDF", "a PDF"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "a Word 97-2003 document"),
)
_ADVICE = "save or export it as WebVTT, SRT, OHMS XML, JSON or plain text"
_SRT_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}[,.]\d+\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d+", re.M)
_SBV_TIMING = re.compile(r"^\s*\d+:\d{2}:\d{2}\.\d{3},\d+:\d{2}:\d{2}\.\d{3}\s*$", re.M)
_OHMS_ROOT = re.compile(r"<(?:[\w.-]+:)?(?:ROOT|record)[\s>/]")
_MARKUP = re.compile(r"<(?:\?xml|!DOCTYPE|html[\s>]|tt[\s>])", re.IGNORECASE)
_ASS = re.compile(r"^\s*\[Script Info\]", re.M)


def _extension(filename: str | None) -> str:
    return PurePath(filename).suffix.lower() if filename else ""


def detect_format(data: bytes, filename: str | None = None) -> str:
    """One of :data:`FORMATS`, from the content first and the extension as tie-breaker.

    Raises :class:`TranscriptError` for content that is recognisably a format this archive
    does not read (SBV, ASS, Word, PDF...).
    """
    if docx.is_docx(data):
        return "docx"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise TranscriptError(f"is {what}, not a transcript file; {_ADVICE}", filename=filename)
    head = sniff_text(data).lstrip("\ufeff \t\r\n")
    extension = _extension(filename)
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("<") and _OHMS_ROOT.search(head):
        return "ohms"
    if _MARKUP.match(head) or (head.startswith("<") and extension in {".xml", ".html", ".htm"}):
        raise TranscriptError(
            f"is XML or HTML but not an OHMS export (no <ROOT>/<record>); {_ADVICE}",
            filename=filename,
            line=1,
        )
    if head.startswith("{") or re.match(r"\[\s*(?:\{|\])", head):
        return "json"
    if _SRT_TIMING.search(head):
        return "vtt" if extension in {".vtt", ".webvtt"} else "srt"
    if _SBV_TIMING.search(head):
        return "sbv"
    if _ASS.search(head):
        raise TranscriptError(
            f"holds ASS/SSA subtitles, which this archive does not read; {_ADVICE}",
            filename=filename,
        )
    if extension in _UNSUPPORTED_EXTENSIONS:
        raise TranscriptError(
            f"is named like {_UNSUPPORTED_EXTENSIONS[extension]}, which this archive does not "
            f"read; {_ADVICE}",
            filename=filename,
        )
    if extension in _EXTENSIONS and _EXTENSIONS[extension] != "ohms":
        return _EXTENSIONS[extension]
    return "txt"


_PARSERS = {
    "vtt": vtt.parse,
    "srt": srt.parse,
    "txt": plain.parse,
    "json": whisper_json.parse,
    "sbv": sbv.parse,
}


def parse_transcript(
    data: bytes,
    filename: str,
    fmt: str | None = None,
    *,
    duration_ms: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParseResult:
    """Parse an uploaded transcript. ``fmt`` overrides detection; ``duration_ms`` (the
    recording's length) turns times past the end into warnings."""
    if len(data) > max_bytes:
        raise TranscriptError(
            f"is {len(data):,} bytes; transcripts may be at most {max_bytes:,} bytes",
            filename=filename,
        )
    if fmt is not None and fmt not in FORMATS:
        raise TranscriptError(
            f"format {fmt!r} is not one of {', '.join(FORMATS)}", filename=filename
        )
    if not data.strip() or not sniff_text(data).strip("\ufeff \t\r\n\x00"):
        raise TranscriptError("is empty: it has no cues or text", filename=filename)
    fmt = fmt or detect_format(data, filename)
    if fmt == "ohms":
        return ohms.parse(data, filename, duration_ms=duration_ms)
    if fmt == "docx":
        return docx.parse(data, filename, duration_ms=duration_ms)
    if fmt in {"vtt", "json"}:
        what = "WebVTT" if fmt == "vtt" else "JSON"
        text = checked_text(decode_utf8(data, filename, what), filename, webvtt=fmt == "vtt")
    else:
        text = decode_transcript(data, filename)
    return _PARSERS[fmt](text, filename, duration_ms=duration_ms)


def write_transcript(
    segments: Sequence[Segment],
    fmt: str,
    *,
    index_points: Sequence[IndexPoint] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Export ``segments`` as ``fmt``. Index points are kept by ``json`` and ``ohms`` only;
    ``vtt`` keeps metadata in a NOTE, ``txt`` as its header lines, ``srt`` not at all.
    WebVTT, SRT and OHMS need timed segments (TranscriptError otherwise)."""
    if fmt == "vtt":
        return vtt.write(segments, metadata=metadata)
    if fmt == "srt":
        return srt.write(segments, metadata=metadata)
    if fmt == "sbv":
        return sbv.write(segments, metadata=metadata)
    if fmt == "txt":
        return plain.write(segments, metadata=metadata)
    if fmt == "json":
        return whisper_json.write(segments, index_points=index_points, metadata=metadata)
    if fmt == "ohms":
        return ohms.write(segments, index_points=index_points, metadata=metadata)
    raise ValueError(f"unknown transcript format {fmt!r}; expected one of {', '.join(FORMATS)}")
