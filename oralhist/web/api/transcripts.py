"""API: transcripts (import, versions, restore, read and export) and speakers."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from ...access import current_viewer
from ...errors import ValidationError
from ...services import (
    catalogue,
    consent,
    transcript_export,
    transcript_speakers,
    transcript_versions,
)
from ...services import transcripts as service
from ...services.fields import page_args
from ...transcripts import FORMATS
from . import bp
from .common import json_body, page_of
from .serialise import speaker_json, transcript_json, version_json


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@bp.post("/interviews/<int:interview_id>/transcripts")
def import_transcript(interview_id: int):
    """Multipart ``file``, optional ``format`` (vtt, srt, ohms, txt, json), ``dry_run=true``
    and, for archivists, ``large=true`` (beyond ``TRANSCRIPT_MAX_SEGMENTS``). 201 with counts
    and warnings (200 and the first segments for a dry run); 422 naming the file and
    ``details.line`` for a file that cannot be imported."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_edit(viewer, interview)
    service.check_request_size(request.content_length)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(
            "Send the transcript as the multipart field 'file'.", fields={"file": "missing"}
        )
    fmt = (request.values.get("format") or "").strip().lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise ValidationError(
            f"The format {fmt!r} is not one of {', '.join(FORMATS)}.",
            fields={"format": "unknown format"},
        )
    dry_run = _flag(request.values.get("dry_run"))
    data = service.read_upload(upload.stream, upload.filename)
    result = service.import_transcript(
        viewer,
        interview,
        data,
        upload.filename,
        fmt,
        dry_run=dry_run,
        large=_flag(request.values.get("large")),
    )
    if dry_run:
        return jsonify(result.as_json()), 200
    return jsonify(result.as_json()), 201


@bp.get("/interviews/<int:interview_id>/transcripts")
def list_versions(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_read(viewer, interview)
    return page_of(transcript_versions.versions_query(interview), version_json)


@bp.post("/interviews/<int:interview_id>/transcripts/<int:version>/restore")
def restore_version(interview_id: int, version: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript = transcript_versions.restore_version(viewer, interview, version)
    return jsonify(version_json(transcript))


@bp.get("/interviews/<int:interview_id>/transcript")
def get_transcript(interview_id: int):
    """``format=json`` (default) gives speakers, index and the segments as JSON, a page at a
    time (``page``, ``per_page``: default ``TRANSCRIPT_API_PER_PAGE`` = 1,000, at most
    ``TRANSCRIPT_API_MAX_PER_PAGE`` = 5,000; ``total`` segments); ``vtt``, ``srt``, ``txt``
    and ``ohms`` give the whole export file (recorded in the audit log)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    fmt = (request.args.get("format") or "json").strip().lower()
    if fmt == "json":
        page, per_page = page_args(
            request.args,
            default_per_page=current_app.config["TRANSCRIPT_API_PER_PAGE"],
            max_per_page=current_app.config["TRANSCRIPT_API_MAX_PER_PAGE"],
        )
        transcript = transcript_export.readable_transcript(viewer, interview)
        redactor = consent.redactor_for(viewer, interview)
        return jsonify(
            transcript_json(interview, transcript, redactor=redactor, page=page, per_page=per_page)
        )
    export = transcript_export.export_transcript(viewer, interview, fmt)
    return Response(
        export.content,
        content_type=export.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@bp.get("/interviews/<int:interview_id>/speakers")
def list_speakers(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_read(viewer, interview)
    redactor = consent.redactor_for(viewer, interview)
    items = [
        speaker_json(s, n, redactor) for s, n in transcript_speakers.speakers_with_counts(interview)
    ]
    return jsonify(items=items, page=1, per_page=max(len(items), 1), total=len(items))


@bp.get("/interviews/<int:interview_id>/speakers/<int:speaker_id>")
def get_speaker(interview_id: int, speaker_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_read(viewer, interview)
    return jsonify(
        speaker_json(
            transcript_speakers.get_speaker(interview, speaker_id),
            redactor=consent.redactor_for(viewer, interview),
        )
    )


@bp.patch("/interviews/<int:interview_id>/speakers/<int:speaker_id>")
def update_speaker(interview_id: int, speaker_id: int):
    """``display_name`` and/or ``person_id`` (null unlinks)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    speaker = transcript_speakers.get_speaker(interview, speaker_id)
    data = json_body()
    transcript_speakers.update_speaker(viewer, speaker, data)
    return jsonify(speaker_json(speaker))


@bp.post("/interviews/<int:interview_id>/speakers/<int:speaker_id>/merge")
def merge_speaker(interview_id: int, speaker_id: int):
    """``{"into": speaker_id}``: the segments move there and this speaker is removed."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    source = transcript_speakers.get_speaker(interview, speaker_id)
    into = json_body().get("into")
    if isinstance(into, bool) or not isinstance(into, int):
        raise ValidationError(
            "Name the speaker to merge into as 'into' (an id).", fields={"into": "required"}
        )
    target = transcript_speakers.merge_speakers(
        viewer, source, transcript_speakers.get_speaker(interview, into)
    )
    return jsonify(speaker_json(target))
