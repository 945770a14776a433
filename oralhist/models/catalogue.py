"""The catalogue: collections, people, interviews and who took part in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import (
    ACCESS_LEVELS,
    INTERVIEW_STATUSES,
    PARTICIPANT_ROLES,
    UTCDateTime,
    check_in,
    created_at,
    intpk,
    str255,
    text,
    utcnow,
)


class Collection(db.Model):
    __tablename__ = "collection"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str255]
    description: Mapped[text]
    created_at: Mapped[created_at]

    interviews: Mapped[list[Interview]] = relationship(back_populates="collection")


class Person(db.Model):
    __tablename__ = "person"

    id: Mapped[intpk]
    name: Mapped[str255]
    #: "Whitfield, Thomas": how the name files in lists.
    sort_name: Mapped[str255] = mapped_column(default="", index=True)
    #: Free-form life dates as written: "1931-2019", "b. 1931".
    dates: Mapped[str] = mapped_column(String(80), default="")
    biography: Mapped[text]
    #: Recorded for agreements closed until N years after the narrator's death.
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[created_at]

    participations: Mapped[list[Participant]] = relationship(back_populates="person")


class Interview(db.Model):
    __tablename__ = "interview"
    __table_args__ = (
        CheckConstraint(check_in("access_level", ACCESS_LEVELS), name="access_level"),
        CheckConstraint(check_in("status", INTERVIEW_STATUSES), name="status"),
    )

    id: Mapped[intpk]
    accession: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str255]
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection.id", ondelete="SET NULL"), index=True
    )
    summary: Mapped[text]
    #: A partial ISO date ("1957", "1957-03", "1957-03-12"): sorts correctly as text.
    date_recorded: Mapped[str] = mapped_column(String(10), default="", index=True)
    place: Mapped[str255] = mapped_column(default="")
    language: Mapped[str] = mapped_column(String(35), default="en")
    rights_statement: Mapped[str] = mapped_column(Text, default="")
    #: Terms of use beside the rights statement (OHMS ``<usage>``): how to cite, ask, reuse.
    usage: Mapped[str] = mapped_column(Text, default="")
    #: Who paid for the interview or its processing (OHMS ``<funding>``).
    funding: Mapped[str] = mapped_column(Text, default="")
    #: Controlled subject headings and free keywords (OHMS ``<subject>``/``<keyword>``), each a
    #: list of terms in the cataloguer's order; searched and faceted like the index's terms.
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Where the recording is also published (OHMS ``<media_url>``; an http(s) address).
    media_url: Mapped[str] = mapped_column(String(2048), default="")
    access_level: Mapped[str] = mapped_column(String(20), default="open")
    #: Closed to all but archivists until this date (exclusive), then access_level applies.
    embargo_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When the contributor submitted the draft for review (None: not submitted, or
    #: published since): archivists' review queue lists drafts with a value here.
    review_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: An archivist's reason for publishing open without a signed narrator agreement
    #: (empty: no override; audited when set).
    consent_override: Mapped[str] = mapped_column(Text, default="")
    #: The latest date the participants' agreements close the transcript / the audio until
    #: (``access.consent.FOREVER``: indefinitely; None: not closed). Derived from the
    #: agreements by ``services.consent`` at every flush; compared with the day at read time.
    consent_transcript_until: Mapped[dt.date | None] = mapped_column(Date)
    consent_audio_until: Mapped[dt.date | None] = mapped_column(Date)

    collection: Mapped[Collection | None] = relationship(back_populates="interviews")
    created_by = relationship("User")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="interview",
        cascade="all, delete-orphan",
        order_by="Participant.position",
    )
    recordings = relationship(
        "Recording", back_populates="interview", order_by="Recording.position"
    )
    transcripts = relationship(
        "Transcript", back_populates="interview", order_by="Transcript.version"
    )
    speakers = relationship("Speaker", back_populates="interview", order_by="Speaker.id")
    redactions = relationship(
        "Redaction",
        back_populates="interview",
        order_by="Redaction.start_ms",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def duration_ms(self) -> int:
        return sum(r.duration_ms for r in self.recordings)

    @property
    def current_transcript(self):
        return next((t for t in self.transcripts if t.is_current), None)

    @property
    def year(self) -> int | None:
        return int(self.date_recorded[:4]) if self.date_recorded[:4].isdigit() else None

    def people_in_role(self, role: str) -> list[Person]:
        return [p.person for p in self.participants if p.role == role]

    def __repr__(self) -> str:
        return f"<Interview {self.accession}>"


class Participant(db.Model):
    __tablename__ = "participant"
    __table_args__ = (
        CheckConstraint(check_in("role", PARTICIPANT_ROLES), name="role"),
        UniqueConstraint("interview_id", "person_id", "role", name="uq_participant_once"),
    )

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)

    interview: Mapped[Interview] = relationship(back_populates="participants")
    person: Mapped[Person] = relationship(back_populates="participations")
    agreement = relationship(
        "ReleaseAgreement",
        back_populates="participant",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
