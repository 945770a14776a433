"""Keeping the search index in step with the database (invariant 2 of DESIGN.md).

**Derived, never placed by hand.** Session listeners look at every flushed row (and at ORM
bulk ``insert``/``update``/``delete`` statements) and work out which interviews' and
documents' index records hold a value that changed: interview fields, participants, people's
names (as participants, as speakers' linked persons, as document creators), speakers,
transcript versions, segments, index points, collections, documents and their creators.
For each, an ``IndexTask`` row (the durable outbox) is written in the same transaction. A
service cannot forget to reindex, and a merge or rename reaches every record that shows
the name.

**Applied in commit order, by one writer.** ``process_pending`` takes the index's write lock
first, then, in a fresh transaction, reads the task list and the state of the objects it
names, writes them, and deletes only the tasks it read. Two appliers therefore read the
database one after the other, each after the other has written: an older state can never
overwrite a newer one (issue 12 item 1: before, the state was read before the lock, and a
``PATCH title`` then ``PATCH access_level=closed`` left the closed words searchable).

**Off the request path.** After a commit (``oralhist.transaction``), the web process only
leaves the tasks for the background indexer (``oralhist worker``, started by ``oralhist
serve``), which polls the outbox. ``SEARCH_SYNC`` makes the committing process apply them
itself: ``True`` everywhere (tests), ``None`` (the default) everywhere but web requests
(command-line commands see their change in search at once), ``False`` nowhere.

Tasks left by a process that died are applied by the next worker or by ``oralhist reindex
--pending``; ``oralhist reindex`` rebuilds the index from the database; ``check_consistency``
compares the index's access fields with the database and queues a reindex of any drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from flask import current_app, has_request_context
from sqlalchemy import delete, event, func, insert, inspect, select, true
from sqlalchemy.orm import Session, selectinload

from ..access import policy
from ..extensions import db
from ..models import (
    Collection,
    Document,
    DocumentCreator,
    IndexPoint,
    IndexTask,
    Interview,
    Participant,
    Person,
    Redaction,
    ReleaseAgreement,
    Segment,
    Speaker,
    Transcript,
)
from ..search import IndexUnavailable
from ..search.backend import SearchBackend, open_backend
from ..search.scope import day_number
from . import consent

log = logging.getLogger(__name__)

Key = tuple[str, int]  # ("interview", id) or ("document", id)

# --- index work derived from changed rows -------------------------------------------------

#: Per model, the attributes whose change changes what the index holds (``None``: any).
#: Collections count too: rows a flush deletes as orphans (``interview.participants.clear()``)
#: are not in ``session.deleted`` beforehand, but their parent's collection has changed.
INDEXED_ATTRIBUTES: dict[type, frozenset[str] | None] = {
    Interview: frozenset(
        {
            "participants",
            "accession",
            "title",
            "collection_id",
            "summary",
            "date_recorded",
            "place",
            "subjects",
            "keywords",
            "language",
            "access_level",
            "embargo_until",
            "status",
            "created_by_id",
            "consent_transcript_until",
        }
    ),
    Collection: frozenset({"slug", "title"}),
    Person: frozenset({"name", "date_of_death"}),
    # Agreements (anonymised names, closing dates) and redactions change what the public
    # part of an interview's index holds.
    ReleaseAgreement: None,
    Redaction: None,
    Participant: frozenset({"interview_id", "person_id", "role"}),
    Speaker: frozenset({"interview_id", "label", "display_name", "person_id"}),
    Transcript: frozenset({"interview_id", "is_current", "version"}),
    Segment: frozenset(
        {"transcript_id", "start_ms", "end_ms", "speaker_id", "text", "position", "last_version"}
    ),
    IndexPoint: None,
    Document: frozenset({"title", "doc_type", "date", "description", "full_text", "access_level"}),
    DocumentCreator: frozenset({"document_id", "person_id"}),
}

_QUEUED = "oh_index_queued"  # keys with a task in the current transaction
_NEW_WORK = "oh_index_new_work"  # this transaction wrote tasks: hand them on after commit
_BEFORE = "oh_index_before_flush"  # dirty objects seen by before_flush, for after_flush


def _owner_selects(model: type, where) -> list[tuple[str, object]]:
    """Selects of the interview / document ids whose records show rows of ``model`` that
    match ``where`` (evaluated on the rows as they are in the database now)."""
    if model is Interview:
        return [("interview", select(Interview.id).where(where))]
    if model is Collection:
        ids = select(Collection.id).where(where)
        return [("interview", select(Interview.id).where(Interview.collection_id.in_(ids)))]
    if model is Participant:
        return [("interview", select(Participant.interview_id).where(where))]
    if model is Speaker:
        return [("interview", select(Speaker.interview_id).where(where))]
    if model is Transcript:
        return [("interview", select(Transcript.interview_id).where(where))]
    if model in (Segment, IndexPoint):
        tids = select(model.transcript_id).where(where)
        return [("interview", select(Transcript.interview_id).where(Transcript.id.in_(tids)))]
    if model is ReleaseAgreement:
        pids = select(ReleaseAgreement.participant_id).where(where)
        return [("interview", select(Participant.interview_id).where(Participant.id.in_(pids)))]
    if model is Redaction:
        return [("interview", select(Redaction.interview_id).where(where))]
    if model is Document:
        return [("document", select(Document.id).where(where))]
    if model is DocumentCreator:
        return [("document", select(DocumentCreator.document_id).where(where))]
    if model is Person:
        pids = select(Person.id).where(where)
        return [
            ("interview", select(Participant.interview_id).where(Participant.person_id.in_(pids))),
            ("interview", select(Speaker.interview_id).where(Speaker.person_id.in_(pids))),
            (
                "document",
                select(DocumentCreator.document_id).where(DocumentCreator.person_id.in_(pids)),
            ),
        ]
    return []


#: For ORM bulk inserts (``session.execute(insert(Segment), rows)``): the foreign key in each
#: row that names the owner, and the model it points to.
_INSERT_OWNER: dict[type, tuple[str, type]] = {
    Segment: ("transcript_id", Transcript),
    IndexPoint: ("transcript_id", Transcript),
    Speaker: ("interview_id", Interview),
    Participant: ("interview_id", Interview),
    Transcript: ("interview_id", Interview),
    DocumentCreator: ("document_id", Document),
}


def _keys_where(session: Session, model: type, where) -> set[Key]:
    connection = session.connection()
    keys: set[Key] = set()
    for kind, stmt in _owner_selects(model, where):
        keys.update((kind, int(i)) for i in connection.scalars(stmt.distinct()) if i is not None)
    return keys


def _keys_of_rows(session: Session, rows: Iterable[object]) -> set[Key]:
    """The index keys of ORM objects, looked up by id in the database as it is now."""
    by_model: dict[type, set[int]] = {}
    for obj in rows:
        model = type(obj)
        if model not in INDEXED_ATTRIBUTES:
            continue
        ident = obj.id  # every indexed model has an integer ``id`` (set by now)
        if ident is not None:
            by_model.setdefault(model, set()).add(ident)
    keys: set[Key] = set()
    for model, ids in by_model.items():
        ordered = sorted(ids)
        for at in range(0, len(ordered), 500):
            keys |= _keys_where(session, model, model.id.in_(ordered[at : at + 500]))
    return keys


def _changed(session: Session, obj: object) -> bool:
    attributes = INDEXED_ATTRIBUTES.get(type(obj), frozenset())
    if attributes is None:
        return session.is_modified(obj)
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


#: ``session.info`` key: every interview whose indexed values changed in this transaction
#: (each time, not only when first queued). ``services/oai_records`` derives the OAI-PMH
#: datestamps from the same changes, so a person's rename re-dates the records showing it.
CHANGED_INTERVIEWS = "oh_changed_interviews"


def _queue(session: Session, keys: Iterable[Key]) -> None:
    """Write an ``IndexTask`` per key not queued yet in this transaction."""
    keys = set(keys)
    session.info.setdefault(CHANGED_INTERVIEWS, set()).update(
        i for kind, i in keys if kind == "interview"
    )
    queued = session.info.setdefault(_QUEUED, set())
    fresh = sorted(keys - queued)
    if not fresh:
        return
    session.connection().execute(
        insert(IndexTask.__table__), [{"kind": k, "object_id": i} for k, i in fresh]
    )
    queued.update(fresh)
    session.info[_NEW_WORK] = True


def _before_flush(session: Session, _context, _instances) -> None:
    # Deleted and changed rows as the database still has them (their old owners).
    dirty = [o for o in session.dirty if type(o) in INDEXED_ATTRIBUTES and _changed(session, o)]
    deleted = [o for o in session.deleted if type(o) in INDEXED_ATTRIBUTES]
    session.info[_BEFORE] = dirty
    if dirty or deleted:
        _queue(session, _keys_of_rows(session, [*dirty, *deleted]))


def _after_flush(session: Session, _context) -> None:
    # New and changed rows as the database now has them (their new owners).
    dirty = session.info.pop(_BEFORE, [])
    new = [o for o in session.new if type(o) in INDEXED_ATTRIBUTES]
    if dirty or new:
        _queue(session, _keys_of_rows(session, [*new, *dirty]))


def _on_bulk_statement(state) -> None:
    """ORM bulk statements bypass the flush: derive their keys from the statement."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    if model not in INDEXED_ATTRIBUTES or model is IndexTask:
        return
    session = state.session
    if state.is_insert:
        params = state.parameters
        rows = params if isinstance(params, list) else [params or {}]
        if model in (Collection, Person):
            return  # a new collection or person is in no record yet
        if model in (Interview, Document):
            kind = "interview" if model is Interview else "document"
            ids = {r.get("id") for r in rows}
            if None in ids:
                log.warning("bulk insert into %s without ids: not indexed", model.__name__)
            _queue(session, [(kind, int(i)) for i in ids if i is not None])
            return
        owner = _INSERT_OWNER.get(model)
        if owner is None or not rows:
            return
        column, target = owner
        ids = sorted({r[column] for r in rows if r.get(column) is not None})
        if ids:
            _queue(session, _keys_where(session, target, target.id.in_(ids)))
        return
    # The rows the statement is about to change or delete, as they are now (an update
    # that moved rows to another owner would also need the new owners: none does).
    where = state.statement.whereclause
    params = state.parameters
    if state.is_update and where is None and isinstance(params, list):
        # An ORM bulk UPDATE by primary key (``execute(update(Model), [{"id": ..}, ..])``).
        _queue(session, _keys_where(session, model, model.id.in_([p["id"] for p in params])))
        return
    _queue(session, _keys_where(session, model, true() if where is None else where))


