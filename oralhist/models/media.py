"""Recordings (the parts of an interview's audio) and fixity checks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, created_at, intpk, str255


class Recording(db.Model):
    __tablename__ = "recording"
    #: One part per place: concurrent uploads must not share a position (see
    #: ``services.catalogue.lock_interview``); reordering renumbers through negative positions.
    __table_args__ = (UniqueConstraint("interview_id", "position", name="uq_recording_position"),)

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    #: Order among the interview's parts (0-based); "Tape 1, side B" is the label.
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str255] = mapped_column(default="")
    #: What the uploader called the file: shown, never used as a path.
    original_filename: Mapped[str255]
    storage_key: Mapped[str] = mapped_column(String(128), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(40))
    mime: Mapped[str] = mapped_column(String(80))
    codec: Mapped[str | None] = mapped_column(String(80))
    duration_ms: Mapped[int] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    bitrate: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[dict] = mapped_column(JSON, default=dict)
    browser_playable: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[created_at]

    interview = relationship("Interview", back_populates="recordings")
    uploaded_by = relationship("User")


class FixityCheck(db.Model):
    """One run of ``oralhist fixity``: what was checked and what failed."""

    __tablename__ = "fixity_check"

    id: Mapped[intpk]
    started_at: Mapped[created_at]
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checked: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: {"missing": [...], "changed": [...], "orphans": [...]}: storage keys with what uses them.
    report: Mapped[dict] = mapped_column(JSON, default=dict)
