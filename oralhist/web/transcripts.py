"""Transcript pages: the interview page's transcript panel, import with preview and confirm,
versions and restore, speakers, and downloads.

Between preview and confirm the uploaded bytes wait in ``instance/transcript-uploads/`` under
a random token. The token is remembered in the user's (signed) session for that interview,
and the file's sidecar names the user: only the same user in the same session can confirm
it. A file is deleted on confirm or cancel, and any older than an hour is swept away on the
next upload, so abandoned previews do not pile up. Re-posting the file instead would make
the contributor choose it twice and send it twice.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..access import current_viewer, now, policy
from ..errors import OralHistError, ValidationError
from ..extensions import db
from ..models import Interview, Person
from ..services import (
    catalogue,
    consent,
    transcript_export,
    transcript_speakers,
    transcript_versions,
)
from ..services import transcripts as service
from ..services.fields import MAX_TIME_MS, record_id, whole_number_problem
from ..transaction import abandon
from ..transcripts import FORMATS, format_t_param, format_timecode, parse_t_param
from .catalogue import interview_panel

bp = Blueprint("transcripts", __name__)

#: Seconds an uploaded file waits for its confirmation.
PENDING_TTL = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
FORMAT_CHOICES = [
    ("", "Detect from the content"),
    ("vtt", "WebVTT (.vtt)"),
    ("srt", "SubRip (.srt)"),
    ("ohms", "OHMS XML"),
    ("txt", "Plain text (SPEAKER: turns, optional [hh:mm:ss])"),
    ("json", "JSON (Whisper, WhisperX, whisper.cpp; word timings kept)"),
    ("sbv", "YouTube SubViewer (.sbv)"),
    ("docx", "Word document (.docx)"),
]
DOWNLOAD_LABELS = {
    "vtt": "WebVTT",
    "srt": "SRT",
    "txt": "Text",
    "json": "JSON",
    "ohms": "OHMS XML",
}


# --- the interview page's panel ------------------------------------------------------------


@interview_panel
def transcript_panel(interview: Interview, viewer) -> dict[str, Any]:
    """Template variables (``tx_*``) of ``transcripts/_panel.html``."""
    at = now()
    can_edit = policy.can_edit_material(viewer, interview)
    if not policy.can_read_transcript(viewer, interview, at):
        return {"tx_show": False}
    transcript = transcript_versions.current_transcript(interview)
    highlight = record_id(request.args.get("hl", ""))
    paging = _transcript_page(transcript, highlight)
    redactor = consent.redactor_for(viewer, interview, at)
    rows = (
        transcript_export.rows(
            transcript, start=paging["start"], limit=paging["size"], redactor=redactor
        )
        if transcript is not None
        else []
    )
    timed = transcript is not None and transcript_export.is_timed(transcript)
    formats = []
    if transcript is not None and rows and policy.can_download_transcript(viewer, interview, at):
        formats = [f for f in DOWNLOAD_LABELS if timed or f not in transcript_export.TIMED_ONLY]
    return {
        "tx_show": True,
        "tx_transcript": transcript,
        "tx_rows": rows,
        "tx_total": paging["total"],
        "tx_page": paging["page"],
        "tx_pages": paging["pages"],
        "tx_first": paging["start"] + 1,
        "tx_last": paging["start"] + len(rows),
        "tx_timed": timed,
        "tx_words_url": url_for("transcripts.word_timings", interview_id=interview.id)
        if any(r.has_words for r in rows)
        else None,
        "tx_index": _index_view(transcript, redactor) if transcript is not None else [],
        "tx_highlight": highlight,
        "tx_can_edit": can_edit,
        "tx_formats": formats,
        "tx_format_labels": DOWNLOAD_LABELS,
        "tx_format_choices": FORMAT_CHOICES,
        # "/segments/" : the template appends "<id>/speaker" (no url_for per segment).
        "tx_segment_prefix": url_for("transcripts.segment_speaker", segment_id=0)[:-9],
    }


def _transcript_page(transcript, highlight: int | None) -> dict[str, int]:
    """Which page of the transcript the interview page shows (``TRANSCRIPT_PAGE_SEGMENTS``
    segments each): ``tx_page`` when given, else the page holding the highlighted segment
    (``hl``, where search results land) or the moment ``?t=`` opens the player at, else the
    first. The page costs the same whatever the transcript's length."""
    size = int(current_app.config["TRANSCRIPT_PAGE_SEGMENTS"])
    total = transcript.segment_count if transcript is not None else 0
    pages = max(1, -(-total // size))
    page = 1
    explicit = request.args.get("tx_page", "")
    if explicit and whole_number_problem(explicit, 1, pages) is None:
        page = int(explicit)
    elif transcript is not None and total > size:
        t_ms = None
        raw_t = request.args.get("t", "")
        if raw_t:
            try:
                t_ms = parse_t_param(raw_t)
            except ValueError:
                t_ms = None
            if t_ms is not None and not 0 <= t_ms <= MAX_TIME_MS:
                t_ms = None  # no such moment: never handed to the database
        position = transcript_export.position_at(transcript, segment_id=highlight, t_ms=t_ms)
        if position is not None:
            page = min(pages, position // size + 1)
    return {"page": page, "pages": pages, "size": size, "start": (page - 1) * size, "total": total}


def _index_view(transcript, redactor: consent.Redactor) -> list[dict[str, Any]]:
    """Index points with their link values; only http(s) hyperlinks become links. A point in
    a redacted range shows its placeholder instead of its partial transcript."""
    return [
        {
            "point": point,
            "partial_transcript": redactor.point_text(point.start_ms, point.partial_transcript),
            "title": redactor.anonymise(point.title),
            "synopsis": redactor.anonymise(point.synopsis),
            "t": format_t_param(point.start_ms),
            "timecode": format_timecode(point.start_ms, style="hms"),
            "links": [
                (url, text or url)
                for url, text in (point.hyperlinks or [])
                if str(url).lower().startswith(("http://", "https://"))
            ],
        }
        for point in transcript.index_points
    ]


def _interview(interview_id: int) -> Interview:
    return catalogue.get_interview(interview_id, current_viewer())


def _require_edit(interview: Interview) -> None:
    transcript_speakers.require_edit(current_viewer(), interview)


def _require_read(interview: Interview) -> None:
    transcript_speakers.require_read(current_viewer(), interview)


# --- pending uploads (between preview and confirm) -----------------------------------------


def _pending_dir() -> Path:
    folder = Path(current_app.instance_path) / "transcript-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    limit = time.time() - PENDING_TTL
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def _session_tokens() -> dict[str, str]:
    tokens = session.get("transcript_uploads")
    return dict(tokens) if isinstance(tokens, dict) else {}


def _save_pending(
    interview: Interview, data: bytes, filename: str, fmt: str | None, *, large: bool = False
) -> str:
    folder = _pending_dir()
    _sweep(folder)
    old = _session_tokens().get(str(interview.id))
    if old and _TOKEN.fullmatch(old):
        _remove_files(folder, old)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    meta = {
        "user_id": current_viewer().user_id,
        "interview_id": interview.id,
        "filename": filename,
        "format": fmt,
        "large": large,
        "created": time.time(),
    }
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    tokens = _session_tokens()
    tokens[str(interview.id)] = token
    session["transcript_uploads"] = tokens
    return token


def _remove_files(folder: Path, token: str) -> None:
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _load_pending(interview: Interview, token: str) -> tuple[bytes, dict]:
    expired = ValidationError("This preview has expired or is not yours; upload the file again.")
    if not _TOKEN.fullmatch(token or "") or _session_tokens().get(str(interview.id)) != token:
        raise expired
    folder = _pending_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        raise expired from None
    if (
        meta.get("user_id") != current_viewer().user_id
        or meta.get("interview_id") != interview.id
        or time.time() - float(meta.get("created", 0)) > PENDING_TTL
    ):
        _remove_files(folder, token)
        raise expired
    return data, meta


def _drop_pending(interview: Interview, token: str) -> None:
    if _TOKEN.fullmatch(token or ""):
        _remove_files(_pending_dir(), token)
    tokens = _session_tokens()
    if tokens.pop(str(interview.id), None) is not None:
        session["transcript_uploads"] = tokens


# --- import --------------------------------------------------------------------------------


def _form(interview: Interview, message: str | None = None, status: int = 200, fmt: str = ""):
    return render_template(
        "transcripts/import.html",
        interview=interview,
        message=message,
        format_choices=FORMAT_CHOICES,
        chosen_format=fmt,
        current=transcript_versions.current_transcript(interview),
        max_bytes=service.max_bytes(),
        max_segments=service.segment_limit(current_viewer()),
        can_import_large=policy.can_manage(current_viewer()),
    ), status


def _chosen_format() -> str | None:
    fmt = (request.form.get("format") or "").strip().lower()
    if fmt and fmt not in FORMATS:
        raise ValidationError(f"Choose a format: {', '.join(FORMATS)}, or leave it to detection.")
    return fmt or None


@bp.route("/interviews/<int:interview_id>/transcript/import", methods=["GET", "POST"])
def import_form(interview_id: int):
    interview = _interview(interview_id)
    _require_edit(interview)
    if request.method == "GET":
        return _form(interview)
    try:
        service.check_request_size(request.content_length)
    except OralHistError as exc:
        return _form(interview, exc.message, exc.status)
    fmt_text = request.form.get("format", "")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(interview, "Choose a transcript file to upload.", 422, fmt_text)
    try:
        fmt = _chosen_format()
        data = service.read_upload(upload.stream, upload.filename)
        large = bool(request.form.get("large"))
        result = service.import_transcript(
            current_viewer(), interview, data, upload.filename, fmt, dry_run=True, large=large
        )
    except OralHistError as exc:
        abandon()
        return _form(interview, exc.message, exc.status, fmt_text)
    token = _save_pending(interview, data, result.filename, fmt, large=large)
    return render_template(
        "transcripts/preview.html",
        interview=interview,
        result=result,
        token=token,
        chosen_format=fmt or "",
        prefill=service.prefill_suggestions(interview, result.header),
        extras=service.header_extras(result.header),
        current=transcript_versions.current_transcript(interview),
    )


@bp.post("/interviews/<int:interview_id>/transcript/import/confirm")
def confirm_import(interview_id: int):
    interview = _interview(interview_id)
    _require_edit(interview)
    viewer = current_viewer()
    token = request.form.get("token", "")
    try:
        data, meta = _load_pending(interview, token)
        result = service.import_transcript(
            viewer, interview, data, meta["filename"], meta.get("format"), large=meta.get("large")
        )
        filled = service.apply_prefill(
            viewer, interview, result.header, request.form.getlist("prefill")
        )
    except OralHistError as exc:
        abandon()
        return _form(interview, exc.message, exc.status)
    _drop_pending(interview, token)
    note = f" Filled in from the file: {', '.join(filled)}." if filled else ""
    flash(
        f"Transcript version {result.version} imported: {result.segment_count} segments, "
        f"{len(result.speakers)} speakers, {len(result.warnings)} warnings.{note}",
        "success",
    )
    return redirect(url_for("catalogue.interview", interview_id=interview.id) + "#transcript")


@bp.post("/interviews/<int:interview_id>/transcript/import/cancel")
def cancel_import(interview_id: int):
    interview = _interview(interview_id)
    _drop_pending(interview, request.form.get("token", ""))
    flash("The import was cancelled; nothing was saved.", "info")
    return redirect(url_for("catalogue.interview", interview_id=interview.id))


# --- versions ------------------------------------------------------------------------------


@bp.get("/interviews/<int:interview_id>/transcript/versions")
def versions(interview_id: int):
    interview = _interview(interview_id)
    _require_read(interview)
    return render_template(
        "transcripts/versions.html",
        interview=interview,
        versions=transcript_versions.versions(interview),
        can_edit=policy.can_edit_material(current_viewer(), interview),
    )


@bp.post("/interviews/<int:interview_id>/transcript/versions/<int:version>/restore")
def restore(interview_id: int, version: int):
    interview = _interview(interview_id)
    transcript_versions.restore_version(current_viewer(), interview, version)
    flash(f"Transcript version {version} is current again.", "success")
    return redirect(url_for("transcripts.versions", interview_id=interview.id))


# --- speakers ------------------------------------------------------------------------------


@bp.get("/interviews/<int:interview_id>/speakers")
def speakers(interview_id: int):
    interview = _interview(interview_id)
    _require_read(interview)
    can_edit = policy.can_edit_material(current_viewer(), interview)
    people = []
    if can_edit:
        people = db.session.scalars(db.select(Person).order_by(Person.sort_name)).all()
    redactor = consent.redactor_for(current_viewer(), interview)
    return render_template(
        "transcripts/speakers.html",
        interview=consent.public_view(interview, redactor),
        speakers=[
            (consent.public_speaker(s, redactor), n)
            for s, n in transcript_speakers.speakers_with_counts(interview)
        ],
        people=people,
        participant_ids={p.person_id for p in interview.participants},
        can_edit=can_edit,
        merges=transcript_speakers.undoable_merges(interview) if can_edit else [],
    )


@bp.post("/interviews/<int:interview_id>/speakers/<int:speaker_id>")
def update_speaker(interview_id: int, speaker_id: int):
    interview = _interview(interview_id)
    speaker = transcript_speakers.get_speaker(interview, speaker_id)
    data = {key: request.form[key] for key in ("display_name", "person_id") if key in request.form}
    transcript_speakers.update_speaker(current_viewer(), speaker, data)
    flash(f"Speaker {speaker.label} saved.", "success")
    return redirect(url_for("transcripts.speakers", interview_id=interview.id))


@bp.post("/interviews/<int:interview_id>/speakers/<int:speaker_id>/merge")
def merge_speaker(interview_id: int, speaker_id: int):
    interview = _interview(interview_id)
    source = transcript_speakers.get_speaker(interview, speaker_id)
    into_id = request.form.get("into", "")
    if record_id(into_id) is None:
        raise ValidationError("Choose the speaker to merge into.")
    into = transcript_speakers.get_speaker(interview, record_id(into_id))
    if request.form.get("confirm") != "yes":
        # nothing changes until the contributor confirms (page: templates/player/)
        transcript_speakers.require_edit(current_viewer(), interview)
        return render_template(
            "player/speaker_merge_confirm.html",
            interview=interview,
            source=source,
            into=into,
            counts=transcript_speakers.merge_counts(source),
        )
    label = source.label
    transcript_speakers.merge(current_viewer(), source, into)
    flash(f"{label} is merged into {into.label}. You can undo it below.", "success")
    return redirect(url_for("transcripts.speakers", interview_id=interview.id))


@bp.route("/segments/<int:segment_id>/speaker", methods=["GET", "POST"])
def segment_speaker(segment_id: int):
    viewer = current_viewer()
    segment = transcript_speakers.get_segment(segment_id, viewer)
    interview = segment.transcript.interview
    _require_edit(interview)
    if request.method == "POST":
        raw = request.form.get("speaker_id", "")
        if raw and record_id(raw) is None:
            raise ValidationError("Choose one of the interview's speakers.")
        transcript_speakers.reassign_segment(viewer, segment, record_id(raw) if raw else None)
        flash("The segment's speaker is changed.", "success")
        return redirect(
            url_for("catalogue.interview", interview_id=interview.id, hl=segment.id)
            + f"#seg-{segment.id}"
        )
    return render_template(
        "transcripts/segment_speaker.html",
        interview=interview,
        segment=segment,
        speakers=[s for s, _ in transcript_speakers.speakers_with_counts(interview)],
    )


# --- word timings for the player --------------------------------------------------------


@bp.get("/interviews/<int:interview_id>/transcript/words")
def word_timings(interview_id: int):
    """``{"segments": {"<segment id>": [start ms, ...]}}`` of the current transcript, for
    the player's word highlighting; under the same policy as the transcript on the page."""
    interview = _interview(interview_id)
    transcript = transcript_export.readable_transcript(current_viewer(), interview)
    starts = transcript_export.word_starts(
        transcript, consent.redactor_for(current_viewer(), interview)
    )
    return jsonify({"segments": {str(k): v for k, v in starts.items()}})


# --- downloads -----------------------------------------------------------------------------


@bp.get("/interviews/<int:interview_id>/transcript/download")
def download(interview_id: int):
    interview = _interview(interview_id)
    fmt = request.args.get("format", "vtt").strip().lower()
    export = transcript_export.export_transcript(current_viewer(), interview, fmt)
    return Response(
        export.content,
        content_type=export.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
