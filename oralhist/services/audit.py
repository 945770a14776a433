"""The audit log: append-only from the application (rows are inserted, never changed).

What is recorded, so that the log tells the truth:

- ``recording.play``: audio bytes of a recording that is not open were sent from
  ``/recordings/<id>/audio`` (to the player or to any other client, whatever the Range), once
  per *listening session*. The player fetches nothing before playback starts
  (``preload="none"``), so opening a page is never a play; seeking and buffering are further
  Range requests of the same session, not new plays.
- ``recording.download``: bytes of ``/recordings/<id>/download`` were sent (the file offered
  for saving), once per session as well (a resumed download is one download).
- ``interview.publish`` / ``interview.unpublish`` / ``interview.access_level`` /
  ``interview.embargo``: with ``before`` and ``after`` values and ``interview_id``.

A listening session is one user, one recording and one client (the browser session, or for
clients without a session cookie such as scripts with a token, the address and client
program) for ``LISTENING_SESSION`` after its first read: a read inside that window adds no
event. Audio reads are the only audit events written while answering a GET; they are all
written by ``audio_sent``, so that exception stays narrow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ..access.policy import Viewer
from ..extensions import db
from ..models import AuditEvent


def client_ip() -> str:
    from flask import has_request_context, request

    if not has_request_context():
        return "cli"
    return request.remote_addr or ""


def record(
    viewer: Viewer | None,
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        user_id=viewer.user_id if viewer else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=client_ip(),
        details=details,
    )
    db.session.add(event)
    return event


#: How long a listening (or downloading) session lasts after its first read.
LISTENING_SESSION = dt.timedelta(minutes=30)

#: The events ``audio_sent`` writes.
AUDIO_ACTIONS = ("recording.play", "recording.download")


def listening_client() -> str:
    """A short, stable name for the client reading audio in this request: the browser
    session (an id kept in the signed session cookie) when the request came with one, else
    the address and the client program. Hashed: the log shows no cookie or user agent."""
    import secrets

    from flask import request, session

    if request.cookies.get(_session_cookie_name()):
        token = session.get("_oh_listen")
        if token is None:
            token = session["_oh_listen"] = secrets.token_urlsafe(12)
        raw = "session:" + token
    else:
        raw = f"client:{request.remote_addr}|{request.headers.get('User-Agent', '')[:200]}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def listening_client_settled() -> bool:
    """Whether ``listening_client`` can name this request's client without changing the
    session: there is no session cookie, or the session already holds its listening id. A
    front server's cached access check (``web/media_check.py``) cannot hand a new session
    cookie to the browser, so it lets the app answer until this holds (else every check
    would start a new listening session and audit another play)."""
    from flask import request, session

    if not request.cookies.get(_session_cookie_name()):
        return True
    return session.get("_oh_listen") is not None


def _session_cookie_name() -> str:
    from flask import current_app

    return current_app.config.get("SESSION_COOKIE_NAME", "session")


def audio_sent(
    viewer: Viewer,
    recording,
    action: str,
    at: dt.datetime,
    *,
    byte_range: str = "",
) -> AuditEvent | None:
    """Record that audio bytes of ``recording`` were sent to ``viewer`` (``action`` is
    ``recording.play`` or ``recording.download``), unless the same user, recording and client
    already have that event within ``LISTENING_SESSION``: one event per listening session,
    not one per Range request. Returns the new event, or None when the session had one."""
    from sqlalchemy import select

    if action not in AUDIO_ACTIONS:
        raise ValueError(f"not an audio action: {action}")
    client = listening_client()
    since = at - LISTENING_SESSION
    recent = db.session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == action,
            AuditEvent.object_type == "recording",
            AuditEvent.object_id == recording.id,
            AuditEvent.user_id.is_(None)
            if viewer.user_id is None
            else AuditEvent.user_id == viewer.user_id,
            AuditEvent.at > since,
        )
    ).all()
    if any((details or {}).get("session") == client for details in recent):
        return None
    event = record(
        viewer,
        action,
        "recording",
        recording.id,
        interview_id=recording.interview_id,
        session=client,
        range=byte_range,
    )
    event.at = at
    return event


def record_interview_access(
    viewer: Viewer, interview, action: str, before: Any, after: Any
) -> None:
    """Record a change of an interview's publication or access (``interview.publish``,
    ``interview.unpublish``, ``interview.access_level``, ``interview.embargo``) with the
    values before and after."""
    record(
        viewer,
        action,
        "interview",
        interview.id,
        interview_id=interview.id,
        before=before,
        after=after,
    )


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a stored audit event."""


def _guard_append_only(session, _flush_context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly(
                f"Audit event {obj.id} cannot be changed or deleted: the log is append-only."
            )


def _install_guard() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _guard_append_only):
        event.listen(Session, "before_flush", _guard_append_only)


_install_guard()
