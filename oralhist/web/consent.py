"""Consent pages: the archivists' panel on the interview page (release agreements, the
signed forms, the open-publication override, redactions) and its form posts; and the
public view of an interview whose participants asked to be anonymised.

Every rule is the access policy's (``policy.can_manage_consent``, ``policy.sees_unredacted``);
every change is a service of ``services.consent`` (audited there).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from ..access import consent as terms
from ..access import current_viewer, now, policy
from ..errors import ValidationError
from ..models import Interview
from ..models.consent import AGREEMENT_STATUSES
from ..services import catalogue, consent
from ..transcripts.timecode import format_timecode, parse_t_param
from .catalogue import interview_panel

bp = Blueprint("consent", __name__)

PUBLICATION_LABELS = {
    "full": "Yes: audio and transcript",
    "transcript_only": "Transcript only",
    "audio_only": "Audio only",
    "none": "No online access",
}


@interview_panel
def consent_panel(interview: Interview, viewer) -> dict[str, Any]:
    """Template variables (``consent_*``) of ``consent/_panel.html``: archivists only."""
    if not policy.can_manage_consent(viewer, interview):
        return {"consent_show": False}
    return {
        "consent_show": True,
        "consent_agreements": [consent.agreement_json(p) for p in interview.participants],
        "consent_statuses": AGREEMENT_STATUSES,
        "consent_scopes": PUBLICATION_LABELS,
        "consent_narrator_signed": terms.narrator_consented(interview),
        "consent_override": interview.consent_override or "",
        "consent_reasons": policy.consent_reasons(interview, now()),
        "consent_redactions": [
            {
                **consent.redaction_json(r),
                "start": format_timecode(r.start_ms, style="hms"),
                "end": format_timecode(r.end_ms, style="hms"),
                "in_force": consent.in_force(r, policy.today_of(now())),
            }
            for r in interview.redactions
        ],
    }


def _interview(interview_id: int) -> Interview:
    return catalogue.get_interview(interview_id, current_viewer())


def _back(interview: Interview, anchor: str = "consent"):
    return redirect(url_for("catalogue.interview", interview_id=interview.id) + f"#{anchor}")


@bp.post("/interviews/<int:interview_id>/agreements/<int:participant_id>")
def save_agreement(interview_id: int, participant_id: int):
    interview = _interview(interview_id)
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    data["anonymise"] = "anonymise" in request.form
    consent.save_agreement(current_viewer(), interview, participant_id, data)
    flash("Release agreement saved.", "success")
    return _back(interview)


@bp.post("/interviews/<int:interview_id>/agreements/<int:participant_id>/form")
def upload_form(interview_id: int, participant_id: int):
    interview = _interview(interview_id)
    part = request.files.get("file")
    if part is None or not part.filename:
        raise ValidationError("Choose the signed form to upload.", fields={"file": "missing"})
    consent.attach_form(
        current_viewer(),
        interview,
        participant_id,
        consent.FormUpload(part.stream, part.filename),
    )
    flash("Signed form stored.", "success")
    return _back(interview)


@bp.post("/interviews/<int:interview_id>/consent-override")
def set_override(interview_id: int):
    interview = _interview(interview_id)
    consent.set_override(current_viewer(), interview, request.form.get("consent_override", ""))
    flash("Override saved.", "success")
    return _back(interview)


def _time_field(name: str) -> int | str | None:
    """A start/end field: milliseconds (``start_ms``) or a time (``start``: 0:12:03, 723s)."""
    raw = (request.form.get(f"{name}_ms") or "").strip()
    if raw:
        return raw
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_t_param(text)
    except ValueError as exc:
        raise ValidationError(
            f"{name}: {exc} (write 0:12:03 or 723.5).", fields={name: "not a time"}
        ) from exc


@bp.post("/interviews/<int:interview_id>/redactions")
def add_redaction(interview_id: int):
    interview = _interview(interview_id)
    data = {
        "start_ms": _time_field("start"),
        "end_ms": _time_field("end"),
        "reason": request.form.get("reason", ""),
        "until": request.form.get("until", ""),
    }
    redaction = consent.add_redaction(current_viewer(), interview, data)
    flash(
        f"Redacted {consent.placeholder(redaction.start_ms, redaction.end_ms)[10:-1]}.", "success"
    )
    return _back(interview)


@bp.post("/redactions/<int:redaction_id>/lift")
def lift_redaction(redaction_id: int):
    viewer = current_viewer()
    redaction = consent.get_redaction(viewer, redaction_id)
    interview = redaction.interview
    consent.lift_redaction(viewer, redaction)
    flash("Redaction lifted.", "success")
    return _back(interview)
