"""Reusable column types and the enumerations the schema constrains."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from sqlalchemy import DateTime, String, Text, TypeDecorator, func
from sqlalchemy.orm import mapped_column

ROLES = ("researcher", "contributor", "archivist", "admin")
ACCESS_LEVELS = ("open", "registered", "restricted", "closed")
INTERVIEW_STATUSES = ("draft", "published")
PARTICIPANT_ROLES = ("interviewee", "interviewer", "other")
DOCUMENT_TYPES = ("pamphlet", "letter", "article", "minutes", "photograph", "other")
REQUEST_STATUSES = ("pending", "approved", "denied", "withdrawn", "revoked", "expired")
REQUEST_SCOPES = ("listen", "listen_download")


def utcnow() -> dt.datetime:
    """Aware UTC now; the one clock models use for defaults (called per row, not at import)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def check_in(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK constraint restricting ``column`` to ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


intpk = Annotated[int, mapped_column(primary_key=True)]
str255 = Annotated[str, mapped_column(String(255))]
text = Annotated[str, mapped_column(Text, default="")]
created_at = Annotated[
    dt.datetime, mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
]
