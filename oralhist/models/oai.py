"""What OAI-PMH harvesters have been told about each interview: its datestamp and whether
its record is deleted.

One row per interview that was ever public (published). The row outlives the interview's
publication and the interview itself (``interview_key`` is the interview's id, not a foreign
key), so an unpublished or deleted interview is reported as deleted with the datestamp of its
withdrawal: the repository's ``deletedRecord`` policy is ``persistent`` (OAI-PMH 2.0, 2.5.1).
The rows are derived from changed data by the session listeners of ``services/oai_records``,
never written by hand.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, intpk


class OaiRecord(db.Model):
    __tablename__ = "oai_record"
    __table_args__ = (Index("ix_oai_record_datestamp", "datestamp", "interview_key"),)

    id: Mapped[intpk]
    #: The interview's id (the OAI identifier's local part); kept after a deletion.
    interview_key: Mapped[int] = mapped_column(unique=True)
    #: The slug of the interview's collection when it was last public ("" for none).
    set_spec: Mapped[str] = mapped_column(String(80), default="")
    #: When the public record last changed (UTC, whole seconds).
    datestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
