"""API: documents, their passages (mentions) and suggestions.

- ``GET /api/v1/documents`` (filters ``type``, ``year_from``, ``year_to``, ``access_level``,
  ``creator``, ``q``; ``sort`` title|-title|date|-date|added|-added), ``POST`` (JSON, or
  multipart form fields plus ``file``).
- ``GET /api/v1/documents/<id>`` (with ``passages``), ``PATCH`` (JSON or multipart).
- ``POST /api/v1/documents/<id>/mentions`` (``interview_id``, ``start_ms``, ``end_ms``,
  ``note``) -> 201 the passage.
- ``PATCH``/``DELETE /api/v1/mentions/<id>``; ``GET /api/v1/interviews/<id>/mentions``.
- ``GET /api/v1/documents/<id>/suggestions``; ``POST .../suggestions/accept``
  (``segment_id``) and ``.../suggestions/dismiss`` (``interview_id``, ``start_ms``).

A document the caller may not see is 404 everywhere; a passage's ``text``, ``segments`` and
``speakers`` are present, and its ``note`` is not null, only when the caller may read that
interview's transcript (``policy.passage_access``).
"""

from __future__ import annotations

import json
from typing import Any

from flask import jsonify, request

from ...access import current_viewer
from ...access.policy import Viewer
from ...errors import ValidationError
from ...models import Document
from ...services import catalogue, documents, mentions
from ...services import passages as passage_service
from ...services import suggestions as suggestion_service
from . import bp
from .common import json_body, page_of
from .serialise import document_json, passage_json, suggestion_json


def _document_payload() -> tuple[dict[str, Any], documents.Upload | None]:
    """The body as JSON, or multipart form fields (``creators`` as JSON or one per line)
    with an optional ``file``."""
    if request.mimetype == "multipart/form-data":
        data: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token"}
        if "creators" in data:
            raw = data["creators"]
            try:
                data["creators"] = json.loads(raw)
            except ValueError:
                data["creators"] = raw
        upload = None
        part = request.files.get("file")
        if part is not None and part.filename:
            upload = documents.Upload(part.stream, part.filename)
        return data, upload
    return json_body(), None


def _detail(viewer: Viewer, d: Document) -> dict[str, Any]:
    data = document_json(d, full=True)
    data["passages"] = [passage_json(p) for p in passage_service.passages_for_document(viewer, d)]
    return data


@bp.get("/documents")
def list_documents():
    stmt, _ = documents.document_query(current_viewer(), request.args)
    return page_of(stmt, document_json)


@bp.post("/documents")
def create_document():
    viewer = current_viewer()
    data, upload = _document_payload()
    d = documents.save_document(viewer, data, upload=upload)
    return jsonify(_detail(viewer, d)), 201


@bp.get("/documents/<int:document_id>")
def get_document(document_id: int):
    viewer = current_viewer()
    return jsonify(_detail(viewer, documents.get_document(document_id, viewer)))


@bp.patch("/documents/<int:document_id>")
def update_document(document_id: int):
    viewer = current_viewer()
    d = documents.get_document(document_id, viewer)
    data, upload = _document_payload()
    documents.save_document(viewer, data, d, upload=upload)
    return jsonify(_detail(viewer, d))


@bp.post("/documents/<int:document_id>/mentions")
def create_mention(document_id: int):
    viewer = current_viewer()
    d = documents.get_document(document_id, viewer)
    mention = mentions.create_from_data(viewer, d, json_body())
    return jsonify(passage_json(passage_service.passage(viewer, mention))), 201


@bp.get("/mentions/<int:mention_id>")
def get_mention(mention_id: int):
    viewer = current_viewer()
    return jsonify(
        passage_json(passage_service.passage(viewer, mentions.get_mention(mention_id, viewer)))
    )


@bp.patch("/mentions/<int:mention_id>")
def update_mention(mention_id: int):
    viewer = current_viewer()
    mention = mentions.get_mention(mention_id, viewer)
    mentions.update_mention(viewer, mention, json_body())
    return jsonify(passage_json(passage_service.passage(viewer, mention)))


@bp.delete("/mentions/<int:mention_id>")
def delete_mention(mention_id: int):
    viewer = current_viewer()
    mentions.delete_mention(viewer, mentions.get_mention(mention_id, viewer))
    return "", 204


@bp.get("/interviews/<int:interview_id>/mentions")
def interview_mentions(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    items = [passage_json(p) for p in passage_service.passages_for_interview(viewer, interview)]
    return jsonify(items=items, total=len(items))


@bp.get("/documents/<int:document_id>/suggestions")
def document_suggestions(document_id: int):
    viewer = current_viewer()
    d = documents.get_document(document_id, viewer)
    items = [suggestion_json(s) for s in suggestion_service.suggestions(viewer, d)]
    return jsonify(items=items, total=len(items))


@bp.post("/documents/<int:document_id>/suggestions/accept")
def accept_suggestion(document_id: int):
    viewer = current_viewer()
    d = documents.get_document(document_id, viewer)
    body = json_body()
    mention = suggestion_service.accept_suggestion(
        viewer, d, body.get("segment_id"), body.get("note") or ""
    )
    return jsonify(passage_json(passage_service.passage(viewer, mention))), 201


@bp.post("/documents/<int:document_id>/suggestions/dismiss")
def dismiss_suggestion(document_id: int):
    viewer = current_viewer()
    d = documents.get_document(document_id, viewer)
    body = json_body()
    if "start_ms" not in body:
        raise ValidationError("start_ms is required.", fields={"start_ms": "is required"})
    dismissed = suggestion_service.dismiss_suggestion(
        viewer, d, body.get("interview_id"), body["start_ms"]
    )
    return jsonify(
        document_id=d.id, interview_id=dismissed.interview_id, start_ms=dismissed.start_ms
    ), 201
