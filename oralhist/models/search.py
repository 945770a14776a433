"""The durable queue of search-index work (an outbox).

A row is written in the same transaction as the change it describes, so the index can never
miss a committed change: after the commit the rows are applied to the Whoosh index and
deleted; rows left by a process that died are replayed at the next start or by
``oralhist reindex --pending``.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import check_in, created_at, intpk

INDEX_KINDS = ("interview", "document")


class IndexTask(db.Model):
    __tablename__ = "index_task"
    __table_args__ = (CheckConstraint(check_in("kind", INDEX_KINDS), name="kind"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    created_at: Mapped[created_at]
