"""API: undo a speaker merge (``POST .../speakers/<id>/merge`` records one)."""

from __future__ import annotations

from flask import jsonify

from ...access import current_viewer
from ...services import catalogue, transcript_speakers
from . import bp
from .serialise import speaker_json


@bp.post("/interviews/<int:interview_id>/speaker-merges/<int:merge_id>/undo")
def undo_speaker_merge(interview_id: int, merge_id: int):
    """The source speaker again, with the segments that moved (and still sit with the
    speaker they moved to); 409 when it was undone already or cannot be."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    record = transcript_speakers.get_merge(interview, merge_id)
    return jsonify(speaker_json(transcript_speakers.undo_merge(viewer, record)))


@bp.get("/interviews/<int:interview_id>/speaker-merges")
def list_speaker_merges(interview_id: int):
    """The merges that can still be undone, newest first (editors only)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_edit(viewer, interview)
    return jsonify(
        {
            "items": [
                {
                    "id": m.id,
                    "source_label": m.source_label,
                    "into_id": m.into_id,
                    "segments": len(m.segment_ids),
                    "merged_at": m.merged_at.isoformat(),
                }
                for m in transcript_speakers.undoable_merges(interview)
            ]
        }
    )
