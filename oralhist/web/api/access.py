"""API: access requests (ask, list, read, approve/deny/withdraw/revoke)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from ...access import current_viewer, now, workflow
from ...access.policy import Viewer
from ...models import AccessRequest
from ...services import access_requests, consent
from ...services.catalogue import get_interview
from . import bp
from .common import json_body, page_of


def access_request_json(r: AccessRequest, viewer: Viewer) -> dict[str, Any]:
    at = now()
    return {
        "id": r.id,
        "interview_id": r.interview_id,
        "interview_title": (consent.shown_title(viewer, r.interview) if r.interview else None),
        "requester_id": r.requester_id,
        "requester_name": r.requester.display_name if r.requester else None,
        "purpose": r.purpose,
        "intended_use": r.intended_use,
        "agreed_terms": r.agreed_terms,
        "status": workflow.effective_status(r, at),
        "scope": r.scope,
        "created_at": r.created_at.isoformat() if r.created_at else None,
        "decided_by_id": r.decided_by_id,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decision_note": r.decision_note,
        "expires_at": r.expires_at.isoformat() if r.expires_at else None,
        "actions": workflow.allowed_actions(viewer, r, at),
        "url": url_for("api.get_access_request", request_id=r.id),
    }


@bp.post("/interviews/<int:interview_id>/access-requests")
def create_access_request(interview_id: int):
    viewer = current_viewer()
    interview = get_interview(interview_id, viewer)
    created = access_requests.create_request(viewer, interview, json_body())
    return jsonify(access_request_json(created, viewer)), 201


@bp.get("/access-requests")
def list_access_requests():
    """Own requests for researchers; everyone's for archivists, filterable by ``status``,
    ``interview``, ``requester`` (``mine=1`` for their own)."""
    viewer = current_viewer()
    stmt = access_requests.request_query(viewer, request.args)
    return page_of(stmt, lambda r: access_request_json(r, viewer))


@bp.get("/access-requests/<int:request_id>")
def get_access_request(request_id: int):
    viewer = current_viewer()
    return jsonify(access_request_json(access_requests.get_request(request_id, viewer), viewer))


@bp.post("/access-requests/<int:request_id>/<any(approve, deny, withdraw, revoke):action>")
def act_on_access_request(request_id: int, action: str):
    viewer = current_viewer()
    found = access_requests.get_request(request_id, viewer)
    data = json_body() if request.content_length else {}
    access_requests.decide(viewer, found, action, data)
    return jsonify(access_request_json(found, viewer))
