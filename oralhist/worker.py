"""The background worker: the one process that applies index work, and runs timed duties.

``oralhist worker`` (started beside gunicorn by ``oralhist serve``) is the single writer of the
search index: web requests only commit their ``IndexTask`` rows (the outbox), and no request
ever waits for the index. The worker polls the outbox (one indexed ``SELECT`` every
``WORKER_POLL_SECONDS``, 0.1 s by default) and applies what it finds in commit order
(``services.indexing.process_pending``). Killed at any moment, it loses nothing: a task is
deleted only after the index holding its state has been committed, and the next worker
applies whatever is left.

Besides the outbox it runs timed duties, each in its own unit of work:
- at start and every ``WORKER_CONSISTENCY_SECONDS``: compare the index's access fields with
  the database and queue a reindex of any interview that drifted
  (``indexing.check_consistency``);
- at start and hourly: store "expired" on approvals past their date and tell the requesters
  (what ``oralhist access expire`` does; pages compute expiry at read time meanwhile).

A ``Duty`` is a name, an interval and a function. One index writer per instance: a lock
file in ``instance/`` refuses a second full worker at once.

Background jobs (``oralhist.jobs``: alignment, transcription, derivatives) run in a thread of
their own beside this loop (``jobs.runner.JobRunner``): a five-minute job never stalls the
index outbox, and the outbox keeps its one writer (this loop's thread). ``--jobs-only``
workers (``jobs_only=True``) run jobs and nothing else: any number of them, on any host
sharing the database, take no instance lock and never touch the index. On PostgreSQL a full
worker also holds a database-wide advisory lock, so a second full worker on another host is
refused: the outbox keeps one writer whatever the number of hosts.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from flask import Flask

from .errors import OralHistError

log = logging.getLogger(__name__)


#: The PostgreSQL advisory lock key of the one index writer ("ohix").
INDEX_WRITER_LOCK = 0x6F686978


class WorkerRunning(OralHistError):
    """Another worker already serves this instance."""

    status = 409
    code = "worker_running"


@dataclass
class Duty:
    """Something the worker does every ``interval`` seconds (first at start)."""

    name: str
    interval: float
    run: Callable[[], str | None]
    due: float = 0.0


def _apply_outbox() -> str | None:
    from .services import indexing

    # With nothing queued this is one indexed read: no lock is taken, no writer opened.
    applied = indexing.process_pending()
    return f"applied {applied} index tasks" if applied else None


def _check_consistency() -> str | None:
    from .services import indexing
    from .transaction import unit_of_work

    with unit_of_work():
        drift = indexing.check_consistency(repair=True)
    if drift.interviews:
        log.warning("search index drift repaired: %s", drift)
        return str(drift)
    return None


def _expire_approvals() -> str | None:
    from .services import access_requests
    from .transaction import unit_of_work

    with unit_of_work():
        count = access_requests.expire_due()
    return f"{count} approvals expired" if count else None


def _lift_expired_redactions() -> str | None:
    """Redactions whose ``until`` date has passed already mask nothing when read; deleting
    them (audited) reindexes their interviews, so their words are searchable again."""
    from .services import consent
    from .transaction import unit_of_work

    with unit_of_work():
        count = consent.lift_expired()
    return f"{count} redactions lifted by their date" if count else None


def _make_redacted_audio() -> str | None:
    from .services import redacted_audio
    from .transaction import unit_of_work

    with unit_of_work():
        forgotten = len(redacted_audio.forget_stale())
        queued = len(redacted_audio.request_missing())
    said = [f"{queued} redacted audio copies queued" if queued else ""]
    said.append(f"{forgotten} stale redacted audio copies removed" if forgotten else "")
    return "; ".join(s for s in said if s) or None


class Worker:
    """The loop of ``oralhist worker``; ``run`` returns when ``stop`` is set."""

    def __init__(
        self,
        app: Flask,
        *,
        echo: Callable[[str], None] = log.info,
        jobs: bool = True,
        jobs_only: bool = False,
    ) -> None:
        self.app = app
        self.echo = echo
        config = app.config
        self.poll = float(config.get("WORKER_POLL_SECONDS", 0.1))
        self.run_jobs = jobs or jobs_only
        self.jobs_only = jobs_only
        self.duties = (
            []
            if jobs_only
            else [
                Duty("index outbox", 0.0, _apply_outbox),
                Duty(
                    "index consistency check",
                    float(config.get("WORKER_CONSISTENCY_SECONDS", 3600)),
                    _check_consistency,
                ),
                Duty("access expiry", 3600.0, _expire_approvals),
                Duty("redaction expiry", 3600.0, _lift_expired_redactions),
                Duty("redacted audio", 10.0, _make_redacted_audio),
            ]
        )
        self.stop = threading.Event()
        self._lock_file: TextIO | None = None
        self._db_lock: Any = None

    # -- one worker per instance

    def _lock_path(self) -> Path:
        return Path(self.app.instance_path) / "worker.lock"

    def acquire(self) -> None:
        """Take the instance's worker lock, or raise ``WorkerRunning`` at once (a
        ``jobs_only`` worker takes none: it never writes the index). On PostgreSQL also the
        database-wide index-writer lock (an advisory lock held by a connection of this
        worker): a full worker on another host sharing the database is refused too, so the
        outbox has one writer whatever the number of hosts."""
        if self.jobs_only:
            return
        self._acquire_file_lock()
        try:
            self._acquire_database_lock()
        except BaseException:
            self._release_file_lock()
            raise

    def _acquire_database_lock(self) -> None:
        from sqlalchemy import text

        from .extensions import db

        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            return  # SQLite: one host by construction; the file lock is enough
        connection = engine.connect()
        # Out of the pool: closing it ends the database session, and with it the lock.
        connection.detach()
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": INDEX_WRITER_LOCK}
            ).scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            raise WorkerRunning(
                "Another oralhist worker already writes the search index for this database"
                " (on this or another host); one is enough. Run `oralhist worker --jobs-only`"
                " for more job workers."
            )
        self._db_lock = connection

    def _acquire_file_lock(self) -> None:
        path = self._lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held while the worker runs
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise WorkerRunning(
                f"Another oralhist worker is running for {self.app.instance_path}"
                f" (pid {holder}); one is enough."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def release(self) -> None:
        if self._db_lock is not None:
            self._db_lock.close()  # the session ends: PostgreSQL lets go of the lock
            self._db_lock = None
        self._release_file_lock()

    def _release_file_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing lets go of the lock
            self._lock_file = None

    # -- the loop

    def run_due(self, now: float | None = None) -> None:
        """Run every duty whose time has come, each in a fresh app context."""
        now = time.monotonic() if now is None else now
        for duty in self.duties:
            if self.stop.is_set() or now < duty.due:
                continue
            duty.due = now + duty.interval
            try:
                with self.app.app_context():
                    said = duty.run()
            except Exception:  # one failed round must not stop the worker
                log.exception("worker duty %r failed; it runs again later", duty.name)
                continue
            if said:
                self.echo(f"{duty.name}: {said}")

    def run(self, *, once: bool = False) -> None:
        """Start-up check (a missing or damaged index is rebuilt), then loop until stopped;
        ``once``: run every duty once and return (cron, tests)."""
        from .jobs import load_handlers
        from .jobs.runner import JobRunner, run_pending
        from .services import indexing

        with self.app.app_context():
            if not self.jobs_only:
                indexing.startup_check(echo=self.echo)
            load_handlers()
        if once:
            self.run_due()
            if self.run_jobs:
                ran = run_pending(self.app)
                if ran:
                    self.echo(f"jobs: ran {ran}")
                self.run_due()  # the index work the jobs left
            return
        runner = JobRunner(self.app, self.stop, echo=self.echo) if self.run_jobs else None
        if runner is not None:
            runner.start()
        try:
            while not self.stop.is_set():
                self.run_due()
                self.stop.wait(self.poll)
        finally:
            self.stop.set()
            if runner is not None:
                runner.join()

    def handle_signals(self) -> None:
        """SIGTERM and SIGINT finish the current batch, then stop."""

        def stop(_signum, _frame) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
