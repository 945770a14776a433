"""The audit log: append-only from the application (rows are inserted, never changed)."""

from __future__ import annotations

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
