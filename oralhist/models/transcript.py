"""Transcripts (versioned), their speakers, segments and OHMS-style index points."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import created_at, intpk, str255

#: The gap between the sort keys (``position``) of consecutive segments and index points as
#: imported: an edit inserts a segment between two others without renumbering (and so
#: without copying) the ones after it; 20 splits at one spot fit before a neighbour is re-keyed.
POSITION_GAP = 1 << 20


class Transcript(db.Model):
    """One version of an interview's transcript: imported from a file, or saved from the
    editor on top of ``base_version``. Exactly one version per interview is current (shown
    and indexed); older versions are kept and can be restored.

    Versions share their unchanged segments and index points (see :class:`Segment`): a
    version made by the editor stores only the rows it changed, so a one-word fix to a
    2,000-segment transcript adds one segment row and this row, not 2,000 copies.
    """

    __tablename__ = "transcript"
    __table_args__ = (UniqueConstraint("interview_id", "version", name="uq_transcript_version"),)

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(35), default="en")
    source_format: Mapped[str] = mapped_column(String(20))
    source_filename: Mapped[str255] = mapped_column(default="")
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The importer's warnings: [{"line": n, "message": "..."}].
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    #: The version the editor's changes were made on (NULL: imported from a file).
    base_version: Mapped[int | None] = mapped_column(Integer)
    #: What the editor changed: ``{"edited": n, "added": n, "removed": n, "index": n}``.
    changes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    #: A machine-made version (alignment, transcription) waiting to be checked: never current
    #: by itself; restoring it (accepting) makes it current and clears the flag.
    proposed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: How a machine-made version was made: {"engine", "engine_version", "model", "settings",
    #: "job_id", "kind", "level", "unaligned": [...], "stats"}; NULL for an imported file.
    provenance: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    interview = relationship("Interview", back_populates="transcripts")
    created_by = relationship("User")
    #: The rows this version introduced (deleted with it); :attr:`segments` is what it holds.
    introduced_segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", passive_deletes=True
    )
    introduced_index_points: Mapped[list[IndexPoint]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", passive_deletes=True
    )

    def holds(self, model: type[Segment] | type[IndexPoint]):
        """The SQL condition selecting the rows of ``model`` (segments or index points) that
        belong to this version: introduced by this version or an earlier one of the same
        interview, and not retired before it (``last_version``)."""
        return _member_clause(model, self.interview_id, self.version)

    @property
    def segments(self) -> list[Segment]:
        """This version's segments in order (one query)."""
        return list(
            db.session.scalars(
                select(Segment).where(self.holds(Segment)).order_by(Segment.position)
            )
        )

    @property
    def index_points(self) -> list[IndexPoint]:
        """This version's index points in order (one query)."""
        return list(
            db.session.scalars(
                select(IndexPoint).where(self.holds(IndexPoint)).order_by(IndexPoint.position)
            )
        )

    @property
    def timed(self) -> bool:
        return any(s.start_ms is not None for s in self.segments)


def _member_clause(model, interview_id: int, version: int):
    versions = select(Transcript.id).where(
        Transcript.interview_id == interview_id, Transcript.version <= version
    )
    return and_(
        model.transcript_id.in_(versions),
        or_(model.last_version.is_(None), model.last_version >= version),
    )


class Speaker(db.Model):
    """A speaker label as written in a transcript file, per interview."""

    __tablename__ = "speaker"
    __table_args__ = (UniqueConstraint("interview_id", "label", name="uq_speaker_label"),)

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str255] = mapped_column(default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    interview = relationship("Interview", back_populates="speakers")
    person = relationship("Person")

    @property
    def name(self) -> str:
        if self.display_name:
            return self.display_name
        return self.person.name if self.person else self.label

    @property
    def colour_index(self) -> int:
        """A stable colour slot (0-7): the same speaker keeps its colour across versions."""
        return self.id % 8


class Segment(db.Model):
    """One cue of a transcript, shared by every version that holds it unchanged.

    A row is never changed once a later version exists (history stays as it was): it
    belongs to versions ``transcript.version`` (the one that introduced it) up to
    ``last_version`` (NULL: up to the newest). Editing a segment retires its row (sets
    ``last_version``) and adds a new one in the new version. ``position`` is a sort key
    with gaps (:data:`POSITION_GAP`), unique among a version's segments.
    """

    __tablename__ = "segment"
    __table_args__ = (
        UniqueConstraint("transcript_id", "position", name="uq_segment_position"),
        CheckConstraint(
            "start_ms IS NULL OR end_ms IS NULL OR start_ms <= end_ms", name="time_order"
        ),
        Index("ix_segment_transcript_start", "transcript_id", "start_ms"),
    )

    id: Mapped[intpk]
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(BigInteger)
    #: The last version holding this row; NULL while the newest version holds it.
    last_version: Mapped[int | None] = mapped_column(Integer)
    start_ms: Mapped[int | None] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)
    speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("speaker.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    #: A WebVTT cue's identifier and its (browser-valid) settings, written back on export.
    cue_id: Mapped[str | None] = mapped_column(Text)
    cue_settings: Mapped[str | None] = mapped_column(Text)
    #: A footnote (OHMS ``[[note]]``), shown with the segment.
    note: Mapped[str | None] = mapped_column(Text)
    #: Word timings, packed: ``[[text, start_ms, end_ms, confidence], ...]`` (NULL: none).
    #: One JSON value per segment, not a row per word: a 2,000-segment interview with
    #: 30,000 words loads in one query of 2,000 rows (see ``services.transcript_export.rows``).
    words: Mapped[list | None] = mapped_column(JSON(none_as_null=True))

    transcript: Mapped[Transcript] = relationship(back_populates="introduced_segments")
    speaker: Mapped[Speaker | None] = relationship()


class IndexPoint(db.Model):
    """A point of the OHMS-style interview index: a titled, described moment. Shared between
    versions like :class:`Segment` (``transcript`` introduced it, ``last_version`` retired it)."""

    __tablename__ = "index_point"

    id: Mapped[intpk]
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(BigInteger)
    #: The last version holding this row; NULL while the newest version holds it.
    last_version: Mapped[int | None] = mapped_column(Integer)
    start_ms: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    partial_transcript: Mapped[str] = mapped_column(Text, default="")
    synopsis: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    subjects: Mapped[list] = mapped_column(JSON, default=list)
    #: [[url, text], ...]
    hyperlinks: Mapped[list] = mapped_column(JSON, default=list)
    #: OHMS GPS point: {"gps": "lat, long", "gps_zoom": "12", "gps_text": "label"} or NULL.
    gps: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    transcript: Mapped[Transcript] = relationship(back_populates="introduced_index_points")
