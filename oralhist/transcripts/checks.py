"""Timing and size checks every parser runs on its segments, so every format reports alike.

A cue that ends before it starts is an error (its line is named), and so is a time past
:data:`~.timecode.MAX_TIME_MS` (100 hours) or a segment whose text is longer than
:data:`MAX_SEGMENT_CHARS`: one item's cost (indexing, snippets, the page) must stay bounded,
and a 24 MB cue is damage or abuse, never a transcript. Cues out of order,
overlapping cues and times past the recording's duration are warnings: the transcript is
kept exactly in file order and never silently reordered or clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from oralhist.errors import TranscriptError

from .model import ParseWarning, Segment
from .timecode import format_timecode, time_limit_problem

#: The most text one segment may hold: 20,000 characters, about 25 minutes of speech
#: (3,500 words). Real cues and turns are far shorter; the longest paragraph in the test
#: corpus of real transcripts is under 6,000 characters.
MAX_SEGMENT_CHARS = 20_000


def _tc(ms: int) -> str:
    return format_timecode(ms, style="vtt")


def check_size(
    segments: Sequence[Segment], lines: Sequence[int | None], filename: str | None
) -> None:
    """Raise for a time past the limit or a segment with too much text."""
    for i, segment in enumerate(segments):
        line = lines[i] if i < len(lines) else None
        for name, value in (("start", segment.start_ms), ("end", segment.end_ms)):
            problem = time_limit_problem(value)
            if problem:
                raise TranscriptError(
                    f"segment {i + 1}'s {name} {problem}", filename=filename, line=line
                )
        if len(segment.text) > MAX_SEGMENT_CHARS:
            raise TranscriptError(
                f"segment {i + 1} holds {len(segment.text):,} characters of text; a segment "
                f"may hold at most {MAX_SEGMENT_CHARS:,}: split it into shorter cues or turns",
                filename=filename,
                line=line,
            )


def check_timing(
    segments: Sequence[Segment],
    lines: Sequence[int | None],
    filename: str | None,
    warnings: list[ParseWarning],
    *,
    duration_ms: int | None = None,
) -> None:
    """Raise for an inverted cue, a time past the limit or an oversized segment; append
    warnings for order, overlap and duration."""
    check_size(segments, lines, filename)
    previous: int | None = None  # index of the last timed segment
    latest_end: int | None = None  # index of the timed segment reaching furthest
    past: list[tuple[int, int | None, int, int]] = []  # (index, line, start, reach) past the audio
    for i, segment in enumerate(segments):
        line = lines[i] if i < len(lines) else None
        start, end = segment.start_ms, segment.end_ms
        if start is None:
            continue
        cue = f"cue {i + 1}"
        if end is not None and end < start:
            raise TranscriptError(
                f"{cue} ends ({_tc(end)}) before it starts ({_tc(start)})",
                filename=filename,
                line=line,
            )
        if previous is not None and start < segments[previous].start_ms:
            warnings.append(
                ParseWarning(
                    line,
                    f"{cue} starts at {_tc(start)}, before cue {previous + 1} "
                    f"({_tc(segments[previous].start_ms)}); kept in file order",
                )
            )
        elif latest_end is not None and start < segments[latest_end].end_ms:
            warnings.append(
                ParseWarning(
                    line,
                    f"{cue} starts at {_tc(start)}, before cue {latest_end + 1} ends "
                    f"({_tc(segments[latest_end].end_ms)}): the cues overlap",
                )
            )
        if duration_ms is not None and max(start, end or 0) > duration_ms:
            past.append((i, line, start, max(start, end or 0)))
        previous = i
        if end is not None and (latest_end is None or end > segments[latest_end].end_ms):
            latest_end = i
    if past and duration_ms is not None:
        warnings.append(past_the_audio(past, duration_ms))


def past_the_audio(
    past: Sequence[tuple[int, int | None, int, int]], duration_ms: int
) -> ParseWarning:
    """One warning for every cue that runs past the end of the recording (a transcript of
    another recording, or a part not uploaded yet), at the first such cue's line: a
    1,331-cue SRT that overshoots gives one line, not 1,331."""
    first, line, start, _ = past[0]
    furthest = max(reach for _, _, _, reach in past)
    many = len(past) > 1
    return ParseWarning(
        line,
        f"{len(past):,} cue{'s' if many else ''} (from cue {first + 1}, "
        f"{_tc(start)}) run{'' if many else 's'} past the end of the recording "
        f"({_tc(duration_ms)}); the transcript reaches {_tc(furthest)}, "
        f"{_tc(furthest - duration_ms)} longer than the audio. Check that it belongs to this "
        "interview's recordings and that every part is uploaded.",
    )
