"""Background jobs: durable rows a worker claims, runs and finishes (``oralhist.jobs``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, check_in, created_at, intpk

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
#: Statuses of a job that is still to finish: at most one exclusive job per interview is in one.
ACTIVE_STATUSES = ("queued", "running")
FINISHED_STATUSES = ("done", "failed", "cancelled")


class Job(db.Model):
    """One piece of background work (align, transcribe, derivative, waveform...).

    ``worker`` names the claim that holds the job (host, pid and a token of that claim):
    progress, heartbeats and the finishing commit only count when it still matches, so a job
    taken over from a worker that stopped answering can never be finished twice.
    """

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(check_in("status", JOB_STATUSES), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        # At most one exclusive job per interview queued or running: a database rule, so two
        # requests at the same moment cannot both start one.
        Index(
            "uq_job_exclusive_active",
            "interview_id",
            unique=True,
            sqlite_where=sql_text("is_exclusive AND status IN ('queued', 'running')"),
            postgresql_where=sql_text("is_exclusive AND status IN ('queued', 'running')"),
        ),
        Index("ix_job_status_id", "status", "id"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(255), default="")
    is_exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[created_at]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The job this one retries (``oralhist jobs retry``, ``POST .../retry``).
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))

    interview = relationship("Interview")
    recording = relationship("Recording")
    created_by = relationship("User")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