def queue_reindex(kind: str, object_id: int) -> None:
    """Queue the reindex of one interview or document (a repair: ``check_consistency``)."""
    _queue(db.session(), [(kind, int(object_id))])


def after_commit(session: Session) -> None:
    """Hand on the index work of a committed transaction (``oralhist.transaction``)."""
    session.info.pop(_QUEUED, None)
    session.info.pop(_BEFORE, None)
    if not session.info.pop(_NEW_WORK, False):
        return
    if not _apply_here():
        return  # the background indexer polls the outbox
    if session.info.get(DEFER_APPLY):
        # The unit of work applies it once this session has let go of its connection
        # (``apply_deferred``): applying here took a second connection while the first was
        # still held, and 16 simultaneous requests exhausted the pool (5 + 10).
        session.info[_APPLY_AFTER] = True
        return
    app = current_app._get_current_object()
    try:
        with app.app_context():  # a fresh session: this one has just committed
            process_pending()
    except Exception:  # never let the index break a committed change
        log.exception("search index update deferred; the tasks stay queued")


#: Set by ``transaction`` around its commit: apply the index work after it (same session).
DEFER_APPLY = "oh_index_defer_apply"
_APPLY_AFTER = "oh_index_apply_after"


def apply_deferred(session: Session) -> None:
    """Apply the index work the unit of work's commit left for this process (``SEARCH_SYNC``),
    in the same session now that its transaction has ended: one connection at a time."""
    if not session.info.pop(_APPLY_AFTER, False):
        return
    try:
        process_pending()
    except Exception:  # never let the index break a committed change
        log.exception("search index update deferred; the tasks stay queued")


