"""Bytes -> text for transcript files, refusing rather than guessing wrong.

Per format: WebVTT is UTF-8 by definition (W3C) and JSON by RFC 8259, so they go through
:func:`decode_utf8`: a byte-order mark is honoured, and anything else that is not UTF-8 is
refused naming the line and byte, never guessed as a legacy code page (that is how
``bad \xff\xfe\xc3(`` ended up stored as ``bad ÿþÃ(``). The W3C decoder would replace
the bad bytes with U+FFFD; an archive refuses instead, because the replaced letters are lost
for good while the contributor can re-save the file. SRT and plain text have no declared
encoding and are often legacy-encoded: they go through :func:`decode_transcript`. OHMS XML
declares its own encoding and is decoded by the XML parser.

Legacy order: a byte-order mark decides (UTF-32 before UTF-16, since the UTF-32-LE mark starts
with the UTF-16-LE one); then strict UTF-8; then charset-normalizer for legacy encodings
(windows-1252, GB2312/GB18030, ...). The result is then checked: text containing U+FFFD
(already damaged by an earlier conversion) or UTF-8 read as windows-1252 ("Ã©", "â€™")
is rejected with the line, because a garbled transcript stored is worse than one refused.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from oralhist.errors import TranscriptError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# charset-normalizer "chaos" (percent of odd characters) above which a guess is noise.
_MAX_CHAOS = 10.0  # percent
# Guesses whose chaos is this close to the best one's are equally likely.
_TIE = 0.5
# A run of characters that windows-1252 produces from UTF-8 multi-byte sequences.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]+"
)


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """``(codec, bom length)`` when ``data`` starts with a byte-order mark."""
    for bom, codec, _label in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def sniff_text(data: bytes, limit: int = 65536) -> str:
    """A forgiving decode of the start of ``data``, only for recognising the format."""
    head = data[: limit * 4]
    found = bom_encoding(head)
    if found:
        codec, skip = found
        return head[skip:].decode(codec, errors="replace")[:limit]
    if b"\x00" in head[:1024]:
        even_zeros = head[0:1024:2].count(0)
        odd_zeros = head[1:1024:2].count(0)
        codec = "utf-16-be" if even_zeros > odd_zeros else "utf-16-le"
        return head.decode(codec, errors="replace")[:limit]
    return head.decode("utf-8", errors="replace")[:limit]


def decode_transcript(data: bytes, filename: str | None = None) -> str:
    """Decode a transcript file or raise ``TranscriptError`` naming the encoding problem."""
    found = bom_encoding(data)
    if found:
        codec, skip = found
        label = codec.split("-")[0].upper() + "-" + codec.split("-")[1]
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError as error:
            reason = f"starts with a {label} byte-order mark but is not valid {label} text"
            raise TranscriptError(reason, filename=filename) from error
        return _checked(text, filename)
    if b"\x00" in data:
        raise TranscriptError(
            "is not a text file (it contains NUL bytes); save the transcript as UTF-8 text",
            filename=filename,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(data, filename)
    return _checked(text, filename)


def decode_utf8(data: bytes, filename: str | None, what: str) -> str:
    """Decode a format that must be UTF-8 (``what`` names it in messages).

    A UTF-8, UTF-16 or UTF-32 byte-order mark is honoured (editors on Windows write them);
    invalid bytes are refused with their line, byte column and file offset. NUL and U+FFFD
    are left to the format's parser (WebVTT turns NUL into U+FFFD by the W3C rules).
    """
    found = bom_encoding(data)
    codec, skip = found if found else ("utf-8", 0)
    try:
        return data[skip:].decode(codec)
    except UnicodeDecodeError as error:
        offset = skip + error.start
        line_start = data.rfind(b"\n", 0, offset) + 1
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset : skip + error.end].hex(" ")
        raise TranscriptError(
            f"is not valid {codec.upper()}: line {line}, byte {offset - line_start + 1} "
            f"(offset {offset:,} in the file) holds the bytes {bad}; {what} files must be "
            "UTF-8: save it as UTF-8 and upload it again",
            filename=filename,
            line=line,
        ) from error


def _decode_legacy(data: bytes, filename: str | None) -> str:
    """Legacy 8-bit or CJK encodings via charset-normalizer.

    Short Western texts often fit several code pages equally well (windows-1250 and -1252
    both decode French without "chaos", but not to the same letters). Among the equally
    good guesses windows-1252 wins when it is one of them, being by far the most common
    legacy encoding for the languages it covers; otherwise the guesses must agree.
    """
    results = from_bytes(data)
    best = results.best()
    refuse = TranscriptError(
        "is neither UTF-8 nor an encoding that can be recognised with confidence; "
        "save it as UTF-8 and upload it again",
        filename=filename,
    )
    if best is None or best.encoding in {"utf_8", "ascii"} or best.percent_chaos > _MAX_CHAOS:
        raise refuse
    tied = [m for m in results if m.percent_chaos <= best.percent_chaos + _TIE]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if len({str(m) for m in tied}) > 1:
        names = ", ".join(sorted({m.encoding for m in tied})[:4])
        raise TranscriptError(
            f"could be in any of several encodings ({names}) that give different letters; "
            "save it as UTF-8 and upload it again",
            filename=filename,
        )
    return str(best)


def checked_text(text: str, filename: str | None, *, webvtt: bool = False) -> str:
    """Refuse text that is visibly damaged: NUL characters, U+FFFD replacement characters
    and UTF-8 read as windows-1252. With ``webvtt`` NUL and U+FFFD pass: the W3C parser
    turns NUL into U+FFFD, and a browser shows both."""
    return _checked(text, filename, webvtt=webvtt)


def _checked(text: str, filename: str | None, *, webvtt: bool = False) -> str:
    if "\x00" in text and not webvtt:
        raise TranscriptError("is not a text file (it contains NUL characters)", filename=filename)
    damaged = -1 if webvtt else text.find("\ufffd")
    if damaged >= 0:
        raise TranscriptError(
            "contains U+FFFD replacement characters: the text was damaged by an earlier "
            "conversion; fix the source file",
            filename=filename,
            line=_line_of(text, damaged),
        )
    for match in _MOJIBAKE.finditer(text):
        try:
            repaired = match.group(0).encode("cp1252").decode("utf-8")
        except UnicodeError:
            continue
        if repaired != match.group(0):
            raise TranscriptError(
                f"looks double-encoded ({match.group(0)!r} is UTF-8 read as windows-1252, "
                f"probably {repaired!r}); fix the encoding and upload it again",
                filename=filename,
                line=_line_of(text, match.start()),
            )
    return text


def as_text(source: str | bytes, filename: str | None, *, webvtt: bool = False) -> str:
    """Parsers accept either; bytes go through :func:`decode_transcript` (or, for WebVTT,
    :func:`decode_utf8`)."""
    if isinstance(source, bytes):
        if webvtt:
            return checked_text(decode_utf8(source, filename, "WebVTT"), filename, webvtt=True)
        return decode_transcript(source, filename)
    return source


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with CR, LF and CRLF endings and a leading BOM handled."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
