"""WebVTT import and export, by the W3C WebVTT parser algorithm.

Two layers. :func:`parse_cues` is the W3C "WebVTT parser algorithm" (file parsing, cue
timings and settings, https://www.w3.org/TR/webvtt1/#file-parsing) and nothing else: it
returns exactly the cues a browser keeps (id, times, the settings a browser accepts, raw cue
text) and, for every block a browser drops, the line and the reason. ``bench/wpt_webvtt.py``
checks this layer against the web-platform-tests file-parsing suite. :func:`parse` turns
those cues into the archive's segments:

* a signature other than ``WEBVTT`` refuses the file; a file with no cues at all is refused
  too (an archive import of nothing is a mistake), except inside OHMS XML;
* every dropped block that is not a NOTE, STYLE or REGION block becomes a warning naming its
  line and reason (a bad timing line drops that block only, as in a browser);
* NUL becomes U+FFFD (W3C); the input must be UTF-8 (see ``decoding.py``);
* cue ids and the settings a browser keeps are stored (``Segment.cue_id``/``cue_settings``)
  and written back on export;
* the cue-text tokenizer: ``<v Name>`` voices give speakers, and a cue with several voices
  becomes one segment per voice turn; the cue's time is shared out by the inline timestamps
  (``<00:01:02.500>``) where they mark the turn, otherwise in proportion to the turns'
  lengths (with a warning). Inline timestamps also give word timings. ``<br>`` (OHMS)
  becomes a line break; ``<rt>`` ruby text is dropped; other tags are removed, keeping their
  text; character references are decoded;
* MS Teams writes timings like ``0:0:0.0``, which browsers drop: a file in which no timing
  line is valid WebVTT and one has that unpadded form is read leniently, with a warning
  (a damaged standard file, such as ``00:00:02.00``, is not);
* a segment's footnote is written as a ``NOTE footnote`` block right after its cue (a
  comment to browsers) and read back as that segment's note; a cue with no speaker after
  one with a speaker is written with an empty ``<v>`` so that OHMS readers do not carry
  the previous speaker on. Round-trip limits: a word's end time is read back as the next
  timestamp (WebVTT marks starts only) and its confidence is lost; ``-->`` in a footnote
  becomes ``->``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text
from .model import ParseResult, ParseWarning, Segment, Word
from .timecode import format_timecode

FORMAT = "vtt"

_WHITESPACE = " \t\n\f\r"  # ASCII whitespace as the WebVTT spec uses it
_DIGITS = re.compile(r"[0-9]+")
# MS Teams: hours, minutes and seconds unpadded, 1-3 decimals ("0:0:3.25").
_LENIENT_TS = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})\.(\d{1,3})(?=[ \t\f]|$)")
_TEAMS_TIMING = re.compile(r"\s*\d+:(?:\d:\d{1,2}|\d{1,2}:\d)\.\d{1,3}\s*-->")
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]+)?%")
_LINE_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_SETTING_ORDER = ("vertical", "line", "position", "size", "align", "region")
#: A NOTE block right after a cue, first line exactly this: the cue's footnote. Other NOTE
#: blocks stay comments (dropped), as browsers treat every NOTE block.
FOOTNOTE = "NOTE footnote"


@dataclass
class Cue:
    """A cue as the W3C parser produces it. ``settings`` holds the valid settings, one per
    name (the last valid one wins, as in a browser), as ``name:value`` in file order."""

    id: str
    start_ms: int
    end_ms: int
    settings: dict[str, str]
    text: str
    line: int  # 1-based line of the timing line


@dataclass
class Dropped:
    """A block a browser drops: where it starts, why, and whether it is a comment/style."""

    line: int
    reason: str
    silent: bool = False


@dataclass
class CueList:
    cues: list[Cue] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    #: region id -> its valid settings (``width``, ``lines``, ``regionanchor``,
    #: ``viewportanchor``, ``scroll``) as written; a later REGION with the same id replaces it
    regions: dict[str, dict[str, str]] = field(default_factory=dict)
    #: cue index -> text of the ``NOTE footnote`` block right after it (this archive's own)
    footnotes: dict[int, str] = field(default_factory=dict)


class SignatureError(ValueError):
    """The file does not start with the ``WEBVTT`` signature: browsers load nothing."""


# --- W3C layer -------------------------------------------------------------------------


def _timestamp(text: str, pos: int, *, lenient: bool = False) -> tuple[int, int] | None:
    """W3C "collect a WebVTT timestamp" at ``pos``: ``(ms, new pos)`` or ``None``."""
    if lenient:
        match = _LENIENT_TS.match(text, pos)
        if not match:
            return None
        hours, minutes, seconds, fraction = match.groups()
        if int(minutes) > 59 or int(seconds) > 59:
            return None
        millis = int(fraction.ljust(3, "0"))
        total = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis
        return total, match.end()
    match = _DIGITS.match(text, pos)
    if not match:
        return None
    first = match.group()
    hours_first = len(first) != 2 or int(first) > 59
    pos = match.end()
    if pos >= len(text) or text[pos] != ":":
        return None
    match = _DIGITS.match(text, pos + 1)
    if not match or len(match.group()) != 2:
        return None
    second = match.group()
    pos = match.end()
    if hours_first or (pos < len(text) and text[pos] == ":"):
        if pos >= len(text) or text[pos] != ":":
            return None
        match = _DIGITS.match(text, pos + 1)
        if not match or len(match.group()) != 2:
            return None
        hours, minutes, seconds = int(first), int(second), int(match.group())
        pos = match.end()
    else:
        hours, minutes, seconds = 0, int(first), int(second)
    if pos >= len(text) or text[pos] != ".":
        return None
    match = _DIGITS.match(text, pos + 1)
    if not match or len(match.group()) != 3:
        return None
    if minutes > 59 or seconds > 59:
        return None
    ms = ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(match.group())
    return ms, match.end()


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def parse_timing_line(
    line: str, regions: Collection[str] = (), *, lenient: bool = False
) -> tuple[int, int, dict[str, str]] | None:
    """W3C "collect WebVTT cue timings and settings": ``(start, end, settings)`` or None."""
    pos = _skip_ws(line, 0)
    found = _timestamp(line, pos, lenient=lenient)
    if found is None:
        return None
    start, pos = found
    pos = _skip_ws(line, pos)
    if not line.startswith("-->", pos):
        return None
    pos = _skip_ws(line, pos + 3)
    found = _timestamp(line, pos, lenient=lenient)
    if found is None:
        return None
    end, pos = found
    return start, end, parse_settings(line[pos:], regions)


def _percentage(text: str) -> float | None:
    if not _PERCENT.fullmatch(text):
        return None
    value = float(text[:-1])
    return value if 0 <= value <= 100 else None


def _settings(text: str) -> list[str]:
    """Split on WebVTT whitespace only (a vertical tab is not whitespace there)."""
    return [setting for setting in re.split(r"[ \t\n\f\r]+", text) if setting]


def parse_settings(text: str, regions: Collection[str] = ()) -> dict[str, str]:
    """The settings a browser keeps from a timing line's remainder, ``{name: value}``."""
    kept: dict[str, str] = {}
    for setting in _settings(text):
        name, _colon, value = setting.partition(":")
        if not name or not value:
            continue
        if name == "region":
            if value in regions:
                kept["region"] = value
        elif name == "vertical":
            if value in {"rl", "lr"}:
                kept["vertical"] = value
        elif name == "line":
            position, comma, align = value.partition(",")
            if comma and align not in {"start", "center", "end"}:
                continue  # an unknown alignment makes the whole setting invalid
            if not any(c.isdigit() for c in position):
                continue
            if position.endswith("%"):
                if _percentage(position) is None:
                    continue
            elif not _LINE_NUMBER.fullmatch(position) or math.isinf(float(position)):
                continue  # beyond the largest double: a browser's number is not finite
            kept["line"] = value
        elif name == "position":
            position, comma, align = value.partition(",")
            if comma and align not in {"line-left", "center", "line-right"}:
                continue
            if _percentage(position) is None:
                continue
            kept["position"] = value
        elif name == "size":
            if _percentage(value) is None:
                continue
            kept["size"] = value
        elif name == "align" and value in {"start", "center", "end", "left", "right"}:
            kept["align"] = value
    return kept