def after_rollback(session: Session, previous_transaction) -> None:
    """A rolled-back transaction's tasks are gone with it."""
    session.info.pop(_QUEUED, None)  # a savepoint's tasks may be gone: queue again
    session.info.pop(_BEFORE, None)
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_NEW_WORK, None)


def _apply_here() -> bool:
    setting = current_app.config.get("SEARCH_SYNC")
    if setting is None:
        return not has_request_context()
    return bool(setting)


def _install_listeners() -> None:
    for target, name, listener in (
        (Session, "before_flush", _before_flush),
        (Session, "after_flush", _after_flush),
        (Session, "do_orm_execute", _on_bulk_statement),
    ):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


_install_listeners()


def search_index() -> SearchBackend:
    """This process's search backend (``SEARCH_BACKEND``; one per worker, its searcher reused
    and refreshed). Callers depend only on the ``SearchBackend`` protocol."""
    index = current_app.extensions.get("oralhist_search")
    if index is None:
        index = open_backend(current_app.config)
        current_app.extensions["oralhist_search"] = index
    return index


def interview_base(interview: Interview, redactor: consent.Redactor | None = None) -> dict:
    """The fields every index document of an interview carries (for filters and facets): as
    the public sees them (anonymised names as their labels), since the result card and the
    narrator facet are one per interview."""
    collection = interview.collection
    if redactor is None:
        redactor = consent.public_redactor(interview)
    return {
        "interview_id": interview.id,
        "accession": interview.accession,
        "interview_title": redactor.anonymise(interview.title) or "",
        "collection": collection.slug if collection else "",
        "collection_title": collection.title if collection else "",
        "narrators": [redactor.name(p.id, p.name) for p in interview.people_in_role("interviewee")],
        "year": interview.year,
        "date_recorded": interview.date_recorded,
        "language": interview.language or "",
        "access_level": interview.access_level,
        "embargo_until": day_number(policy.index_embargo(interview)),
        "status": interview.status,
        "owner_id": interview.created_by_id,
    }


