"""WebVTT import and export.

Hand-written after the W3C WebVTT parsing rules rather than webvtt-py, because the importer
must name the line of every problem and keep ``<v>`` voices as speakers, which the library
does not expose. Followed from the spec: optional BOM, CR/LF/CRLF, the ``WEBVTT`` line and
its header lines, NOTE/STYLE/REGION blocks skipped, optional cue identifiers, cue settings
ignored, optional hours, a line containing ``-->`` ending the cue text before it (it starts
the next cue), the cue-text tokenizer (``<`` opens a tag until ``>``), HTML character
references decoded.

Decisions where an archive importer differs from a caption renderer:

* A block without a timing line (W3C: silently dropped) is an error naming its line: it is
  most likely a cue whose timing was damaged, and dropping speech silently is worse.
* Lines holding only whitespace count as blank lines.
* ``<v Name>`` (also ``<v.loud Name>``) gives the speaker; when a cue has several different
  voices the first is used and a warning names the line. ``<br>`` (found in OHMS exports)
  becomes a line break; ``<rt>`` ruby annotations are dropped; every other tag (``<c>``,
  ``<i>``, ``<b>``, ``<u>``, ``<ruby>``, ``<lang>``, inline timestamps) is removed, keeping
  its text.
* Cue text lines are joined with ``\\n`` (the model then normalises whitespace); a cue with
  no text is kept (its timing may matter) with a warning.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text, split_lines
from .model import ParseResult, ParseWarning, Segment
from .timecode import format_timecode

FORMAT = "vtt"

_HEADER = re.compile(r"WEBVTT(?:[ \t].*)?")
_TS = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"[ \t]*{_TS}[ \t]*-->[ \t]*{_TS}(?:[ \t].*)?")
_SKIPPED_BLOCK = re.compile(r"(?:NOTE(?:[ \t].*)?|STYLE[ \t]*|REGION[ \t]*)")
_TAG = re.compile(r"<([^>]*)(?:>|$)")
_TAG_NAME = re.compile(r"/?([^\s./>]*)")


def _blank(line: str) -> bool:
    return not line.strip()


def _ms(groups: Sequence[str | None]) -> int:
    hours, minutes, seconds, millis = groups
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse_timing(line: str) -> tuple[int, int] | None:
    """``(start_ms, end_ms)`` from a WebVTT cue timing line, or ``None``."""
    match = _TIMING.fullmatch(line)
    if not match:
        return None
    groups = match.groups()
    return _ms(groups[:4]), _ms(groups[4:])


def cue_text_to_plain(raw: str) -> tuple[list[str], str]:
    """``(voices, text)`` from WebVTT cue text: tags removed, references decoded."""
    voices: list[str] = []
    pieces: list[str] = []
    in_ruby_text = False
    position = 0
    for match in _TAG.finditer(raw):
        if not in_ruby_text:
            pieces.append(raw[position : match.start()])
        position = match.end()
        tag = match.group(1)
        name = _TAG_NAME.match(tag).group(1).lower()
        if tag.startswith("/"):
            if name == "rt":
                in_ruby_text = False
            continue
        if name == "v":
            parts = tag.split(None, 1)
            if len(parts) == 2:
                voices.append(html.unescape(parts[1]))
        elif name == "br":
            pieces.append("\n")
        elif name == "rt":
            in_ruby_text = True
    if not in_ruby_text:
        pieces.append(raw[position:])
    return voices, html.unescape("".join(pieces))


def parse(
    source: str | bytes,
    filename: str = "transcript.vtt",
    *,
    duration_ms: int | None = None,
    line_offset: int = 0,
    ohms: bool = False,
) -> ParseResult:
    """Parse WebVTT. ``line_offset`` shifts reported lines (WebVTT embedded in OHMS XML);
    ``ohms`` accepts the OHMS habit of ending the last cue at ``00:00:00.000`` (stored as
    an unknown end, with a warning)."""
    lines = split_lines(as_text(source, filename))
    count = len(lines)

    def where(index: int) -> int:
        return index + 1 + line_offset

    if not _HEADER.fullmatch(lines[0]):
        if all(_blank(line) for line in lines):
            raise TranscriptError("is empty: no WEBVTT header and no cues", filename=filename)
        raise TranscriptError(
            "does not start with the 'WEBVTT' line that every WebVTT file begins with",
            filename=filename,
            line=where(0),
        )
    i = 1
    while i < count and not _blank(lines[i]) and "-->" not in lines[i]:
        i += 1  # header lines ("Kind: captions", ...)

    segments: list[Segment] = []
    seg_lines: list[int | None] = []
    warnings: list[ParseWarning] = []
    while i < count:
        if _blank(lines[i]):
            i += 1
            continue
        first = lines[i]
        if "-->" not in first and _SKIPPED_BLOCK.fullmatch(first.strip()):
            while i < count and not _blank(lines[i]):
                i += 1
            continue
        if "-->" in first:
            timing_index = i
        elif i + 1 < count and "-->" in lines[i + 1]:
            timing_index = i + 1  # the first line is the cue identifier
        else:
            raise TranscriptError(
                f"expected a cue timing line such as '00:00:01.000 --> 00:00:04.000', "
                f"found {first.strip()[:60]!r}",
                filename=filename,
                line=where(i),
            )
        timing = parse_timing(lines[timing_index])
        if timing is None:
            raise TranscriptError(
                f"bad cue timing {lines[timing_index].strip()[:80]!r}: expected "
                "'hh:mm:ss.ttt --> hh:mm:ss.ttt' (hours optional, three decimals)",
                filename=filename,
                line=where(timing_index),
            )
        start, end = timing
        j = timing_index + 1
        while j < count and not _blank(lines[j]) and "-->" not in lines[j]:
            j += 1
        voices, text = cue_text_to_plain("\n".join(lines[timing_index + 1 : j]))
        line = where(timing_index)
        if len(set(voices)) > 1:
            warnings.append(
                ParseWarning(
                    line,
                    f"cue has several voices ({', '.join(voices)}); "
                    f"the first, {voices[0]!r}, is kept as its speaker",
                )
            )
        end_ms: int | None = end
        if ohms and end == 0 and start > 0:
            end_ms = None
            warnings.append(ParseWarning(line, "cue ends at 00:00:00.000 (OHMS: end unknown)"))
        segment = Segment(start, end_ms, voices[0] if voices else None, text)
        if not segment.text:
            warnings.append(ParseWarning(line, "cue has no text"))
        segments.append(segment)
        seg_lines.append(line)
        i = j

    if not segments and not ohms:
        raise TranscriptError("has no cues", filename=filename)
    check_timing(segments, seg_lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, [], {}, seg_lines)


def escape(text: str) -> str:
    """Escape text for a WebVTT cue (``>`` too, so no line can contain ``-->``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cue_times(segments: Sequence[Segment], index: int, fmt_name: str) -> tuple[int, int]:
    """Start and end for a writer that needs both; a missing end becomes the next
    segment's start (or the cue's own start for the last one)."""
    segment = segments[index]
    if segment.start_ms is None:
        raise TranscriptError(
            f"cannot be written as {fmt_name}: segment {index + 1} has no time "
            "(export untimed transcripts as txt or json)"
        )
    if segment.end_ms is not None:
        return segment.start_ms, segment.end_ms
    following = segments[index + 1].start_ms if index + 1 < len(segments) else None
    if following is not None and following >= segment.start_ms:
        return segment.start_ms, following
    return segment.start_ms, segment.start_ms


def write(segments: Sequence[Segment], *, metadata: Mapping[str, str] | None = None) -> str:
    """WebVTT with ``<v Speaker>`` voices; metadata goes into a leading NOTE block."""
    out = ["WEBVTT", ""]
    notes = [
        f"{key}: {' '.join(str(value).split())}".replace("-->", "->")
        for key, value in (metadata or {}).items()
        if str(value).strip()
    ]
    if notes:
        out += ["NOTE", *notes, ""]
    for index, segment in enumerate(segments):
        start, end = cue_times(segments, index, "WebVTT")
        out.append(f"{format_timecode(start)} --> {format_timecode(end)}")
        text_lines = escape(segment.text).split("\n") if segment.text else []
        if segment.speaker:
            voice = f"<v {escape(segment.speaker)}>"
            text_lines = [voice + (text_lines[0] if text_lines else ""), *text_lines[1:]]
        out += text_lines
        out.append("")
    return "\n".join(out)
