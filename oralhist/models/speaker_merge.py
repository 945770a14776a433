"""A merge of two of an interview's speakers, kept so that it can be undone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, created_at, intpk, str255


class SpeakerMerge(db.Model):
    """``source`` was merged into ``into``: the source's label, name and person, and the
    segments (of every version) that moved, so an undo can put them back."""

    __tablename__ = "speaker_merge"

    id: Mapped[intpk]
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    #: the speaker the segments went to; None once it is gone itself (no undo then)
    into_id: Mapped[int | None] = mapped_column(ForeignKey("speaker.id", ondelete="SET NULL"))
    source_label: Mapped[str] = mapped_column(String(120))
    source_display_name: Mapped[str255] = mapped_column(default="")
    source_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    #: the merge gave ``into`` the source's person (undone with it)
    took_person: Mapped[bool] = mapped_column(default=False)
    #: ids of the segments that moved, in every version
    segment_ids: Mapped[list] = mapped_column(JSON, default=list)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    merged_at: Mapped[created_at]
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    into = relationship("Speaker")
