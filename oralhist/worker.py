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
sharing the database, take no instance lock and never touch the index.
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
from typing import TextIO

from flask import Flask

from .errors import OralHistError

log = logging.getLogger(__name__)


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
    from sqlalchemy import select

    from .extensions import db
    from .models import IndexTask
    from .services import indexing

    if db.session.scalar(select(IndexTask.id).limit(1)) is None:
        db.session.rollback()  # end the read transaction: the next look sees new commits
        return None
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
            ]
        )
        self.stop = threading.Event()
        self._lock_file: TextIO | None = None

    # -- one worker per instance

    def _lock_path(self) -> Path:
        return Path(self.app.instance_path) / "worker.lock"

    def acquire(self) -> None:
        """Take the instance's worker lock, or raise ``WorkerRunning`` at once (a
        ``jobs_only`` worker takes none: it never writes the index)."""
        if self.jobs_only:
            return
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