def _anchor(value: str) -> bool:
    x, comma, y = value.partition(",")
    return bool(comma) and _percentage(x) is not None and _percentage(y) is not None


def region_settings(text: str) -> tuple[str, dict[str, str]]:
    """W3C "collect WebVTT region settings": a REGION block's id and its valid settings
    (the last valid one of each name wins)."""
    region_id = ""
    kept: dict[str, str] = {}
    for setting in _settings(text):
        name, colon, value = setting.partition(":")
        if not colon or not name or not value:
            continue
        if name == "id":
            if "-->" not in value:
                region_id = value
        elif name == "width":
            if _percentage(value) is not None:
                kept["width"] = value
        elif name == "lines":
            if value.isascii() and value.isdigit():
                kept["lines"] = value
        elif name in {"regionanchor", "viewportanchor"}:
            if _anchor(value):
                kept[name] = value
        elif name == "scroll" and value == "up":
            kept["scroll"] = value
    return region_id, kept


def region_properties(settings: Mapping[str, str]) -> dict[str, object]:
    """The ``VTTRegion`` attributes (width, lines, anchors, scroll) of a region's settings."""

    def number(text: str) -> float | int:
        value = float(text.rstrip("%"))
        return int(value) if value.is_integer() else value

    region_x, _c, region_y = settings.get("regionanchor", "0%,100%").partition(",")
    view_x, _c, view_y = settings.get("viewportanchor", "0%,100%").partition(",")
    return {
        "width": number(settings.get("width", "100%")),
        "lines": int(settings.get("lines", "3")),
        "regionAnchorX": number(region_x),
        "regionAnchorY": number(region_y),
        "viewportAnchorX": number(view_x),
        "viewportAnchorY": number(view_y),
        "scroll": settings.get("scroll", ""),
    }


