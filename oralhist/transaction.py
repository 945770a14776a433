"""One unit of work: every state change commits once, at the edge, then hands its work on.

Pages and API routes: the request is the unit. ``init_app`` wraps every view so that a
write request (POST, PATCH, PUT, DELETE) whose view returns a non-error response commits
once; any exception, and any 4xx/5xx response, rolls back (errors mapped by ``errors.py``
included, since they are exceptions when they leave the view). A commit refused by the
database (a unique or foreign-key constraint hit by a concurrent change), at a flush or at
the commit, becomes a 409 ``Conflict``, not a 500. No view calls ``commit()`` or
``rollback()`` itself (``tests/test_unit_of_work.py`` scans ``oralhist/web`` and
``oralhist/cli.py``); a view that answers a refused change with a redirect calls
``abandon()``, and one whose error answer must still keep a record of the refusal (a failed
sign-in counted) calls ``keep_on_refusal()``. Work outside the database registers with
``on_commit`` (delete a replaced file) or ``on_rollback`` (remove a file a failed change
stored).

Command-line commands and background jobs: ``with unit_of_work():``, the same rules.

GET and HEAD never write. A flush during a read request raises ``WriteOnRead`` (in tests and
with ``STRICT_READS``; otherwise it is logged and rolled back). The one, named exception is
the append-only audit of bytes sent (``READ_AUDIT_ACTIONS``: a play or download of a
recording, a transcript download): a read request that adds only such audit events commits
them, and nothing else.

After a commit, one ``after_commit`` listener hands on what the transaction produced, in
order: the search-index work (derived from the changed rows by ``services.indexing`` and
stored in the same transaction as ``IndexTask`` rows: the background indexer applies it,
or this process does at once when ``SEARCH_SYNC`` says so), the ``on_commit`` work, then
the mail queued by ``services.notify``. Audit events need no hand-on: they are rows of the
same transaction. A bare ``db.session.commit()`` takes the same path, so it cannot skip
index work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import Conflict
from .extensions import db
from .services import indexing, notify, oai_records  # noqa: F401 (its listeners)

log = logging.getLogger(__name__)

#: Methods that only read: they never change the database.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: The one exception to "GET never writes": the append-only audit events of bytes being
#: sent to the reader (a recording played or downloaded, a transcript downloaded). The audit
#: must record a read at the moment of the read, and a read is a GET.
READ_AUDIT_ACTIONS = frozenset(
    {"recording.play", "recording.download", "transcript.download", "agreement.form.read"}
)

CONFLICT_MESSAGE = (
    "The change could not be saved: it conflicts with a change saved at the same moment"
    " (a name, number or link already taken). Reload and try again."
)


class WriteOnRead(RuntimeError):
    """A GET or HEAD request tried to change the database (a programming error)."""


# --- the unit of work ---------------------------------------------------------------------


def _rollback() -> None:
    """Roll back, and settle what the unit registered: a rollback when no transaction had
    begun fires no session event, yet mail, files and callbacks may be waiting."""
    session = db.session()
    session.rollback()
    session.info.pop(_ON_COMMIT, None)
    notify.drop_pending(session, None)
    _run_callbacks(session.info.pop(_ON_ROLLBACK, []))


def _commit() -> None:
    """Commit the session; a constraint refused at commit becomes ``Conflict`` (409). Index
    work this process applies itself (``SEARCH_SYNC``) runs after the commit has released the
    session's connection (``indexing.apply_deferred``)."""
    session = db.session()
    session.info[indexing.DEFER_APPLY] = True
    try:
        db.session.commit()
    except IntegrityError as exc:
        _rollback()
        log.info("commit refused by a constraint: %s", exc.orig)
        raise Conflict(CONFLICT_MESSAGE) from None
    except BaseException:
        _rollback()
        raise
    finally:
        session.info.pop(indexing.DEFER_APPLY, None)
    indexing.apply_deferred(session)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Run a command's or job's change as one transaction: commit once when the block ends,
    roll back (and re-raise) on any exception. After the commit the index work and mail it
    produced are handed on (see the module docstring)."""
    try:
        yield db.session()
    except BaseException:
        _rollback()
        raise
    _commit()


def keep_on_refusal() -> None:
    """Commit the current request's changes even though it answers with an error status:
    for records of the refusal itself (a failed sign-in counted for rate limiting, an
    append-only audit event of a denied action). An exception still rolls everything back."""
    if has_request_context():
        g.oh_uow_keep_on_refusal = True


def abandon() -> None:
    """Give up the current request's changes: roll back what it did so far, and commit
    nothing when it ends. For views that answer a refused change with a redirect (a flashed
    message) rather than an error status."""
    _rollback()
    if has_request_context():
        g.oh_uow_abandoned = True


def _changes(session: Session) -> list[Any]:
    """The objects this session would write: new, deleted, and really modified ones."""
    dirty = [o for o in session.dirty if session.is_modified(o)]
    return [*session.new, *dirty, *session.deleted]


def _only_read_audit(session: Session, changes: list[Any]) -> bool:
    """True when every change is a new read-audit event (``READ_AUDIT_ACTIONS``)."""
    from .models import AuditEvent

    return all(
        o in session.new and isinstance(o, AuditEvent) and o.action in READ_AUDIT_ACTIONS
        for o in changes
    )


def _write_on_read(session: Session, changes: list[Any]) -> None:
    names = ", ".join(sorted({type(o).__name__ for o in changes}))
    message = f"{request.method} {request.path} tried to write ({names}); GET and HEAD never write."
    if _strict():
        raise WriteOnRead(message)
    log.error(message)


def _strict() -> bool:
    config = current_app.config
    return bool(config.get("STRICT_READS", config.get("TESTING", False)))


def _finish_request(response) -> None:
    session = db.session()
    if request.method in SAFE_METHODS:
        changes = _changes(session)
        if changes and _only_read_audit(session, changes):
            _commit()
            return
        try:
            if changes:
                _write_on_read(session, changes)
        finally:
            _rollback()  # end the read transaction; a read keeps nothing
        return
    refused = response.status_code >= 400 and not g.get("oh_uow_keep_on_refusal")
    if refused or g.get("oh_uow_abandoned"):
        _rollback()
        return
    _commit()


def request_unit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view so that its request is one unit of work (see the module docstring)."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any):
        g.oh_read_only = request.method in SAFE_METHODS
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except IntegrityError as exc:
            # A constraint hit by a flush (a concurrent change took the name or number):
            # a conflict to report, not a server error.
            _rollback()
            log.info("flush refused by a constraint: %s", exc.orig)
            raise Conflict(CONFLICT_MESSAGE) from None
        except BaseException:
            _rollback()
            raise
        _finish_request(response)
        return response

    run.oh_unit_of_work = True  # type: ignore[attr-defined]
    return run


def _guard_reads(session: Session, _flush_context, _instances) -> None:
    """A flush in a GET/HEAD request: allowed only for read-audit events."""
    if not has_app_context() or not g.get("oh_read_only"):
        return
    changes = _changes(session)
    if changes and not _only_read_audit(session, changes):
        _write_on_read(session, changes)


# --- after the commit ---------------------------------------------------------------------

_ON_COMMIT = "oh_on_commit"
_ON_ROLLBACK = "oh_on_rollback"


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction has committed (e.g. delete a file the
    change no longer uses); dropped if it rolls back. Runs with a fresh session."""
    db.session().info.setdefault(_ON_COMMIT, []).append(callback)


