"""Release agreements and redactions in the JSON API (archivists only; see README,
"Consent and redaction").

- ``GET /interviews/<id>/agreements``: every participant with their agreement;
  ``PATCH /interviews/<id>/agreements/<participant id>`` changes one (fields of
  ``consent.agreement_json``; ``date_of_death`` is the person's);
  ``POST .../form`` (multipart ``file``) stores the signed form, ``GET .../form`` sends it.
- ``GET/POST /interviews/<id>/redactions`` (``start_ms``, ``end_ms``, ``reason``, optional
  ``until``), ``GET/PATCH/DELETE /redactions/<id>`` (DELETE lifts it).
"""

from __future__ import annotations

from flask import jsonify, request

from ...access import current_viewer
from ...errors import NotFound, ValidationError
from ...services import catalogue, consent
from ...services.recordings import storage
from . import bp
from .common import json_body


def _interview(interview_id: int):
    viewer = current_viewer()
    return viewer, catalogue.get_interview(interview_id, viewer)


@bp.get("/interviews/<int:interview_id>/agreements")
def list_agreements(interview_id: int):
    viewer, interview = _interview(interview_id)
    consent.require_manage(viewer, interview)
    return jsonify(
        items=[consent.agreement_json(p) for p in interview.participants],
        consent_override=interview.consent_override or "",
        narrator_consented=consent.terms.narrator_consented(interview),
    )


@bp.patch("/interviews/<int:interview_id>/agreements/<int:participant_id>")
def save_agreement(interview_id: int, participant_id: int):
    viewer, interview = _interview(interview_id)
    participant = consent.save_agreement(viewer, interview, participant_id, json_body())
    return jsonify(consent.agreement_json(participant))


@bp.post("/interviews/<int:interview_id>/agreements/<int:participant_id>/form")
def upload_form(interview_id: int, participant_id: int):
    viewer, interview = _interview(interview_id)
    consent.require_manage(viewer, interview)
    part = request.files.get("file")
    if part is None or not part.filename:
        raise ValidationError(
            "Send the signed form as the multipart field 'file'.", fields={"file": "missing"}
        )
    participant = consent.attach_form(
        viewer, interview, participant_id, consent.FormUpload(part.stream, part.filename)
    )
    return jsonify(consent.agreement_json(participant)), 201


@bp.get("/interviews/<int:interview_id>/agreements/<int:participant_id>/form")
def download_form(interview_id: int, participant_id: int):
    viewer, interview = _interview(interview_id)
    agreement = consent.form_of(viewer, interview, participant_id)
    media = storage()
    if not media.exists(agreement.form_key):
        raise NotFound("The stored form is missing; an archivist has been told by fixity.")
    response = media.send(
        agreement.form_key,
        mimetype=agreement.form_mime or "application/octet-stream",
        as_attachment=True,
        download_name=agreement.form_filename or f"agreement-{participant_id}",
        etag=agreement.form_sha256 or True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/interviews/<int:interview_id>/redactions")
def list_redactions(interview_id: int):
    viewer, interview = _interview(interview_id)
    return jsonify(
        items=[consent.redaction_json(r) for r in consent.list_redactions(viewer, interview)]
    )


@bp.post("/interviews/<int:interview_id>/redactions")
def add_redaction(interview_id: int):
    viewer, interview = _interview(interview_id)
    redaction = consent.add_redaction(viewer, interview, json_body())
    return jsonify(consent.redaction_json(redaction)), 201


@bp.get("/redactions/<int:redaction_id>")
def get_redaction(redaction_id: int):
    redaction = consent.get_redaction(current_viewer(), redaction_id)
    return jsonify(consent.redaction_json(redaction))


@bp.patch("/redactions/<int:redaction_id>")
def change_redaction(redaction_id: int):
    viewer = current_viewer()
    redaction = consent.get_redaction(viewer, redaction_id)
    return jsonify(consent.redaction_json(consent.change_redaction(viewer, redaction, json_body())))


@bp.delete("/redactions/<int:redaction_id>")
def lift_redaction(redaction_id: int):
    viewer = current_viewer()
    consent.lift_redaction(viewer, consent.get_redaction(viewer, redaction_id))
    return "", 204