def settings_text(settings: Mapping[str, str]) -> str:
    """Settings as they are stored and written: ``line:1% align:start``."""
    return " ".join(f"{name}:{settings[name]}" for name in _SETTING_ORDER if name in settings)


def cue_properties(settings: Mapping[str, str]) -> dict[str, object]:
    """The ``VTTCue`` attributes (align, line, snapToLines, lineAlign, position,
    positionAlign, size, vertical, region) a browser derives from ``settings``."""
    props: dict[str, object] = {
        "align": settings.get("align", "center"),
        "line": "auto",
        "snapToLines": True,
        "lineAlign": "start",
        "position": "auto",
        "positionAlign": "auto",
        "size": 100,
        "vertical": settings.get("vertical", ""),
        "region": settings.get("region"),
    }

    def number(text: str) -> float | int:
        value = float(text.rstrip("%"))
        return int(value) if value.is_integer() else value

    if "line" in settings:
        position, _comma, align = settings["line"].partition(",")
        props["line"] = number(position)
        props["snapToLines"] = not position.endswith("%")
        if align in {"start", "center", "end"}:
            props["lineAlign"] = align
    if "position" in settings:
        position, _comma, align = settings["position"].partition(",")
        props["position"] = number(position)
        if align in {"line-left", "center", "line-right"}:
            props["positionAlign"] = align
    if "size" in settings:
        props["size"] = number(settings["size"])
    return props


