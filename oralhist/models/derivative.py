"""Derivatives of recordings: access copies, waveforms, redacted copies (``media.derivatives``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import created_at, intpk


class Derivative(db.Model):
    """A file made from a master, never replacing it: stored by its own sha256 like every
    media file, and found by what it was made from (the master's sha256, the kind, and a
    hash of the settings and recipe version), so the same master with the same settings is
    made once, and a change of settings or recipe makes a new one."""

    __tablename__ = "derivative"
    __table_args__ = (
        UniqueConstraint("source_sha256", "kind", "params_hash", name="uq_derivative_source"),
    )

    id: Mapped[intpk]
    #: "access", "waveform", "redacted"...
    kind: Mapped[str] = mapped_column(String(40))
    #: The master's sha256: masters with the same bytes share their derivatives.
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    params_hash: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    storage_key: Mapped[str] = mapped_column(String(128), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(80))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    codec: Mapped[str | None] = mapped_column(String(80))
    #: What made it (encoder and library versions): the derivative's provenance.
    made_with: Mapped[str] = mapped_column(String(255), default="")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
