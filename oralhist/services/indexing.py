"""Keeping the search index in step with the database.

Services call ``interview_changed`` / ``document_changed``: that adds an ``IndexTask`` row to
the current transaction (the durable queue). ``oralhist.transaction.commit`` commits, then
calls ``process_pending``, which builds the index documents from the database and hands them
to the search adapter in one writer, and deletes the tasks it applied. A process that dies
between the two leaves the tasks in the table: they are replayed at the next start (see
``create_app``) or by ``oralhist reindex --pending``. The index can always be rebuilt from the
database with ``oralhist reindex``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Document, IndexTask, Interview, Segment, Speaker
from ..search.backend import SearchBackend, open_backend
from ..search.scope import day_number

log = logging.getLogger(__name__)


def interview_changed(interview_id: int) -> None:
    db.session.add(IndexTask(kind="interview", object_id=interview_id))


def document_changed(document_id: int) -> None:
    db.session.add(IndexTask(kind="document", object_id=document_id))


def search_index() -> SearchBackend:
    """This process's search backend (``SEARCH_BACKEND``; one per worker, its searcher reused
    and refreshed). Callers depend only on the ``SearchBackend`` protocol."""
    index = current_app.extensions.get("oralhist_search")
    if index is None:
        index = open_backend(current_app.config)
        current_app.extensions["oralhist_search"] = index
    return index


def interview_base(interview: Interview) -> dict:
    """The fields every index document of an interview carries (for filters and facets)."""
    collection = interview.collection
    return {
        "interview_id": interview.id,
        "accession": interview.accession,
        "interview_title": interview.title,
        "collection": collection.slug if collection else "",
        "collection_title": collection.title if collection else "",
        "narrators": [p.name for p in interview.people_in_role("interviewee")],
        "year": interview.year,
        "date_recorded": interview.date_recorded,
        "language": interview.language or "",
        "access_level": interview.access_level,
        "embargo_until": day_number(interview.embargo_until),
        "status": interview.status,
        "owner_id": interview.created_by_id,
    }


def interview_docs(interview: Interview) -> list[dict]:
    base = interview_base(interview)
    docs = [
        {
            **base,
            "kind": "interview",
            "doc_id": f"int:{interview.id}",
            "title": interview.title,
            "summary": interview.summary,
            "people": [p.person.name for p in interview.participants],
            "place": interview.place,
        }
    ]
    transcript = interview.current_transcript
    if transcript is None:
        return docs
    # Segments as plain rows, not ORM objects: an interview has a thousand or more, and a
    # full reindex reads every one (speakers, a handful per interview, are loaded once).
    names = {
        s.id: s.name
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
        .where(Segment.transcript_id == transcript.id)
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
                "speaker": names.get(speaker_id, ""),
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


def process_pending(limit: int = 500) -> int:
    """Apply queued index work to the index; return how many tasks were applied.

    Runs after a commit, in its own short transaction. If the index cannot be written now
    (another process holds it past the writer timeout), the tasks stay queued and are
    retried later; the user's change is already safe in the database.
    """
    applied = 0
    while True:
        tasks = db.session.scalars(select(IndexTask).order_by(IndexTask.id).limit(limit)).all()
        if not tasks:
            return applied
        interviews: dict[int, list[dict] | None] = {}
        documents: dict[int, dict | None] = {}
        for task in tasks:
            if task.kind == "interview" and task.object_id not in interviews:
                interview = db.session.get(Interview, task.object_id)
                interviews[task.object_id] = interview_docs(interview) if interview else None
            elif task.kind == "document" and task.object_id not in documents:
                document = db.session.get(Document, task.object_id)
                documents[task.object_id] = document_doc(document) if document else None
        try:
            search_index().apply(interviews, documents)
        except Exception:
            db.session.rollback()
            log.exception("search index update deferred; %d tasks stay queued", len(tasks))
            return applied
        ids = [t.id for t in tasks]
        db.session.execute(delete(IndexTask).where(IndexTask.id.in_(ids)))
        db.session.commit()
        applied += len(tasks)


def pending_count() -> int:
    return db.session.query(IndexTask).count()


def iter_all_interview_docs() -> Iterator[list[dict]]:
    ids = db.session.scalars(select(Interview.id).order_by(Interview.id)).all()
    for interview_id in ids:
        interview = db.session.get(Interview, interview_id)
        yield interview_docs(interview)
        db.session.expunge_all()


def iter_all_document_docs() -> Iterator[dict]:
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        yield document_doc(document)


def rebuild(progress=None):
    """Rebuild the whole index from the database; queued tasks made before it are dropped
    (the rebuild covers them), later ones stay queued."""
    from sqlalchemy import func

    last_task = db.session.scalar(select(func.max(IndexTask.id))) or 0

    def interviews():
        for docs in iter_all_interview_docs():
            yield docs
            if progress is not None:
                progress(1)

    stats = search_index().rebuild(interviews(), iter_all_document_docs())
    db.session.execute(delete(IndexTask).where(IndexTask.id <= last_task))
    db.session.commit()
    return stats


def startup_check(echo=log.info) -> None:
    """At server start: rebuild a missing or damaged index from the database, then replay
    the queued index work a process that died may have left behind."""
    from ..search import IndexUnavailable

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