def interview_docs(interview: Interview) -> list[dict]:
    """The interview's index documents. When some of it is withheld from the public (a
    redaction in force, an anonymised name), each document that differs is written twice:
    as the public sees it (``audience`` ``public``) and whole (``audience`` ``archivist``,
    doc id suffixed ``~a``); the backend's access restriction shows each audience only its
    own (``schema.acl_token``), so a redacted word or a real name is found, counted and
    suggested only for archivists."""
    redactor = consent.public_redactor(interview)
    docs = _interview_docs(interview, redactor)
    if not redactor:
        return docs
    out = []
    for doc in docs:
        public = _public_doc(doc, redactor)
        if public == doc:
            out.append(doc)
        else:
            out.append({**public, "audience": "public"})
            out.append({**doc, "audience": "archivist", "doc_id": f"{doc['doc_id']}~a"})
    return out


def _public_doc(doc: dict, redactor: consent.Redactor) -> dict:
    kind = doc["kind"]
    out = dict(doc)
    if kind == "interview":
        out["title"] = redactor.anonymise(doc["title"])
        out["summary"] = redactor.anonymise(doc["summary"])
        out["people"] = [redactor.name(pid, name) for pid, name in doc["_people"]]
        out["place"] = redactor.anonymise(doc["place"])
        out["terms"] = [redactor.anonymise(t) or t for t in doc["terms"]]
    elif kind == "segment":
        text, _words, _masked = redactor.segment(doc["text"], doc["start_ms"], doc["end_ms"])
        out["text"] = text
        out["speaker"] = redactor.name(doc["_speaker_person"], doc["speaker"])
    elif kind == "index":
        out["text"] = redactor.point_text(doc["start_ms"], doc["text"])
        if redactor.masks.hit(doc["start_ms"], doc["start_ms"]):
            out["title"] = out["synopsis"] = ""
            out["keywords"] = []
        else:
            out["title"] = redactor.anonymise(doc["title"])
            out["synopsis"] = redactor.anonymise(doc["synopsis"])
    return out


