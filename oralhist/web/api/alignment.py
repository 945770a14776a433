"""API: start forced alignment (``POST /interviews/<id>/align``) and machine transcription
(``POST /recordings/<id>/transcribe``), both 202 with the job; the preview of a proposed
version against the current one. A proposed version becomes current through
``POST /interviews/<id>/transcripts/<version>/restore``."""

from __future__ import annotations

from flask import jsonify, url_for
from flask_login import current_user

from ... import jobs
from ...access import current_viewer
from ...services import alignment, catalogue, consent, recordings
from . import bp


def _accepted(job):
    response = jsonify(jobs.job_json(job))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


@bp.post("/interviews/<int:interview_id>/align")
def align_interview(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    user = current_user if current_user.is_authenticated else None
    return _accepted(alignment.start_alignment(viewer, interview, user))


@bp.post("/recordings/<int:recording_id>/transcribe")
def transcribe_recording(recording_id: int):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    user = current_user if current_user.is_authenticated else None
    return _accepted(alignment.start_transcription(viewer, recording, user))


@bp.get("/interviews/<int:interview_id>/transcripts/<int:version>/preview")
def preview_version(interview_id: int, version: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    proposed = alignment.proposed_version(viewer, interview, version)
    data = alignment.preview_json(
        interview, proposed, redactor=consent.redactor_for(viewer, interview)
    )
    data["accept_url"] = url_for(
        "api.restore_version", interview_id=interview.id, version=proposed.version
    )
    return jsonify(data)