def on_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the current transaction rolls back (e.g. remove a file it stored,
    so a failed change leaves nothing behind); dropped if it commits. Runs with a fresh
    session."""
    db.session().info.setdefault(_ON_ROLLBACK, []).append(callback)


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    if not callbacks:
        return
    # The session that ended cannot be used inside its own commit/rollback event.
    with current_app._get_current_object().app_context():
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the change itself is settled: log, do not undo it
                log.exception("after-transaction work %r failed", callback)


def _hand_on(session: Session) -> None:
    """What a committed transaction produced, handed on in order: index work, the
    registered ``on_commit`` work, then mail.

    SQLAlchemy fires ``after_commit`` for a released SAVEPOINT too (``begin_nested``, as
    the accession retry uses): that commits nothing yet, so nothing is handed on until the
    outermost transaction commits. (Handing on there deadlocked SQLite: the indexer's own
    connection waited for the write lock the still-open request transaction held.)"""
    if session.get_nested_transaction() is not None:
        return
    session.info.pop(_ON_ROLLBACK, None)
    indexing.after_commit(session)
    _run_callbacks(session.info.pop(_ON_COMMIT, []))
    notify.deliver_pending(session)


def _forget(session: Session, previous_transaction) -> None:
    """A rolled-back transaction hands nothing on, and undoes what it left outside the
    database (``on_rollback``)."""
    indexing.after_rollback(session, previous_transaction)
    notify.drop_pending(session, previous_transaction)
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_ON_COMMIT, None)
        _run_callbacks(session.info.pop(_ON_ROLLBACK, []))


def _install_listeners() -> None:
    for name, listener in (
        ("after_commit", _hand_on),
        ("after_soft_rollback", _forget),
        ("before_flush", _guard_reads),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def init_app(app: Flask) -> None:
    """Make every view of ``app`` one unit of work (call after the blueprints are
    registered) and install the session listeners."""
    _install_listeners()
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, "oh_unit_of_work", False):
            app.view_functions[endpoint] = request_unit(view)


_install_listeners()
