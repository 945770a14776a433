"""The one-step deposit page (``/deposit``): catalogue essentials, the audio in parts and
perhaps a transcript, for depositors who are not technical (#14 item 5).

The audio is staged first (``POST /deposit/audio``, streamed; with JavaScript,
``deposit.js`` sends each file to the API as soon as it is chosen, with a progress bar), so
a 1.7 GB master is sent once and survives a refused form. Submitting the form saves
everything in the request's one unit of work (``services.deposit.deposit``): a bad
transcript shows the form again with the file, line and problem, keeping what was typed and
the staged audio. Then the interview page shows the job the archive started."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..access import current_viewer, policy, require
from ..errors import OralHistError, ValidationError
from ..extensions import db
from ..models import Collection
from ..models.types import PARTICIPANT_ROLES
from ..services import deposit as service
from ..services import transcripts
from ..services.fields import record_id
from ..transaction import abandon
from ..transcripts import FORMATS
from ..transcripts.timecode import format_timecode
from . import streamed_upload
from .catalogue import _form_data
from .helpers import form_errors

bp = Blueprint("deposit", __name__)

#: Who may listen, as the deposit page offers it (an archivist can refine it later).
LISTEN_CHOICES = (
    ("open", "Anyone (open)"),
    ("restricted", "On request: researchers ask, an archivist decides (restricted)"),
)
DEPOSIT_FIELDS = ("staged", "transcript_format")


@bp.url_value_preprocessor
def _stream_upload(endpoint: str | None, values: Any) -> None:
    """Start reading the audio before the CSRF check parses the body (streamed_upload)."""
    if endpoint == "deposit.stage_audio" and request.method == "POST":
        streamed_upload.begin()


def _page(form=None, errors=None, message=None, status: int = 200):
    viewer = current_viewer()
    staged = service.staged_for(viewer)
    chosen = {record_id(v) for v in form.getlist("staged")} if form is not None else None
    return render_template(
        "deposit/page.html",
        form=form,
        errors=errors or {},
        message=message,
        staged=staged,
        chosen=chosen,
        staged_hours=service.staged_hours(),
        listen_choices=LISTEN_CHOICES,
        participant_roles=PARTICIPANT_ROLES,
        collections=db.session.scalars(select(Collection).order_by(Collection.title)).all(),
        formats=FORMATS,
        interview=None,
        max_transcript_bytes=transcripts.max_bytes(),
        duration=lambda ms: format_timecode(ms, style="hms"),
    ), status


@bp.route("/deposit", methods=["GET", "POST"])
def deposit():
    viewer = current_viewer()
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    if request.method == "GET":
        return _page()
    try:
        transcripts.check_request_size(request.content_length)
        data = {k: v for k, v in _form_data().items() if k not in DEPOSIT_FIELDS}
        staged_ids = [record_id(v) for v in request.form.getlist("staged")]
        if None in staged_ids:
            raise ValidationError("Choose the audio from the list.", fields={"audio": "unknown"})
        upload = request.files.get("transcript")
        transcript = None
        if upload is not None and upload.filename:
            fmt = (request.form.get("transcript_format") or "").strip().lower() or None
            if fmt is not None and fmt not in FORMATS:
                raise ValidationError(
                    f"Choose the transcript's format ({', '.join(FORMATS)}) or leave it to "
                    "detection.",
                    fields={"transcript": "unknown format"},
                )
            transcript = service.TranscriptUpload(
                transcripts.read_upload(upload.stream, upload.filename), upload.filename, fmt
            )
        result = service.deposit(viewer, data, staged_ids, transcript)
    except OralHistError as exc:
        abandon()  # undo the half-made deposit now, so the page shows the audio still staged
        errors = form_errors(exc) if isinstance(exc, ValidationError) else {}
        if exc.details.get("line") is not None or exc.details.get("filename"):
            errors.setdefault("transcript", exc.message)
        message = exc.message
        if request.form.getlist("staged"):
            message += (
                " Nothing was deposited. Your audio is kept (below): fix what is named and "
                "send the form again"
                + (" with the transcript file chosen again." if "transcript" in errors else ".")
            )
        return _page(request.form, errors, message, exc.status)
    flash(_what_happens(result), "success")
    return redirect(url_for("catalogue.interview", interview_id=result.interview.id))


def _what_happens(result: service.DepositResult) -> str:
    """The sentence the depositor reads after a deposit: what was saved and what is next."""
    interview = result.interview
    parts = len(result.recordings)
    saved = (
        f"Deposited {interview.accession} “{interview.title}”: {parts} audio "
        f"part{'s' if parts != 1 else ''}"
        + (f" and the transcript {result.transcript.filename}" if result.transcript else "")
        + "."
    )
    if result.job_kind == "align":
        next_step = (
            " The archive is now aligning the transcript to the audio (progress below). You "
            "will be told here and by mail when the proposed time-coded transcript is ready "
            "to check."
        )
    elif result.job_kind == "transcribe":
        next_step = (
            " The archive is now making a draft machine transcript (progress below). You will "
            "be told here and by mail when it is ready to check and correct."
        )
    elif result.unavailable:
        next_step = (
            " This archive cannot "
            + ("align transcripts" if result.unavailable == "align" else "transcribe audio")
            + " by itself yet (no engine is installed): an archivist can add the times later."
        )
    elif result.transcript is not None:
        next_step = " The transcript is already time-coded: nothing more to do."
    else:
        next_step = ""
    if result.waiting:
        next_step += (
            f" {len(result.waiting)} more part{'s' if len(result.waiting) != 1 else ''} can be "
            "transcribed once this job is done."
        )
    return saved + next_step + " When it is ready, submit it for review."


@bp.post("/deposit/audio")
def stage_audio():
    """The audio upload without JavaScript (with it, deposit.js uses the API)."""
    viewer = current_viewer()
    staged = service.stage_uploads(viewer, streamed_upload.current())
    flash(
        "Kept for your deposit: "
        + ", ".join(
            f"{s.original_filename} ({format_timecode(s.duration_ms, style='hms')})" for s in staged
        )
        + ". Now fill in the rest of the form.",
        "success",
    )
    return redirect(url_for("deposit.deposit", _anchor="audio"))


@bp.post("/deposit/audio/<int:staged_id>/remove")
def remove_audio(staged_id: int):
    viewer = current_viewer()
    row = service.get_staged(viewer, staged_id)
    name = row.original_filename
    service.discard_staged(viewer, row)
    flash(f"Removed {name} from your deposit.", "info")
    return redirect(url_for("deposit.deposit", _anchor="audio"))
