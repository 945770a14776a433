"""Pages for forced alignment and machine transcription: the interview page's "Align to the
audio" / "Transcribe" panel, the buttons that start the jobs, and the preview of a proposed
version with its diff against the current one (accepted through the ordinary restore)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access import current_viewer, policy
from ..extensions import db
from ..models import Interview, Transcript
from ..services import alignment, catalogue, consent, recordings
from .catalogue import interview_panel

bp = Blueprint("alignment", __name__)


def _user():
    return current_user if current_user.is_authenticated else None


@interview_panel
def alignment_panel(interview: Interview, viewer) -> dict[str, Any]:
    """Template variables (``al_*``) of ``alignment/_panel.html``: only for the record's
    editors (starting a job and checking its proposal is their work)."""
    if not policy.can_edit_material(viewer, interview):
        return {"al_show": False}
    current = interview.current_transcript
    proposed = list(
        db.session.scalars(
            select(Transcript)
            .where(Transcript.interview_id == interview.id, Transcript.proposed.is_(True))
            .order_by(Transcript.version.desc())
        )
    )
    has_transcript = current is not None and bool(current.segment_count)
    return {
        "al_show": bool(interview.recordings),
        "al_can_align": has_transcript,
        "al_timed": bool(current is not None and current.timed),
        "al_untranscribed": [] if has_transcript else list(interview.recordings),
        "al_proposed": proposed,
        "al_advice": alignment.WHISPER_ADVICE,
    }


@bp.post("/interviews/<int:interview_id>/align")
def start_alignment(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    job = alignment.start_alignment(viewer, interview, _user())
    flash(
        f"Alignment started (job {job.id}). You will be told here and by mail when the "
        "proposed transcript is ready to check.",
        "success",
    )
    return redirect(url_for("catalogue.interview", interview_id=interview.id))


@bp.post("/recordings/<int:recording_id>/transcribe")
def start_transcription(recording_id: int):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    job = alignment.start_transcription(viewer, recording, _user())
    flash(
        f"Transcription started (job {job.id}): a machine draft to correct. You will be told "
        "when it is ready.",
        "success",
    )
    return redirect(url_for("catalogue.interview", interview_id=recording.interview_id))


@bp.get("/interviews/<int:interview_id>/transcript/versions/<int:version>/preview")
def preview(interview_id: int, version: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    proposed = alignment.proposed_version(viewer, interview, version)
    rows = alignment.preview(interview, proposed, redactor=consent.redactor_for(viewer, interview))
    return render_template(
        "alignment/preview.html",
        interview=interview,
        proposed=proposed,
        rows=rows,
        provenance=proposed.provenance or {},
        current=interview.current_transcript,
        aligned=sum(1 for r in rows if r.aligned),
        advice=alignment.WHISPER_ADVICE,
    )
