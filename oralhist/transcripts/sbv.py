"""YouTube SubViewer (``.sbv``) import and export.

YouTube's caption download format: blocks separated by blank lines, each a timing line
``0:00:01.378,0:00:04.378`` (hours unpadded, milliseconds) followed by the text. There is no
published grammar beyond YouTube's own files, so a damaged block is refused with its line
(as in SRT) rather than dropped. A cue that ends before it starts is kept, as webvtt-py
reads it, with its end unknown and a warning naming its line. YouTube marks a change of
speaker with ``>>`` at the start of a line; ``>> NAME:`` gives the speaker, and ``NAME:``
labels are read by the SRT rule (only when every cue with text has one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text, split_lines
from .model import ParseResult, ParseWarning, Segment
from .speakers import split_label
from .timecode import format_timecode
from .vtt import cue_times

FORMAT = "sbv"

_TS = r"(\d+):([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"\s*{_TS},{_TS}\s*")
_TURN = re.compile(r"^\s*>>\s*")


def _ms(hours: str, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse(
    source: str | bytes, filename: str = "captions.sbv", *, duration_ms: int | None = None
) -> ParseResult:
    lines = split_lines(as_text(source, filename))
    cues: list[tuple[int, int, int, str]] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        match = _TIMING.fullmatch(lines[i])
        if not match:
            raise TranscriptError(
                f"expected a SubViewer timing line such as '0:00:01.000,0:00:04.000', "
                f"found {lines[i].strip()[:60]!r}",
                filename=filename,
                line=i + 1,
            )
        g = match.groups()
        j = i + 1
        while j < len(lines) and lines[j].strip():
            j += 1
        text = "\n".join(_TURN.sub("", line) for line in lines[i + 1 : j])
        cues.append((i + 1, _ms(*g[:4]), _ms(*g[4:]), text))
        i = j
    if not cues:
        raise TranscriptError("has no cues", filename=filename)
    labels = [split_label(text) for _l, _s, _e, text in cues if text.strip()]
    use_labels = bool(labels) and all(labels)
    segments: list[Segment] = []
    seg_lines: list[int | None] = []
    warnings: list[ParseWarning] = []
    for line, start, end, text in cues:
        speaker = None
        label = split_label(text) if use_labels and text.strip() else None
        if label:
            speaker, text = label.name, label.rest
        if end < start:
            # webvtt-py (the reference reader of .sbv) keeps such a cue; the archive keeps
            # its start and text, and its end as unknown, as the WebVTT import does.
            warnings.append(
                ParseWarning(
                    line,
                    f"cue ends ({format_timecode(end)}) before it starts "
                    f"({format_timecode(start)}); its end is taken as unknown",
                )
            )
            end = None
        segment = Segment(start, end, speaker, text)
        if not segment.text:
            warnings.append(ParseWarning(line, "cue has no text"))
        segments.append(segment)
        seg_lines.append(line)
    check_timing(segments, seg_lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, [], {}, seg_lines)


def _tc(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def write(segments: Sequence[Segment], *, metadata: Mapping[str, str] | None = None) -> str:
    """SubViewer; the speaker becomes a ``>> Name: `` prefix. No place for metadata."""
    out: list[str] = []
    for index, segment in enumerate(segments):
        start, end = cue_times(segments, index, "SubViewer")
        out.append(f"{_tc(start)},{_tc(end)}")
        text = segment.text
        if segment.speaker:
            text = f">> {segment.speaker}: {text}"
        out += text.split("\n") if text else []
        out.append("")
    return "\n".join(out)
