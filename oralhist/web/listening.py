"""The listening room's pages (``templates/player/``): on the interview page, whether the
transcript runs past the end of the audio (told to those who may read it); undoing a
speaker merge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, url_for

from ..access import current_viewer, now, policy
from ..models import Interview
from ..services import catalogue, listening, transcript_speakers, transcript_versions
from .catalogue import interview_panel

bp = Blueprint("listening", __name__)


@interview_panel
def listening_panel(interview: Interview, viewer) -> dict[str, Any]:
    """Template variables (``pl_*``) of ``player/_mismatch.html``."""
    if not policy.can_read_transcript(viewer, interview, now()):
        return {"pl_overrun_ms": None}
    transcript = transcript_versions.current_transcript(interview)
    return {"pl_overrun_ms": listening.transcript_overrun_ms(interview, transcript)}


@bp.post("/interviews/<int:interview_id>/speaker-merges/<int:merge_id>/undo")
def undo_merge(interview_id: int, merge_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    record = transcript_speakers.get_merge(interview, merge_id)
    restored = transcript_speakers.undo_merge(viewer, record)
    flash(f"The merge is undone: {restored.label} is a speaker again.", "success")
    return redirect(url_for("transcripts.speakers", interview_id=interview.id))
