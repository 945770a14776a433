"""API: the transcript editor. Each saved edit (or batch of edits) is a new version.

Every write names the ``base_version`` it was made on; when another version has become
current meanwhile the answer is 409 ``version_conflict`` with ``details.current_version``
and what changed (nothing is saved). Validation errors are 422 naming the field.

- ``PATCH /segments/<id>``: ``text``, ``start_ms``, ``end_ms``, ``speaker_id``
- ``POST /segments/<id>/split``: ``offset`` (in the text), optional ``at_ms``
- ``POST /segments/<id>/merge``: with the next segment
- ``POST /interviews/<id>/transcript/edits``: ``operations`` (see
  ``services.transcript_editing``), the editor page's save
- ``POST /interviews/<id>/index-points``, ``PATCH|DELETE /index-points/<id>``
- ``GET /interviews/<id>/transcripts/<version>/diff?against=<version>``
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ...access import current_viewer
from ...errors import ValidationError
from ...extensions import db
from ...models import IndexPoint, Interview, Segment
from ...services import (
    catalogue,
    consent,
    transcript_editing,
    transcript_speakers,
    transcript_versions,
)
from ...services.fields import record_id
from . import bp
from .common import json_body
from .serialise import index_point_json


def _segment_json(segment_id: int | None) -> dict[str, Any] | None:
    if segment_id is None:
        return None
    segment = db.session.get(Segment, segment_id, populate_existing=True)
    if segment is None:
        return None
    return {
        "id": segment.id,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "speaker": segment.speaker.name if segment.speaker else None,
        "speaker_id": segment.speaker_id,
        "text": segment.text,
    }


def _save(interview: Interview, operations: list[dict[str, Any]], body: dict[str, Any]):
    return transcript_editing.save_edits(
        current_viewer(), interview, operations, body.get("base_version")
    )


@bp.patch("/segments/<int:segment_id>")
def update_segment(segment_id: int):
    """Any of ``text``, ``start_ms``, ``end_ms``, ``speaker_id`` (null: no speaker), and
    ``base_version``. 200 with the segment (same id) and the new ``version``."""
    viewer = current_viewer()
    segment, interview = transcript_editing.segment_of(segment_id, viewer)
    body = json_body()
    fields = {k: body[k] for k in ("text", "start_ms", "end_ms", "speaker_id") if k in body}
    if not fields:
        transcript_editing.require_edit(viewer, interview)
        raise ValidationError(
            "Send at least one of text, start_ms, end_ms, speaker_id.",
            fields={"text": "nothing to change"},
        )
    result = _save(interview, [{"op": "update", "segment_id": segment.id, **fields}], body)
    data = _segment_json(result.segment_ids.get(str(segment.id)))
    return jsonify({**(data or {}), "version": result.version})


@bp.post("/segments/<int:segment_id>/split")
def split_segment(segment_id: int):
    """``offset`` (characters into the text where the second part begins), optional
    ``at_ms`` (its start; else the word timings, else in proportion), ``base_version``.
    201 with both parts."""
    viewer = current_viewer()
    segment, interview = transcript_editing.segment_of(segment_id, viewer)
    body = json_body()
    op = {"op": "split", "segment_id": segment.id, "ref": "second"}
    op.update({k: body[k] for k in ("offset", "at_ms") if k in body})
    result = _save(interview, [op], body)
    first = _segment_json(result.segment_ids.get(str(segment.id)))
    second = _segment_json(result.segment_ids.get("second"))
    return jsonify({"version": result.version, "segments": [first, second]}), 201


@bp.post("/segments/<int:segment_id>/merge")
def merge_segment(segment_id: int):
    """Merge the segment with the next one (same speaker): 200 with the merged segment."""
    viewer = current_viewer()
    segment, interview = transcript_editing.segment_of(segment_id, viewer)
    body = json_body()
    result = _save(interview, [{"op": "merge", "segment_id": segment.id}], body)
    merged = _segment_json(result.segment_ids.get(str(segment.id)))
    return jsonify({**(merged or {}), "version": result.version})


@bp.post("/interviews/<int:interview_id>/transcript/edits")
def save_edits(interview_id: int):
    """``{"base_version": n, "operations": [...]}``: one new version for the whole batch
    (201; 200 with ``created: false`` when nothing changed)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_editing.require_edit(viewer, interview)
    body = json_body()
    if "operations" not in body:
        raise ValidationError("Send 'operations'.", fields={"operations": "required"})
    result = _save(interview, body["operations"], body)
    return jsonify(result.as_json()), 201 if result.created else 200


@bp.post("/interviews/<int:interview_id>/index-points")
def add_index_point(interview_id: int):
    """``start_ms``, ``title``, optional ``synopsis``, ``keywords``, ``partial_transcript``,
    and ``base_version``: 201 with the point and the new ``version``."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_editing.require_edit(viewer, interview)
    body = json_body()
    op = {k: v for k, v in body.items() if k != "base_version"}
    result = _save(interview, [{**op, "op": "index_add", "ref": "new"}], body)
    return jsonify(_point_json(result.index_ids.get("new"), result.version)), 201


@bp.patch("/index-points/<int:point_id>")
def update_index_point(point_id: int):
    viewer = current_viewer()
    point, interview = transcript_editing.index_point_of(point_id, viewer)
    body = json_body()
    op = {k: v for k, v in body.items() if k not in ("base_version", "index_point_id")}
    result = _save(interview, [{**op, "op": "index_update", "index_point_id": point.id}], body)
    return jsonify(_point_json(result.index_ids.get(str(point.id)), result.version))


@bp.delete("/index-points/<int:point_id>")
def delete_index_point(point_id: int):
    """``base_version`` in the JSON body or the query string. 200 with the new version."""
    viewer = current_viewer()
    point, interview = transcript_editing.index_point_of(point_id, viewer)
    body = json_body() if request.get_data(cache=True) else {}
    if "base_version" not in body and request.args.get("base_version"):
        number = record_id(request.args["base_version"])
        if number is None:
            raise ValidationError(
                "'base_version' must be a version number.", fields={"base_version": "number"}
            )
        body = {**body, "base_version": number}
    result = _save(interview, [{"op": "index_delete", "index_point_id": point.id}], body)
    return jsonify({"version": result.version, "deleted": point.id})


@bp.get("/interviews/<int:interview_id>/transcripts/<int:version>/diff")
def version_diff(interview_id: int, version: int):
    """What version ``version`` changed against ``against`` (default: the version it was
    edited on, else the one before it)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_read(viewer, interview)
    against = _against(interview, version)
    found = transcript_versions.diff_versions(
        interview, against, version, redactor=consent.redactor_for(viewer, interview)
    )
    return jsonify(found.as_json())


def _against(interview: Interview, version: int) -> int:
    raw = request.args.get("against")
    if raw:
        number = record_id(raw)
        if number is None:
            raise ValidationError(
                "'against' must be a version number.", fields={"against": "number"}
            )
        return number
    target = transcript_versions.get_version(interview, version)
    return target.base_version or max(1, version - 1)


def _point_json(point_id: int | None, version: int) -> dict[str, Any]:
    point = db.session.get(IndexPoint, point_id, populate_existing=True) if point_id else None
    return {**(index_point_json(point) if point else {}), "version": version}
