"""The front server's access check for the player's audio (``MEDIA_ACCEL_AUTH``).

With ``docs/deploy/nginx-oralhist-audio-check.conf``, nginx asks ``/_oh/media-check`` by
``auth_request`` before it answers a request of ``/recordings/<id>/audio``, and keeps the
answer for a short time per (recording, session cookie, Authorization, address, user agent):
the listener's repeated Range requests are then answered by nginx alone, from the file, with
no request to the app. The answer is always a 200 (nginx would turn anything else into a
refusal or an error page of its own) and says one of two things:

- ``X-Oh-File: /ab/abcd...`` and ``X-Oh-Type``: nginx may send this file, whole or by Range,
  to this client. Given only where ``/audio`` itself would send the same bytes with no change
  to the client's Range: someone who may listen and download (not a listen-only grant, whose
  Range responses the app caps), the file chosen as ``/audio`` chooses it (the redacted copy,
  the access copy, the master: ``recordings.served_audio``). The play is audited here, once
  per listening session (``audit.audio_sent``), as ``/audio`` would have.
- an empty ``X-Oh-File``: nginx passes the request to the app, which answers it as it always
  has (refusals and the sign-in page, listen-only caps, 304 and 416, HEAD, S3 storage).

``X-Accel-Expires: 0`` keeps nginx from caching an answer that holds for this request only
(a HEAD, a conditional or unusual Range request, the first audited request of a browser
session that has no listening id yet: the app's answer will give it one). A change of
access (revocation, an embargo, a new redaction) takes effect when the cached answer
expires (``proxy_cache_valid``, 30 s in the shipped site). The route is 404 unless
``MEDIA_ACCEL = "nginx"`` and ``MEDIA_ACCEL_AUTH``, and the shipped site does not let
clients reach it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_range_header

from ..access import current_viewer, now, policy
from ..errors import AccessDenied, NotFound, OralHistError
from ..media import derivatives
from ..services import audit, recordings
from .recordings import served_audio

bp = Blueprint("media_check", __name__)

#: The conditional headers the app answers itself (nginx compares its own validators).
CONDITIONAL = ("If-None-Match", "If-Modified-Since", "If-Range", "If-Match", "If-Unmodified-Since")


def _answer(front_path: str = "", mime: str = "", *, cache: bool = True) -> Response:
    """The check's 200: the file nginx may send (or none: ask the app), cacheable or not."""
    response = Response(status=200)
    response.headers["X-Oh-File"] = front_path
    response.headers["X-Oh-Type"] = mime
    if not cache:
        response.headers["X-Accel-Expires"] = "0"
    return response


def _target_recording_id() -> int | None:
    """The recording of the request nginx is checking (``X-Original-URI``), if it is a
    request of ``/recordings/<id>/audio``."""
    uri = request.headers.get("X-Original-URI", "")
    path = uri.split("?", 1)[0]
    try:
        endpoint, values = current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return None
    if endpoint != "recordings.audio":
        return None
    return values["recording_id"]


@bp.get("/_oh/media-check")
def media_check():
    """nginx's ``auth_request`` for ``/recordings/<id>/audio`` (see the module docstring)."""
    if current_app.config.get("MEDIA_ACCEL") != "nginx" or not current_app.config.get(
        "MEDIA_ACCEL_AUTH"
    ):
        raise NotFound("There is no such page.")
    recording_id = _target_recording_id()
    if recording_id is None:
        return _answer(cache=False)
    # What holds for this request only goes to the app, uncached.
    if request.headers.get("X-Original-Method", "GET") != "GET":
        return _answer(cache=False)  # HEAD sends no bytes and is not audited: the app's answer
    if any(request.headers.get(name) for name in CONDITIONAL):
        return _answer(cache=False)
    viewer = current_viewer()
    at = now()
    try:
        recording = recordings.get_recording(recording_id, viewer)
    except (NotFound, AccessDenied):
        return _answer()  # the app refuses it, with its own page
    interview = recording.interview
    copy = derivatives.usable(derivatives.current(recording, "access"))
    delivery = policy.audio_delivery(
        viewer,
        interview,
        at,
        download=False,
        ranged=True,
        listen_only_range_bytes=current_app.config["LISTEN_ONLY_RANGE_BYTES"],
        access_copy=copy is not None,
    )
    if not delivery.allowed or delivery.max_range_bytes:
        # refused, or a listen-only grant: the app answers every request (and caps each Range)
        return _answer()
    try:
        key, size, mime, _sha256, _since, _name = served_audio(
            viewer, recording, delivery, copy, at
        )
    except OralHistError:
        # e.g. the redacted copy is still being made: the app says so (503), never the master
        return _answer(cache=False)
    front_path = recordings.storage().front_path(key)
    if front_path is None:
        return _answer()  # not a file nginx can read: the app sends it
    raw_range = request.headers.get("X-Original-Range", "")
    if raw_range:
        ranges = parse_range_header(raw_range)
        if ranges is None or len(ranges.ranges) > 1 or ranges.range_for_length(size) is None:
            return _answer(cache=False)  # several ranges or none to send: as the app does
    if delivery.audited and not audit.listening_client_settled():
        # A browser session without its listening id: the app's answer gives it one (in the
        # session cookie, which this answer cannot set), and audits the play.
        return _answer(cache=False)
    if delivery.audited:
        # Bytes are about to go out: the play, once per listening session, as /audio writes it
        # (the unit of work commits a GET that wrote only read-audit events).
        audit.audio_sent(viewer, recording, "recording.play", at, byte_range=raw_range[:100])
    return _answer(front_path, mime)
