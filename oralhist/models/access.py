"""Access requests, the audit log and in-app notifications."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import REQUEST_SCOPES, REQUEST_STATUSES, UTCDateTime, check_in, created_at, intpk


class AccessRequest(db.Model):
    __tablename__ = "access_request"
    __table_args__ = (
        CheckConstraint(check_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(check_in("scope", REQUEST_SCOPES), name="scope"),
        # One open (pending or approved) request per user and interview.
        Index(
            "uq_access_request_open",
            "requester_id",
            "interview_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'approved')"),
            postgresql_where=text("status IN ('pending', 'approved')"),
        ),
    )

    id: Mapped[intpk]
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(Text)
    intended_use: Mapped[str] = mapped_column(String(80), default="")
    agreed_terms: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    scope: Mapped[str] = mapped_column(String(20), default="listen")
    created_at: Mapped[created_at]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    requester = relationship("User", foreign_keys=[requester_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    interview = relationship("Interview")


class AuditEvent(db.Model):
    """Append-only: the application inserts rows and never updates or deletes them, and the
    database refuses to (triggers: ``APPEND_ONLY_DDL``); only ``user_id`` may become NULL when
    a user is deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # one object's events by time: the audit page's object filter, the listening sessions
        Index("ix_audit_event_object", "object_type", "object_id", "at"),
    )

    id: Mapped[intpk]
    at: Mapped[created_at]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None]
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    user = relationship("User")


#: Triggers that make ``audit_event`` append-only in the database itself, so that no code
#: path (a bulk UPDATE, a console session) can rewrite the log. Migration 0002_policy creates
#: the same triggers; ``create_all`` (tests, ``init`` on an empty database) runs these.
APPEND_ONLY_DDL = {
    "sqlite": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OF at, action, object_type, "
        "object_id, ip, details ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_event is append-only'; END $$",
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OF at, action, object_type, "
        "object_id, ip, details ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ),
}


def _append_only_triggers() -> None:
    from sqlalchemy import DDL, event

    for dialect, statements in APPEND_ONLY_DDL.items():
        for statement in statements:
            event.listen(
                AuditEvent.__table__, "after_create", DDL(statement).execute_if(dialect=dialect)
            )


_append_only_triggers()


class Notification(db.Model):
    __tablename__ = "notification"
    #: The navigation counts a user's unread notifications on every page
    #: (``services.navigation``): an index range, not a scan of all their notifications.
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
