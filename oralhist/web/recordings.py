"""Recordings on the interview page (upload, label, reorder, delete), the audio endpoints
(stream and download) and the archivist's fixity page.

Audio is served by the media storage's ``send`` (``media/storage.py``): it answers ``Range``
with a single-range 206 (multi-range requests get the whole file, 200), ``If-None-Match`` /
``If-Modified-Since`` with 304, and an unsatisfiable range with 416 carrying ``Content-Range:
bytes */size``. The access check comes first, before any of that.

Who gets which bytes is ``policy.audio_delivery``: a listen-only grant gets Range responses
of at most ``LISTEN_ONLY_RANGE_BYTES`` from ``/audio`` and no whole file (a deterrent, see the
README). Audit (``services.audit.audio_sent``): when bytes of a recording that is not open go
out (200 or 206 to a GET; never HEAD, 304 or 416), a ``recording.play`` (``/audio``, whatever
the Range, browser or script) or a ``recording.download`` (``/download``) is written once per
listening session. The player fetches nothing before playback starts (``preload="none"``), so
opening the page is not a play.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.http import parse_range_header

from ..access import current_viewer, now, policy, require
from ..errors import AccessDenied, NotFound
from ..media import derivatives
from ..models import Interview, Recording
from ..services import audit, fixity, recordings, redacted_audio
from ..services import catalogue as catalogue_service
from ..transcripts.timecode import parse_t_param
from . import streamed_upload
from .catalogue import interview_panel

bp = Blueprint("recordings", __name__)


@bp.url_value_preprocessor
def _stream_upload(endpoint: str | None, values: Any) -> None:
    """Start reading the upload body before the CSRF check can parse it (streamed_upload)."""
    if endpoint == "recordings.upload" and request.method == "POST":
        streamed_upload.begin()


# -- the interview page panel --------------------------------------------------------------


#: Where the loudness strip's peaks are served (BBC audiowaveform JSON, the jobs lane's route).
def _end_param(start_ms: int) -> int | None:
    """``?end=`` of a cited range: where playback stops (ignored unless after the start)."""
    raw = request.args.get("end", "")
    if not raw:
        return None
    try:
        end_ms = parse_t_param(raw)
    except ValueError:
        return None
    return end_ms if end_ms > start_ms else None


@interview_panel
def recordings_panel(interview: Interview, viewer) -> dict:
    at = now()
    parts = recordings.timeline(interview.recordings)
    start_ms = 0
    raw_t = request.args.get("t", "")
    if raw_t:
        try:
            start_ms = parse_t_param(raw_t)
        except ValueError:
            start_ms = 0
    end_ms = _end_param(start_ms)
    can_edit = policy.can_edit_material(viewer, interview)
    return {
        "rec_parts": parts,
        "rec_can_listen": policy.can_listen(viewer, interview, at),
        # parts a browser plays: by their format, or through their access copy
        "rec_playable": derivatives.available(interview.recordings, "access")
        | {r.id for r in interview.recordings if r.browser_playable},
        "rec_level": policy.effective_level(interview, at),
        "rec_sentence": policy.level_sentence(interview, at),
        "rec_can_download": policy.can_download_master(viewer, interview, at),
        "rec_can_edit": can_edit,
        "rec_can_delete": policy.can_manage(viewer, interview),
        # the player asks for a waveform only where one has been computed (no 404 noise)
        "rec_waveforms": derivatives.available(interview.recordings, "waveform"),
        "rec_start_ms": start_ms,
        "rec_end_ms": end_ms,
        "rec_total_ms": sum(r.duration_ms or 0 for r in interview.recordings),
        "rec_tag_suggestions": recordings.tag_suggestions(interview) if can_edit else {},
        "rec_max_bytes": _max_bytes(),
    }


def _max_bytes() -> int | None:
    from flask import current_app

    return current_app.config.get("MAX_CONTENT_LENGTH")


# -- page actions --------------------------------------------------------------------------


def _interview(interview_id: int) -> Interview:
    return catalogue_service.get_interview(interview_id, current_viewer())


def _back(interview_id: int, anchor: str = "recordings"):
    return redirect(url_for("catalogue.interview", interview_id=interview_id, _anchor=anchor))


@bp.post("/interviews/<int:interview_id>/recordings")
def upload(interview_id: int):
    """The upload form (without JavaScript; with it, ``upload.js`` uses the API)."""
    interview = _interview(interview_id)
    added = recordings.add_uploads(
        current_viewer(), interview, streamed_upload.current(), several=True
    )
    message = "Added " + ", ".join(
        f"{r.original_filename} ({r.duration_ms // 1000} s)" for r in added
    )
    message += "."
    for label in sorted({recordings.format_label(r) for r in added if not r.browser_playable}):
        message += (
            f" Web browsers cannot play {label}: listeners will need an access copy (MP3, Ogg, "
            "FLAC, WAV or M4A)."
        )
    flash(message, "success")
    return _back(interview.id)


@bp.post("/recordings/<int:recording_id>/edit")
def edit(recording_id: int):
    recording = recordings.get_recording(recording_id, current_viewer())
    data: dict[str, Any] = {}
    if "label" in request.form:
        data["label"] = request.form["label"]
    if request.form.get("position", "") != "":
        data["position"] = request.form["position"]
    move = request.form.get("move")
    if move in ("up", "down"):
        data["position"] = max(0, recording.position + (-1 if move == "up" else 1))
    recordings.update_recording(current_viewer(), recording, data)
    flash("Recording saved.", "success")
    return _back(recording.interview_id)


@bp.post("/recordings/<int:recording_id>/delete")
def delete(recording_id: int):
    recording = recordings.get_recording(recording_id, current_viewer())
    interview_id, name = recording.interview_id, recording.original_filename
    recordings.delete_recording(current_viewer(), recording)
    flash(f"Removed the recording {name}.", "success")
    return _back(interview_id)


@bp.post("/interviews/<int:interview_id>/recordings/apply-tags")
def apply_tags(interview_id: int):
    interview = _interview(interview_id)
    filled = recordings.apply_embedded_tags(current_viewer(), interview)
    if filled:
        flash("Filled from the embedded tags: " + ", ".join(sorted(filled)) + ".", "success")
    else:
        flash("The embedded tags had nothing for the empty fields.", "info")
    return _back(interview.id, "top")


# -- audio ---------------------------------------------------------------------------------


def _serve(recording_id: int, *, download: bool):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    interview = recording.interview
    at = now()
    # The access copy, when made and present (media.derivatives): what the player streams.
    copy = None if download else derivatives.usable(derivatives.current(recording, "access"))
    delivery = policy.audio_delivery(
        viewer,
        interview,
        at,
        download=download,
        # HEAD sends no audio: it is answered like the player's Range requests
        ranged=bool(request.headers.get("Range")) or request.method == "HEAD",
        listen_only_range_bytes=current_app.config["LISTEN_ONLY_RANGE_BYTES"],
        access_copy=copy is not None,
    )
    require(delivery.allowed, delivery.refusal)
    key, size, mime, sha256, since, name = served_audio(
        viewer, recording, delivery, copy, at, download=download
    )
    media = recordings.storage()
    if not media.exists(key):
        raise NotFound("The recording's file is missing; an archivist has been told by fixity.")
    ranges = parse_range_header(request.headers.get("Range"))
    if ranges is not None and len(ranges.ranges) > 1:
        # One range per response (no multipart/byteranges): ignore the header, send it all.
        request.environ.pop("HTTP_RANGE", None)
        ranges = None
    if ranges is not None and delivery.max_range_bytes:
        _cap_range(ranges, size, delivery.max_range_bytes)
    response = media.send(
        key,
        mimetype=mime,
        as_attachment=download,
        download_name=name,
        etag=sha256,
        last_modified=since,
        # a capped Range (listen-only) must not reach the front server as the client sent it
        accelerate=not delivery.max_range_bytes,
    )
    if delivery.max_range_bytes and response.status_code == 200 and request.method == "GET":
        # The range was dropped (several ranges, a stale If-Range): never the whole file.
        response.close()
        raise AccessDenied(policy.LISTEN_ONLY_REFUSAL)
    if delivery.audited and request.method == "GET" and response.status_code in (200, 206):
        # Bytes are going out: a play (/audio, whatever the Range) or a download (/download),
        # once per listening session (services.audit).
        # The unit of work commits a GET that wrote only read-audit events
        # (transaction.READ_AUDIT_ACTIONS).
        action = "recording.download" if download else "recording.play"
        audit.audio_sent(
            viewer, recording, action, at, byte_range=request.headers.get("Range", "")[:100]
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Accept-Ranges"] = "bytes"
    response.cache_control.private = True
    response.cache_control.public = False
    response.cache_control.no_cache = True
    return response


def served_audio(
    viewer, recording: Recording, delivery, copy, at, *, download: bool = False
) -> tuple:
    """Which file ``delivery`` sends (``policy.audio_delivery`` has allowed it): ``(key,
    size, mime, sha256, last_modified, download_name)``. For everyone but archivists, where
    a redaction falls in the part, its silenced copy (``services.redacted_audio``; never the
    master nor its plain access copy in its place): the silenced access copy for listening,
    the silenced copy in the master's format for ``download``. Else the access copy where
    the delivery streams it, else the master. Shared by ``/audio`` and the front server's
    check (``web/media_check.py``), so both always choose the same bytes."""
    served = redacted_audio.served_file(viewer, recording, download=download)
    if served is not None:
        return (
            served.key,
            served.size,
            served.mime,
            served.sha256,
            recording.uploaded_at,
            _neutral_name(recording, _SUFFIXES.get(served.mime, "")),
        )
    if delivery.source == "access" and copy is not None:
        return (
            copy.storage_key,
            copy.size,
            copy.mime,
            copy.sha256,
            copy.created_at,
            _neutral_name(recording, ".mp3" if copy.mime == "audio/mpeg" else ""),
        )
    # the uploader's file name only where the policy shows it (recording_fields)
    name = (
        recording.original_filename
        if "original_filename" in policy.recording_fields(viewer, recording.interview, at)
        else _neutral_name(recording)
    )
    return (
        recording.storage_key,
        recording.size,
        recording.mime,
        recording.sha256,
        recording.uploaded_at,
        name,
    )


#: The file name's suffix of a derivative served in place of the master, by its type.
_SUFFIXES = {"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/mp4": ".m4a"}


def _neutral_name(recording: Recording, suffix: str = "") -> str:
    """A file name that says no more than the catalogue: accession and part number."""
    from pathlib import PurePath

    suffix = suffix or PurePath(recording.original_filename or "").suffix[:8]
    return f"{recording.interview.accession}-part{recording.position + 1}{suffix}"


def _cap_range(ranges, size: int, limit: int) -> None:
    """Cut a single Range request to at most ``limit`` bytes (a listen-only grant's Range
    responses; the browser asks again for what follows)."""
    span = ranges.range_for_length(size)
    if span is None:
        return  # unsatisfiable: Werkzeug answers 416
    start, stop = span
    if stop - start > limit:
        request.environ["HTTP_RANGE"] = f"bytes={start}-{start + limit - 1}"


@bp.route("/recordings/<int:recording_id>/audio", methods=["GET", "HEAD"])
def audio(recording_id: int):
    return _serve(recording_id, download=False)


@bp.route("/recordings/<int:recording_id>/download", methods=["GET", "HEAD"])
def download(recording_id: int):
    return _serve(recording_id, download=True)


# -- fixity --------------------------------------------------------------------------------


@bp.get("/admin/fixity")
def fixity_page():
    require(policy.can_manage(current_viewer()), "Only archivists see fixity checks.")
    checks = fixity.latest_checks(10)
    return render_template(
        "recordings/fixity.html", last=checks[0] if checks else None, checks=checks
    )