def _interview_docs(interview: Interview, redactor: consent.Redactor) -> list[dict]:
    base = interview_base(interview, redactor)
    docs = [
        {
            **base,
            "kind": "interview",
            "doc_id": f"int:{interview.id}",
            "title": interview.title,
            "summary": interview.summary,
            "people": [p.person.name for p in interview.participants],
            "_people": [(p.person_id, p.person.name) for p in interview.participants],
            "place": interview.place,
            # the catalogue's subject headings and keywords: found like the record's text
            "terms": [*(interview.subjects or ()), *(interview.keywords or ())],
        }
    ]
    transcript = interview.current_transcript
    if transcript is None:
        return docs
    # Segments as plain rows, not ORM objects: an interview has a thousand or more, and a
    # full reindex reads every one (speakers, a handful per interview, are loaded once).
    names = {
        s.id: (s.name, s.person_id)
        for s in db.session.scalars(
            select(Speaker)
            .where(Speaker.interview_id == interview.id)
            .options(selectinload(Speaker.person))
        )
    }
    rows = db.session.execute(
        select(
            Segment.id,
            Segment.position,
            Segment.start_ms,
            Segment.end_ms,
            Segment.speaker_id,
            Segment.text,
        )
        .where(transcript.holds(Segment))
        .order_by(Segment.position)
    )
    for segment_id, position, start_ms, end_ms, speaker_id, text in rows:
        docs.append(
            {
                **base,
                "kind": "segment",
                "doc_id": f"seg:{segment_id}",
                "segment_id": segment_id,
                "position": position,
                "start_ms": start_ms,
                "end_ms": end_ms,
                "speaker": names.get(speaker_id, ("", None))[0],
                "_speaker_person": names.get(speaker_id, ("", None))[1],
                "text": text,
            }
        )
    for n, point in enumerate(transcript.index_points):
        docs.append(
            {
                **base,
                "kind": "index",
                "doc_id": f"idx:{interview.id}:{n}",
                "start_ms": point.start_ms,
                "title": point.title,
                "synopsis": point.synopsis,
                "keywords": list(point.keywords or []),
                "text": point.partial_transcript,
            }
        )
    return docs


def document_doc(document: Document) -> dict:
    return {
        "kind": "document",
        "doc_id": f"doc:{document.id}",
        "document_id": document.id,
        "title": document.title,
        "creators": [c.person.name for c in document.creators],
        "description": document.description,
        "text": document.full_text,
        "year": document.year,
        "doc_type": document.doc_type,
        "access_level": document.access_level,
    }


def _end_read_transaction() -> None:
    """End the session's transaction, so the next read sees every commit made so far.

    The indexer's reads must start after it holds the index lock (SQLite's snapshot starts
    at a transaction's first read); it has nothing of its own to keep."""
    db.session.rollback()


