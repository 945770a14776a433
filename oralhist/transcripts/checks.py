"""Timing checks every parser runs on its segments, so every format reports alike.

A cue that ends before it starts is an error (its line is named). Cues out of order,
overlapping cues and times past the recording's duration are warnings: the transcript is
kept exactly in file order and never silently reordered or clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from oralhist.errors import TranscriptError

from .model import ParseWarning, Segment
from .timecode import format_timecode


def _tc(ms: int) -> str:
    return format_timecode(ms, style="vtt")


def check_timing(
    segments: Sequence[Segment],
    lines: Sequence[int | None],
    filename: str | None,
    warnings: list[ParseWarning],
    *,
    duration_ms: int | None = None,
) -> None:
    """Raise for an inverted cue; append warnings for order, overlap and duration."""
    previous: int | None = None  # index of the last timed segment
    latest_end: int | None = None  # index of the timed segment reaching furthest
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
            warnings.append(
                ParseWarning(
                    line,
                    f"{cue} ({_tc(start)}) runs past the end of the recording ({_tc(duration_ms)})",
                )
            )
        previous = i
        if end is not None and (latest_end is None or end > segments[latest_end].end_ms):
            latest_end = i
