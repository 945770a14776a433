"""What the listening room checks about an interview's transcript against its audio."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Interview, Segment, Transcript


def transcript_overrun_ms(interview: Interview, transcript: Transcript | None) -> int | None:
    """How far the transcript's timings reach past the end of the interview's audio (ms), or
    None when they do not (or there is no audio or no timed segment to compare): a sign of
    a transcript of another recording, or of a part not uploaded yet. One aggregate query."""
    if transcript is None or not interview.recordings:
        return None
    duration = interview.duration_ms
    if not duration:
        return None
    reach = db.session.scalar(
        select(func.max(func.coalesce(Segment.end_ms, Segment.start_ms))).where(
            transcript.holds(Segment)
        )
    )
    if reach is None or reach <= duration:
        return None
    return reach - duration