def process_pending(limit: int = 500) -> int:
    """Apply queued index work to the index, in commit order; return how many tasks were
    applied.

    Each batch: take the index's write lock, then (in a fresh transaction) read up to
    ``limit`` tasks and the current state of what they name, write it, commit the index,
    and delete only the tasks that were read; a full batch is followed by another, a shorter
    one ends the call. Tasks queued meanwhile are applied by the process that committed them
    (``SEARCH_SYNC``) or by the background indexer's next turn; a task applied twice is
    harmless (a replacement is idempotent). With nothing queued, no lock is taken. If the index
    cannot be written now (another process holds it past the writer timeout), the tasks
    stay queued; the change itself is already safe in the database.
    """
    applied = 0
    index = search_index()
    if not _has_pending():
        return applied
    while True:
        batch = _Batch(limit)
        try:
            index.apply_read_under_lock(batch.read)
        except IndexUnavailable as exc:  # busy (a rebuild) or missing: retried later
            _end_read_transaction()
            log.warning("search index update deferred, the tasks stay queued: %s", exc.message)
            return applied
        except Exception:
            _end_read_transaction()
            log.exception("search index update deferred; the tasks stay queued")
            return applied
        if not batch.task_ids:
            _end_read_transaction()
            return applied
        db.session.execute(delete(IndexTask).where(IndexTask.id.in_(batch.task_ids)))
        db.session.commit()
        applied += len(batch.task_ids)
        if len(batch.task_ids) < limit:
            # The queue held fewer tasks than a batch when it was read: whatever was queued
            # since is applied by the process that committed it (``apply_deferred``) or by
            # the background indexer's next turn, so no writer is opened to find nothing.
            return applied


def _has_pending() -> bool:
    """Whether any index task is queued now (one indexed read, no lock): with none, taking
    the index's write lock and opening a writer would only find nothing to do."""
    found = db.session.scalar(select(IndexTask.id).limit(1)) is not None
    _end_read_transaction()
    return found


