"""OAI-PMH datestamps and persistent deleted records, derived from changed rows.

A harvester asks "what changed since T?" (``from``/``until``). The answer must include every
record whose *public* content changed: the interview's own fields, but also a participant
added, a person renamed, the collection retitled, the index rewritten, a recording added or a
passage linked. ``services/indexing`` already works out, for every flush, which interviews'
indexed values changed (``indexing.CHANGED_INTERVIEWS``); this module adds the interviews
whose recordings and passage links changed, and, once per transaction just before it
commits, dates their ``OaiRecord`` rows to now (whole seconds, UTC):

- a published interview gets (or keeps) a live record, in the set of its collection;
- an interview that was public and is now a draft, or was deleted, keeps its row marked
  ``deleted``, dated to its withdrawal (``deletedRecord`` is ``persistent``: it never
  silently vanishes from a harvester's copy);
- a draft that was never public has no row: harvesters never heard of it.

Nothing calls this by hand: a service that changes an interview cannot forget to re-date it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from ..access import now
from ..extensions import db
from ..models import (
    Collection,
    Interview,
    Mention,
    OaiRecord,
    Participant,
    Recording,
)
from . import indexing

#: ``session.info`` key: interviews deleted in this transaction.
_DELETED = "oh_oai_deleted"
_BATCH = 500


def _collect(session: Session, _context) -> None:
    """After each flush: the interviews whose recordings or passage links changed, and the
    interviews deleted (their indexed values are collected by ``indexing``)."""
    changed = session.info.setdefault(indexing.CHANGED_INTERVIEWS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Recording | Mention) and obj.interview_id is not None:
            changed.add(obj.interview_id)
        elif isinstance(obj, Interview) and obj.id is not None:
            changed.add(obj.id)
    deleted = [o.id for o in session.deleted if isinstance(o, Interview) and o.id is not None]
    if deleted:
        session.info.setdefault(_DELETED, set()).update(deleted)


def _before_commit(session: Session) -> None:
    """Date the records of everything this transaction changed (after its last flush)."""
    session.flush()
    changed = session.info.pop(indexing.CHANGED_INTERVIEWS, set())
    session.info.pop(_DELETED, None)
    if changed:
        redate(session, sorted(changed))


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(indexing.CHANGED_INTERVIEWS, None)
        session.info.pop(_DELETED, None)


def datestamp_now() -> dt.datetime:
    """Now in UTC to the second: the repository's granularity."""
    return now().astimezone(dt.UTC).replace(microsecond=0)


def redate(session: Session, interview_ids: Sequence[int]) -> None:
    """Bring the ``OaiRecord`` rows of ``interview_ids`` up to date, dated now."""
    connection = session.connection()
    stamp = datestamp_now()
    for at in range(0, len(interview_ids), _BATCH):
        ids = interview_ids[at : at + _BATCH]
        public = dict(
            connection.execute(
                select(Interview.id, func.coalesce(Collection.slug, ""))
                .outerjoin(Collection, Collection.id == Interview.collection_id)
                .where(Interview.id.in_(ids), Interview.status == "published")
            ).all()
        )
        for key, set_spec in public.items():
            _upsert(connection, key, set_spec, stamp)
        withdrawn = [i for i in ids if i not in public]
        if withdrawn:
            connection.execute(
                update(OaiRecord)
                .where(OaiRecord.interview_key.in_(withdrawn), OaiRecord.deleted.is_(False))
                .values(deleted=True, datestamp=stamp)
            )


def _upsert(connection, key: int, set_spec: str, stamp: dt.datetime) -> None:
    values = {"interview_key": key, "set_spec": set_spec, "datestamp": stamp, "deleted": False}
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(OaiRecord)
        statement = insert.values(**values)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["interview_key"],
                set_={"set_spec": set_spec, "datestamp": stamp, "deleted": False},
            )
        )
        return
    found = connection.execute(
        update(OaiRecord).where(OaiRecord.interview_key == key).values(**values)
    )
    if not found.rowcount:
        connection.execute(OaiRecord.__table__.insert().values(**values))


def _install_listeners() -> None:
    for name, listener in (
        ("after_flush", _collect),
        ("before_commit", _before_commit),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


_install_listeners()


# --- reading, for the OAI-PMH endpoint -----------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A selective harvest: a set and a datestamp range (inclusive, whole seconds)."""

    set_spec: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def clause(self):
        parts = []
        if self.set_spec is not None:
            parts.append(OaiRecord.set_spec == self.set_spec)
        if self.since is not None:
            parts.append(OaiRecord.datestamp >= self.since)
        if self.until is not None:
            # whole seconds: until 10:00:00 includes 10:00:00.999
            parts.append(OaiRecord.datestamp < self.until + dt.timedelta(seconds=1))
        return and_(*parts) if parts else True


def page(window: Window, after_key: int, limit: int) -> list[OaiRecord]:
    """The records of ``window`` after ``after_key``, in identifier order (keyset paging:
    a record re-dated during a harvest is neither skipped nor listed twice)."""
    return list(
        db.session.scalars(
            select(OaiRecord)
            .where(window.clause(), OaiRecord.interview_key > after_key)
            .order_by(OaiRecord.interview_key)
            .limit(limit)
        )
    )


def count(window: Window) -> int:
    return db.session.scalar(select(func.count(OaiRecord.id)).where(window.clause())) or 0


def record(interview_key: int) -> OaiRecord | None:
    return db.session.scalar(select(OaiRecord).where(OaiRecord.interview_key == interview_key))


def earliest_datestamp() -> dt.datetime | None:
    return db.session.scalar(select(func.min(OaiRecord.datestamp)))


def published_interviews(keys: Iterable[int]) -> dict[int, Interview]:
    """The live (published) interviews among ``keys``, by id."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    found = db.session.scalars(
        select(Interview)
        .options(
            selectinload(Interview.participants).selectinload(Participant.person),
            selectinload(Interview.collection),
            selectinload(Interview.recordings),
            # Index points are shared between versions (Transcript.holds): read per record.
            selectinload(Interview.transcripts),
        )
        .where(Interview.id.in_(keys), Interview.status == "published")
    )
    return {i.id: i for i in found}