def _normalise(text: str) -> list[str]:
    text = text.replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def parse_cues(text: str, *, lenient: bool = False) -> CueList:
    """The W3C WebVTT parser algorithm over decoded text (a leading BOM is skipped).

    Raises :class:`SignatureError` when the signature is wrong. ``lenient`` reads timings
    in the MS Teams form (``0:0:0.0``); it is off for standard files.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _normalise(text)
    first = lines[0]
    if not first.startswith("WEBVTT") or (len(first) > 6 and first[6] not in " \t"):
        raise SignatureError(first[:40])
    result = CueList()
    count = len(lines)
    i = 1
    # The header: lines up to a blank line, or up to a line with "-->" (which starts a cue).
    while i < count and lines[i] != "" and "-->" not in lines[i]:
        i += 1
    while i < count:
        if lines[i] == "":
            i += 1
            continue
        i = _block(lines, i, result, lenient)
    return result


def _block(lines: list[str], i: int, result: CueList, lenient: bool) -> int:
    """W3C "collect a WebVTT block" starting at line ``i``; returns the next line."""
    start_line = i
    buffer: list[str] = []
    seen_arrow = False
    cue: Cue | None = None
    bad_timing: str | None = None
    kind = ""  # "style" or "region" when the block is one
    line_count = 0
    count = len(lines)
    while i < count:
        line = lines[i]
        line_count += 1
        if "-->" in line:
            if line_count == 1 or (line_count == 2 and not seen_arrow):
                seen_arrow = True
                timing = parse_timing_line(line, result.regions, lenient=lenient)
                if timing is None:
                    bad_timing = line
                else:
                    start, end, settings = timing
                    cue = Cue("\n".join(buffer), start, end, settings, "", i + 1)
                    buffer = []
                i += 1
                continue
            break  # the line starts the next block
        if line == "":
            break
        if line_count == 2 and cue is None and not seen_arrow and not result.cues:
            head = buffer[0] if buffer else ""
            if head.rstrip(_WHITESPACE) == "STYLE" and head[:5] == "STYLE":
                kind = "style"
            elif head.rstrip(_WHITESPACE) == "REGION" and head[:6] == "REGION":
                kind = "region"
        buffer.append(line)
        i += 1
    if cue is not None:
        cue.text = "\n".join(buffer)
        result.cues.append(cue)
        return i
    head = lines[start_line]
    if kind == "region":
        region_id, settings = region_settings("\n".join(buffer[1:]))
        if region_id:
            result.regions[region_id] = settings
        result.dropped.append(Dropped(start_line + 1, "REGION block", silent=True))
    elif kind == "style" or (head.startswith("NOTE") and head[4:5] in ("", " ", "\t")):
        if head == FOOTNOTE and result.cues and len(result.cues) - 1 not in result.footnotes:
            result.footnotes[len(result.cues) - 1] = "\n".join(buffer[1:])
        result.dropped.append(Dropped(start_line + 1, "comment or style block", silent=True))
    elif bad_timing is not None:
        result.dropped.append(
            Dropped(
                start_line + 1,
                f"bad cue timing {bad_timing.strip()[:80]!r} (expected "
                "'hh:mm:ss.ttt --> hh:mm:ss.ttt', hours optional); browsers drop this "
                "block, and so did this import",
            )
        )
    else:
        result.dropped.append(
            Dropped(
                start_line + 1,
                f"block without a cue timing line ({head.strip()[:60]!r}); browsers drop "
                "it, and so did this import",
            )
        )
    return i


# --- cue text -> turns -------------------------------------------------------------------

_TAG = re.compile(r"<([^>]*)(?:>|$)")
_VOICE_TAG = re.compile(r"<v[\s.>]")
_TAG_NAME = re.compile(r"/?([^\s./>]*)")


@dataclass
class _Turn:
    voice: str | None
    pieces: list[str] = field(default_factory=list)
    # (character offset in the turn's raw text, ms) for each inline timestamp
    stamps: list[tuple[int, int]] = field(default_factory=list)

    @property
    def raw(self) -> str:
        return "".join(self.pieces)


def cue_turns(raw: str) -> list[_Turn]:
    """Tokenise cue text: one turn per voice change, tags removed, timestamps kept."""
    turns = [_Turn(None)]
    in_ruby_text = False
    position = 0

    def add(text: str) -> None:
        if text and not in_ruby_text:
            turns[-1].pieces.append(html.unescape(text))

    for match in _TAG.finditer(raw):
        add(raw[position : match.start()])
        position = match.end()
        tag = match.group(1)
        name = _TAG_NAME.match(tag).group(1).lower()
        if tag.startswith("/"):
            if name == "rt":
                in_ruby_text = False
            continue
        if name == "v":
            parts = tag.split(None, 1)
            voice = html.unescape(parts[1]) if len(parts) == 2 else None
            current = turns[-1]
            if current.voice is None and not current.raw.strip():
                current.voice = voice
            elif voice != current.voice:
                turns.append(_Turn(voice))
        elif name == "br":
            turns[-1].pieces.append("\n")
        elif name == "rt":
            in_ruby_text = True
        elif tag[:1].isdigit():
            found = _timestamp(tag, 0)
            if found is not None and found[1] == len(tag):
                turns[-1].stamps.append((len(turns[-1].raw), found[0]))
    add(raw[position:])
    return [turn for turn in turns if turn.raw.strip() or turn.voice or len(turns) == 1]


def cue_text_to_plain(raw: str) -> tuple[list[str], str]:
    """``(voices, text)`` from WebVTT cue text: tags removed, references decoded."""
    turns = cue_turns(raw)
    return [t.voice for t in turns if t.voice], "\n".join(t.raw for t in turns)


def _words(turn: _Turn, start_ms: int, end_ms: int) -> tuple[Word, ...]:
    """Word timings from inline timestamps: each stamp starts the words after it (words
    before the first stamp start with the turn)."""
    if not turn.stamps:
        return ()
    raw = turn.raw
    words: list[Word] = []
    bounds = [(0, start_ms), *turn.stamps, (len(raw), end_ms)]
    for (offset, start), (next_offset, next_start) in pairwise(bounds):
        for token in raw[offset:next_offset].split():
            words.append(Word(token, start, max(start, next_start), None))
    return tuple(words)


def _split_cue(cue: Cue, turns: list[_Turn], warnings: list[ParseWarning]) -> list[Segment]:
    settings = settings_text(cue.settings) or None
    cue_id = cue.id or None
    if len(turns) == 1:
        turn = turns[0]
        return [
            Segment(
                cue.start_ms,
                cue.end_ms,
                turn.voice,
                turn.raw,
                cue_id=cue_id,
                cue_settings=settings,
                words=_words(turn, cue.start_ms, cue.end_ms),
            )
        ]
    span = max(cue.end_ms - cue.start_ms, 0)
    starts: list[int] = []
    estimated = False
    total = sum(len(t.raw.strip()) or 1 for t in turns)
    done = 0
    for index, turn in enumerate(turns):
        stamped = None
        if turn.stamps and not turn.raw[: turn.stamps[0][0]].strip():
            stamped = turn.stamps[0][1]
        if index == 0:
            starts.append(cue.start_ms)
        elif stamped is not None and starts[-1] <= stamped <= cue.end_ms:
            starts.append(stamped)
        else:
            estimated = True
            starts.append(max(starts[-1], cue.start_ms + span * done // total))
        done += len(turn.raw.strip()) or 1
    if estimated:
        warnings.append(
            ParseWarning(
                cue.line,
                f"cue has {len(turns)} voices; it became {len(turns)} segments whose times "
                "were shared out by the length of each turn",
            )
        )
    segments = []
    for index, turn in enumerate(turns):
        end = starts[index + 1] if index + 1 < len(turns) else cue.end_ms
        segments.append(
            Segment(
                starts[index],
                end,
                turn.voice,
                turn.raw,
                cue_id=cue_id if index == 0 else None,
                cue_settings=settings,
                words=_words(turn, starts[index], end),
            )
        )
    return segments


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
    an unknown end, with a warning) and a transcript without cues, and gives a cue without
    a voice the previous cue's speaker (OHMS writes ``<v>`` on a turn's first cue only)."""
    text = as_text(source, filename, webvtt=True)
    if not text.lstrip("\ufeff").strip(_WHITESPACE + "\x00"):
        raise TranscriptError("is empty: no WEBVTT header and no cues", filename=filename)
    try:
        found = parse_cues(text)
    except SignatureError as error:
        raise TranscriptError(
            "does not start with the 'WEBVTT' line that every WebVTT file begins with",
            filename=filename,
            line=1 + line_offset,
        ) from error
    warnings: list[ParseWarning] = []
    if not found.cues and any(_TEAMS_TIMING.match(line) for line in text.splitlines()):
        lenient = parse_cues(text, lenient=True)
        if lenient.cues:
            found = lenient
            warnings.append(
                ParseWarning(
                    found.cues[0].line + line_offset,
                    "the cue timings are not WebVTT (e.g. '0:0:0.0', as MS Teams writes "
                    "them); read leniently: browsers would show no captions from this file",
                )
            )
    for dropped in found.dropped:
        if not dropped.silent:
            warnings.append(ParseWarning(dropped.line + line_offset, dropped.reason))

    segments: list[Segment] = []
    seg_lines: list[int | None] = []
    for number, cue in enumerate(found.cues):
        line = cue.line + line_offset
        cue.line = line
        end_ms = cue.end_ms
        if ohms and end_ms == 0 and cue.start_ms > 0:
            warnings.append(ParseWarning(line, "cue ends at 00:00:00.000 (OHMS: end unknown)"))
            cue.end_ms = cue.start_ms
            parts = _split_cue(cue, cue_turns(cue.text), warnings)
            parts[-1] = replace(parts[-1], end_ms=None)
        elif end_ms < cue.start_ms:
            warnings.append(
                ParseWarning(
                    line,
                    f"cue ends ({format_timecode(end_ms)}) before it starts "
                    f"({format_timecode(cue.start_ms)}); its end is taken as unknown",
                )
            )
            cue.end_ms = cue.start_ms
            parts = _split_cue(cue, cue_turns(cue.text), warnings)
            parts[-1] = replace(parts[-1], end_ms=None)
        else:
            parts = _split_cue(cue, cue_turns(cue.text), warnings)
        if number in found.footnotes:
            parts[-1] = replace(parts[-1], note=found.footnotes[number])
        voiced = _VOICE_TAG.search(cue.text) is not None
        for part in parts:
            if ohms and not voiced and segments and segments[-1].speaker:
                # OHMS writes <v> on a turn's first cue only; the others continue it.
                part = replace(part, speaker=segments[-1].speaker)
            if not part.text:
                warnings.append(ParseWarning(line, "cue has no text"))
            segments.append(part)
            seg_lines.append(line)

    if not segments and not ohms:
        raise TranscriptError(
            "has no cues: a browser would show nothing from it"
            + (f"; the first dropped block: {warnings[0].message}" if warnings else ""),
            filename=filename,
            line=warnings[0].line if warnings else None,
        )
    check_timing(segments, seg_lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, [], {}, seg_lines)


