"""Audio staged for a one-step deposit: stored and checked, not yet part of an interview."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, created_at, intpk, str255


class StagedAudio(db.Model):
    """One audio file a contributor uploaded on the deposit page before submitting it.

    The upload streams into content-addressed storage and is probed at once (so a file that
    is not audio is refused while the contributor is still on the page); the row keeps what a
    ``Recording`` needs. Submitting the deposit turns each chosen row into a Recording in the
    deposit's one unit of work, and deletes the row; a refused deposit leaves the rows, so the
    audio survives the refusal and the form offers it again. Rows older than
    ``DEPOSIT_STAGED_HOURS`` are removed (``services.deposit.sweep_staged``), with their files
    when nothing else uses them. The columns are a Recording's, so the claim is a copy."""

    __tablename__ = "staged_audio"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
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
    created_at: Mapped[created_at]


class DepositJob(db.Model):
    """A job a deposit started (align or transcribe), so its depositor is told once when it
    is done: ``services.deposit`` notifies them in the unit of work that finishes the job,
    and sets ``notified_at`` so a job is never announced twice. ``job_id`` names a row of
    ``job`` (no foreign key: the row may be pruned while this one stays)."""

    __tablename__ = "deposit_job"

    id: Mapped[intpk]
    job_id: Mapped[int] = mapped_column(Integer, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    created_at: Mapped[created_at]
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