class _Batch:
    """One batch of ``process_pending``: ``read`` runs under the index's write lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.task_ids: list[int] = []

    def read(self) -> tuple[dict, dict]:
        _end_read_transaction()  # the snapshot starts now, under the lock
        tasks = db.session.execute(
            select(IndexTask.id, IndexTask.kind, IndexTask.object_id)
            .order_by(IndexTask.id)
            .limit(self.limit)
        ).all()
        self.task_ids = [t.id for t in tasks]
        return read_state(
            {t.object_id for t in tasks if t.kind == "interview"},
            {t.object_id for t in tasks if t.kind == "document"},
        )


def read_state(
    interview_ids: Iterable[int], document_ids: Iterable[int]
) -> tuple[dict[int, list[dict] | None], dict[int, dict | None]]:
    """The index records of these interviews and documents as the database has them now
    (``None`` for one that no longer exists: its records are deleted)."""
    interviews: dict[int, list[dict] | None] = {}
    for iid in sorted(interview_ids):
        interview = db.session.get(Interview, iid)
        interviews[iid] = interview_docs(interview) if interview else None
    documents: dict[int, dict | None] = {}
    for did in sorted(document_ids):
        document = db.session.get(Document, did)
        documents[did] = document_doc(document) if document else None
    return interviews, documents


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(IndexTask)) or 0


def iter_all_interview_docs() -> Iterator[list[dict]]:
    ids = db.session.scalars(select(Interview.id).order_by(Interview.id)).all()
    for interview_id in ids:
        interview = db.session.get(Interview, interview_id)
        yield interview_docs(interview)
        db.session.expunge_all()


def iter_all_document_docs() -> Iterator[dict]:
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        yield document_doc(document)


def rebuild(progress: Callable[[int], None] | None = None):
    """Rebuild the whole index from the database; the tasks queued before its reads began
    are dropped (the rebuild covers them), later ones stay queued.

    Refused at once with ``RebuildInProgress`` while another rebuild runs. The database is
    read only once the live index's write lock is held (the generators below start inside
    ``SearchIndex.rebuild``), so no writer can put a newer state into the live index that
    the swapped-in one would then lose."""
    covered = {"last_task": 0}

    def interviews():
        _end_read_transaction()
        covered["last_task"] = db.session.scalar(select(func.max(IndexTask.id))) or 0
        for docs in iter_all_interview_docs():
            yield docs
            if progress is not None:
                progress(1)

    stats = search_index().rebuild(interviews(), iter_all_document_docs())
    db.session.execute(delete(IndexTask).where(IndexTask.id <= covered["last_task"]))
    db.session.commit()
    return stats


# --- consistency ----------------------------------------------------------------------------


@dataclass
class Drift:
    """What ``check_consistency`` found: interviews whose index records disagree with the
    database on access (level, embargo, status, owner), are missing, or should be gone."""

    checked: int = 0
    wrong_access: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)

    @property
    def interviews(self) -> list[int]:
        return sorted({*self.wrong_access, *self.missing, *self.stale})

    def __str__(self) -> str:
        if not self.interviews:
            return f"{self.checked} interviews checked: the index agrees with the database."
        parts = []
        for label, ids in (
            ("with wrong access fields", self.wrong_access),
            ("missing from the index", self.missing),
            ("in the index but not in the database", self.stale),
        ):
            if ids:
                shown = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
                parts.append(f"{len(ids)} {label} ({shown})")
        return f"{self.checked} interviews checked: " + "; ".join(parts) + "."


def expected_access_tokens(interview: Interview | dict) -> set[str]:
    """The access tokens an interview's records may carry (its catalogue record's, and its
    words' when it has a transcript), from the database's values."""
    from ..search.schema import acl_token

    base = interview if isinstance(interview, dict) else interview_base(interview)
    words = {
        acl_token({**base, "kind": kind, "audience": audience}).decode()
        for kind in ("interview", "segment", "index")
        for audience in (None, "public", "archivist")
    }
    return words | {"x"}  # the result card, which is never a result


def check_consistency(*, repair: bool = True) -> Drift:
    """Compare the index's access fields per interview with the database and, with
    ``repair``, queue a reindex of every interview that drifted (the caller commits).

    The access fields are what the search restriction decides by: a drift there is a leak
    (closed words searchable) or a loss (open words hidden), whatever caused it (an index
    restored from a backup, a bug, a hand edit)."""
    in_index = search_index().access_tokens()
    rows = db.session.execute(
        select(
            Interview.id,
            Interview.access_level,
            Interview.embargo_until,
            Interview.status,
            Interview.created_by_id,
            Interview.consent_transcript_until,
        )
    ).all()
    drift = Drift(checked=len(rows))
    for iid, level, embargo, status, owner, consent_until in rows:
        tokens = in_index.pop(iid, None)
        if tokens is None:
            drift.missing.append(iid)
            continue
        expected = expected_access_tokens(
            {
                "access_level": level,
                "embargo_until": day_number(
                    max(filter(None, (embargo, consent_until)), default=None)
                ),
                "status": status,
                "owner_id": owner,
            }
        )
        if not tokens <= expected:
            drift.wrong_access.append(iid)
    drift.stale = sorted(in_index)
    if repair:
        for iid in drift.interviews:
            queue_reindex("interview", iid)
    return drift


def startup_check(echo=log.info) -> None:
    """At server start: rebuild a missing or damaged index from the database, then replay
    the queued index work a process that died may have left behind."""
    index = search_index()
    try:
        index.check()
    except IndexUnavailable as exc:
        echo(f"{exc.message} Rebuilding it now from the database...")
        if not index.exists():
            index.create()
        stats = rebuild()
        echo(f"Search index rebuilt: {stats}.")
    applied = process_pending()
    if applied:
        echo(f"Applied {applied} queued search-index tasks left by an earlier process.")