# --- writer ------------------------------------------------------------------------------


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


def _cue_text(segment: Segment) -> list[str]:
    """The cue's text lines, with an inline timestamp wherever a word's start changes, when
    the words' text matches the cue's (WebVTT timestamps mark starts only: a word's end is
    read back as the next timestamp)."""
    text = segment.text
    if segment.words and " ".join(w.text for w in segment.words).split() == text.split():
        out: list[str] = []
        index = 0
        previous: int | None = None
        for line in text.split("\n"):
            tokens = []
            for token in line.split(" "):
                word = segment.words[index]
                index += 1
                stamp = ""
                if word.start_ms is not None and word.start_ms != previous:
                    stamp = f"<{format_timecode(word.start_ms)}>"
                    previous = word.start_ms
                tokens.append(stamp + escape(token))
            out.append(" ".join(tokens))
        return out
    return escape(text).split("\n") if text else []


def _safe_id(cue_id: str) -> str:
    """A cue id on one line (a line break would end the id)."""
    return " ".join(cue_id.split("\n"))


def write(segments: Sequence[Segment], *, metadata: Mapping[str, str] | None = None) -> str:
    """WebVTT with cue ids, settings, ``<v Speaker>`` voices and word timestamps; metadata
    goes into a leading NOTE block."""
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
        if segment.cue_id and "-->" not in segment.cue_id:
            out.append(_safe_id(segment.cue_id))  # an id with "-->" would read as a timing
        timing = f"{format_timecode(start)} --> {format_timecode(end)}"
        if segment.cue_settings:
            timing += " " + segment.cue_settings
        out.append(timing)
        text_lines = _cue_text(segment)
        voice = ""
        if segment.speaker:
            voice = f"<v {escape(segment.speaker)}>"
        elif index and segments[index - 1].speaker:
            # An empty voice: nobody speaks here. Without it an OHMS reader (and this
            # archive's OHMS import) would continue the previous cue's speaker.
            voice = "<v>"
        if voice:
            text_lines = [voice + (text_lines[0] if text_lines else ""), *text_lines[1:]]
        out += text_lines
        out.append("")
        if segment.note:
            out += [FOOTNOTE, *segment.note.replace("-->", "->").split("\n"), ""]
    return "\n".join(out)
