"""API: audio staged for a one-step deposit (what the deposit page's script uses).

``POST /api/v1/deposit/audio`` (multipart ``file``, several allowed) streams each file into
storage and answers 201 with the staged files; ``GET`` lists the caller's; ``DELETE
/api/v1/deposit/audio/<id>`` removes one. The deposit itself is the page's form."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...access import current_viewer, policy, require
from ...models import StagedAudio
from ...services import deposit
from .. import streamed_upload
from . import bp


def staged_json(row: StagedAudio) -> dict[str, Any]:
    return {
        "id": row.id,
        "original_filename": row.original_filename,
        "duration_ms": row.duration_ms,
        "format": row.format,
        "size": row.size,
        "sha256": row.sha256,
        "browser_playable": row.browser_playable,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


@bp.url_value_preprocessor
def _stream_upload(endpoint, values) -> None:
    from flask import request

    if endpoint == "api.stage_deposit_audio" and request.method == "POST":
        streamed_upload.begin()


@bp.post("/deposit/audio")
def stage_deposit_audio():
    staged = deposit.stage_uploads(current_viewer(), streamed_upload.current())
    return jsonify(items=[staged_json(row) for row in staged]), 201


@bp.get("/deposit/audio")
def list_deposit_audio():
    viewer = current_viewer()
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    return jsonify(items=[staged_json(row) for row in deposit.staged_for(viewer)])


@bp.delete("/deposit/audio/<int:staged_id>")
def discard_deposit_audio(staged_id: int):
    viewer = current_viewer()
    deposit.discard_staged(viewer, deposit.get_staged(viewer, staged_id))
    return "", 204
