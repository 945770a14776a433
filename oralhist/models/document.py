"""Documents the interviews discuss, and the passage links (mentions) between them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import ACCESS_LEVELS, DOCUMENT_TYPES, check_in, created_at, intpk, str255, text


class Document(db.Model):
    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(check_in("doc_type", DOCUMENT_TYPES), name="doc_type"),
        CheckConstraint(check_in("access_level", ACCESS_LEVELS), name="access_level"),
    )

    id: Mapped[intpk]
    title: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(20), default="other")
    #: Partial ISO date, as for interviews.
    date: Mapped[str] = mapped_column(String(10), default="", index=True)
    publisher: Mapped[str255] = mapped_column(default="")
    description: Mapped[text]
    citation: Mapped[text]
    external_url: Mapped[str] = mapped_column(String(2000), default="")
    access_level: Mapped[str] = mapped_column(String(20), default="open")
    full_text: Mapped[text]
    #: The optional attached file (PDF or image), stored content-addressed like recordings.
    file_key: Mapped[str | None] = mapped_column(String(128), index=True)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_mime: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    creators: Mapped[list[DocumentCreator]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentCreator.position"
    )
    mentions: Mapped[list[Mention]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )
    created_by = relationship("User")

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date[:4].isdigit() else None


class DocumentCreator(db.Model):
    __tablename__ = "document_creator"
    __table_args__ = (UniqueConstraint("document_id", "person_id", name="uq_document_creator"),)

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    document: Mapped[Document] = relationship(back_populates="creators")
    person = relationship("Person")


class Mention(db.Model):
    """A passage link: a time range of an interview that discusses a document. Anchored to
    time, not to segment ids, so it survives a transcript re-import."""

    __tablename__ = "mention"
    __table_args__ = (CheckConstraint("start_ms >= 0 AND start_ms <= end_ms", name="time_range"),)

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    document: Mapped[Document] = relationship(back_populates="mentions")
    interview = relationship("Interview")
    created_by = relationship("User")


class DismissedSuggestion(db.Model):
    """A suggested passage an archivist dismissed for a document: it is not proposed again."""

    __tablename__ = "dismissed_suggestion"
    __table_args__ = (
        UniqueConstraint("document_id", "interview_id", "start_ms", name="uq_dismissed_once"),
    )

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    start_ms: Mapped[int] = mapped_column(Integer)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    dismissed_at: Mapped[created_at]
