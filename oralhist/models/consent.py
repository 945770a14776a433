"""Consent: each participant's release agreement, and time-range redactions of an interview.

The agreement's terms are data (not a note) so that the one access policy can read them:
what may be published, until when it is closed, and whether the narrator's name is shown.
A redaction is a time range of the interview's time line; the master and the stored
transcript are never altered (DESIGN.md invariant 7): what is served is masked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, check_in, created_at, intpk, text, utcnow

AGREEMENT_STATUSES = ("none", "requested", "signed", "declined", "withdrawn")
#: What the agreement lets the archive publish online: everything, the transcript only, the
#: audio only, or nothing.
PUBLICATION_SCOPES = ("full", "transcript_only", "audio_only", "none")


class ReleaseAgreement(db.Model):
    """The release agreement of one participant of one interview (at most one)."""

    __tablename__ = "release_agreement"
    __table_args__ = (
        CheckConstraint(check_in("status", AGREEMENT_STATUSES), name="status"),
        CheckConstraint(check_in("publication", PUBLICATION_SCOPES), name="publication"),
        CheckConstraint(
            "closed_years_after_death IS NULL OR closed_years_after_death BETWEEN 0 AND 200",
            name="closed_years",
        ),
    )

    id: Mapped[intpk]
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="none")
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    publication: Mapped[str] = mapped_column(String(20), default="full")
    #: Material closed to all but archivists until this date (exclusive).
    closed_until: Mapped[dt.date | None] = mapped_column(Date)
    #: Closed until this many years after the participant's death (``Person.date_of_death``;
    #: closed indefinitely while the date of death is not recorded).
    closed_years_after_death: Mapped[int | None] = mapped_column(Integer)
    #: Show a stable label ("Narrator A") instead of the name in public views.
    anonymise: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[text]
    #: The signed form: a stored file (archivists only), fixity-checked like media.
    form_key: Mapped[str | None] = mapped_column(String(128), index=True)
    form_sha256: Mapped[str | None] = mapped_column(String(64))
    form_size: Mapped[int | None] = mapped_column(BigInteger)
    form_filename: Mapped[str | None] = mapped_column(String(255))
    form_mime: Mapped[str | None] = mapped_column(String(80))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    participant = relationship("Participant", back_populates="agreement")


class Redaction(db.Model):
    """A time range of an interview withheld from everyone but archivists."""

    __tablename__ = "redaction"
    __table_args__ = (
        CheckConstraint("start_ms >= 0", name="start"),
        CheckConstraint("end_ms > start_ms", name="range"),
    )

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    reason: Mapped[text]
    #: Lifts by itself on this date (exclusive); None: until an archivist lifts it.
    until: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    interview = relationship("Interview", back_populates="redactions")
