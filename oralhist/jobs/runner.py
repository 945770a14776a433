"""Claiming, running and finishing jobs; the lease that lets another worker take over.

Claim: one short transaction picks the oldest queued job of a kind this process knows
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on many hosts never wait
for each other) and moves it to ``running`` with a conditional ``UPDATE ... WHERE status =
'queued'`` (which alone decides a race on SQLite), stamping ``worker`` with a token unique
to this claim and counting ``attempts``.

Lease: while the handler runs, a heartbeat thread renews ``heartbeat_at`` every
``JOB_HEARTBEAT_SECONDS`` (only while ``worker`` still holds this claim's token), and
notices a cancel request. A job ``running`` whose heartbeat is older than
``JOB_LEASE_SECONDS`` belongs to a worker that died (killed, host lost): ``recover_stale``
puts it back in the queue, or fails it once it has been claimed ``JOB_MAX_ATTEMPTS`` times
(a job that kills its worker must not kill every worker in turn), or cancels it when a
cancel was asked for. Progress, heartbeats and the finish are conditional on the claim's
token, so a worker that comes back after losing its lease writes nothing.

Clocks: the lease compares times written by different hosts; keep their clocks in step
(NTP) and keep the lease several heartbeats long (the defaults: 10 s beats, 120 s lease).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from ..errors import OralHistError
from ..extensions import db
from ..models import Job
from ..models.types import utcnow

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The job must stop now: a cancel was asked for, its lease was lost to another worker,
    or the worker is shutting down. Handlers let it propagate."""


#: Seconds between two progress writes of one job when only the percentage moved.
PROGRESS_INTERVAL_S = 0.5


def claim_token() -> str:
    """A name for one claim: host, process, and a random part (a claim is never reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def lease_seconds() -> float:
    return _config("JOB_LEASE_SECONDS", 120.0)


def heartbeat_seconds() -> float:
    return _config("JOB_HEARTBEAT_SECONDS", 10.0)


def max_attempts() -> int:
    return int(_config("JOB_MAX_ATTEMPTS", 3))


def _mine(job_id: int, token: str):
    """The WHERE clause of every write a claim makes: still running, still this claim."""
    return (Job.id == job_id, Job.worker == token, Job.status == "running")


# --- the lease ------------------------------------------------------------------------------


def recover_stale(now=None) -> int:
    """Give back the jobs of workers that stopped renewing their lease; return how many.
    Each move is a conditional update on the dead claim's token: two workers recovering at
    once move a job once."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_seconds())
    limit = max_attempts()
    moved = 0
    with db.engine.begin() as conn:
        stale = conn.execute(
            select(Job.id, Job.worker, Job.attempts, Job.cancel_requested).where(
                Job.status == "running", Job.heartbeat_at < cutoff
            )
        ).all()
        for row in stale:
            where = (
                Job.id == row.id,
                Job.status == "running",
                Job.worker == row.worker,
                Job.heartbeat_at < cutoff,
            )
            if row.cancel_requested:
                values: dict[str, Any] = {
                    "status": "cancelled",
                    "stage": "Cancelled",
                    "finished_at": now,
                }
            elif row.attempts >= limit:
                values = {
                    "status": "failed",
                    "finished_at": now,
                    "stage": "Failed",
                    "error": (
                        f"The worker running this job stopped answering {row.attempts} times"
                        f" (last: {row.worker}); it was not started again. Look at the"
                        " workers' logs, then retry it."
                    ),
                }
            else:
                values = {
                    "status": "queued",
                    "worker": None,
                    "stage": "Waiting for a worker (the previous one stopped answering)",
                }
            moved += conn.execute(update(Job).where(*where).values(**values)).rowcount
            log.warning(
                "job %s of worker %s: lease expired, now %s", row.id, row.worker, values["status"]
            )
    return moved


def claim(token: str, kinds: list[str] | None = None) -> int | None:
    """Claim the oldest queued job (of ``kinds``, default: every registered kind); return
    its id, or None when there is none."""
    from . import load_handlers

    kinds = sorted(load_handlers()) if kinds is None else kinds
    if not kinds:
        return None
    engine = db.engine
    for _ in range(5):  # another worker took the one we saw: look again
        with engine.begin() as conn:
            pick = (
                select(Job.id)
                .where(Job.status == "queued", Job.kind.in_(kinds))
                .order_by(Job.id)
                .limit(1)
            )
            if engine.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.scalar(pick)
            if job_id is None:
                return None
            now = utcnow()
            taken = conn.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(
                    status="running",
                    worker=token,
                    started_at=now,
                    heartbeat_at=now,
                    attempts=Job.attempts + 1,
                    stage="Starting",
                )
            ).rowcount
            if taken:
                return job_id
    return None


class _Heartbeat(threading.Thread):
    """Renews a running job's lease and notices cancel requests, on its own connection."""

    def __init__(self, ctx: JobContext, interval: float) -> None:
        super().__init__(name=f"job-{ctx.job_id}-heartbeat", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            try:
                self.ctx._beat()
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("heartbeat of job %s failed", self.ctx.job_id)


# --- what a handler sees ----------------------------------------------------------------------


@dataclass
class Done:
    """What ``ctx.finish()`` yields: set ``result`` to the job's JSON result."""

    result: dict[str, Any] | None = None


@dataclass
class JobContext:
    """A running job's link to the worker: progress, cancellation, and the finishing commit."""

    job_id: int
    token: str
    engine: Any
    stopping: threading.Event = field(default_factory=threading.Event)
    cancel_seen: threading.Event = field(default_factory=threading.Event)
    lease_lost: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    _stage: str | None = None
    _percent: int = -1
    _written: float = 0.0

    def _check(self) -> None:
        if self.lease_lost.is_set():
            raise Cancelled("the job was taken over by another worker")
        if self.cancel_seen.is_set():
            raise Cancelled("cancel requested")
        if self.stopping.is_set():
            raise Cancelled("the worker is stopping")

    def _why_refused(self) -> None:
        """A conditional write matched nothing: find out why, and raise ``Cancelled``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Job.worker, Job.status, Job.cancel_requested).where(Job.id == self.job_id)
            ).first()
        if row is None or row.worker != self.token or row.status != "running":
            self.lease_lost.set()
        elif row.cancel_requested:
            self.cancel_seen.set()
        self._check()
        raise Cancelled("the job can no longer be written")

    def _beat(self) -> None:
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(Job).where(*_mine(self.job_id, self.token)).values(heartbeat_at=utcnow())
            ).rowcount
            cancel = conn.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        if not renewed:
            self.lease_lost.set()
        elif cancel:
            self.cancel_seen.set()

    def progress(self, percent: float, stage: str | None = None) -> None:
        """Store the job's progress (0-100) and stage text in a short commit of its own;
        raise ``Cancelled`` when the job must stop. Cheap to call often: writes are spaced
        at least ``PROGRESS_INTERVAL_S`` apart unless the stage changes."""
        self._check()
        percent = max(0, min(100, int(percent)))
        stage = self._stage if stage is None else stage[:255]
        now = time.monotonic()
        if stage == self._stage and (
            percent == self._percent or now - self._written < PROGRESS_INTERVAL_S
        ):
            return
        values: dict[str, Any] = {"progress": percent, "heartbeat_at": utcnow()}
        if stage is not None:
            values["stage"] = stage
        with self.engine.begin() as conn:
            written = conn.execute(
                update(Job)
                .where(*_mine(self.job_id, self.token), Job.cancel_requested.is_(False))
                .values(**values)
            ).rowcount
        if not written:
            self._why_refused()
        self._stage, self._percent, self._written = stage, percent, now

    @contextmanager
    def finish(self) -> Iterator[Done]:
        """One unit of work that also marks the job done with ``done.result``; raises
        ``Cancelled`` (and writes nothing) if the job was cancelled or taken over."""
        from ..transaction import unit_of_work

        self._check()
        db.session.rollback()  # end the handler's reads: the finish starts fresh
        done = Done()
        with unit_of_work():
            now = utcnow()
            taken = db.session.execute(
                update(Job)
                .where(*_mine(self.job_id, self.token), Job.cancel_requested.is_(False))
                .values(
                    status="done",
                    progress=100,
                    stage="Done",
                    finished_at=now,
                    heartbeat_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if not taken:
                db.session.rollback()
                self._why_refused()
            yield done
            db.session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(result=done.result)
                .execution_options(synchronize_session=False)
            )
        self.finished = True


# --- running one job ----------------------------------------------------------------------------


def _settle(job_id: int, token: str, values: dict[str, Any]) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(*_mine(job_id, token)).values(**values))


def run_claimed(
    job_id: int,
    token: str,
    *,
    stopping: threading.Event | None = None,
    heartbeat: bool = True,
) -> str:
    """Run the handler of a job this process has claimed; return how it ended
    (done, failed, cancelled, requeued, lost). Call inside an app context."""
    from . import get_handler

    ctx = JobContext(job_id, token, db.engine, stopping=stopping or threading.Event())
    beat = _Heartbeat(ctx, heartbeat_seconds()) if heartbeat else None
    if beat is not None:
        beat.start()
    try:
        job = db.session.get(Job, job_id)
        if job is None:
            return "lost"
        spec = get_handler(job.kind)
        spec.run(job, ctx)
        if not ctx.finished:
            with ctx.finish():
                pass
        return "done"
    except Cancelled as exc:
        db.session.rollback()
        now = utcnow()
        if ctx.lease_lost.is_set():
            log.warning("job %s: %s; left to the worker that took it", job_id, exc)
            return "lost"
        if ctx.cancel_seen.is_set() or not ctx.stopping.is_set():
            _settle(
                job_id, token, {"status": "cancelled", "stage": "Cancelled", "finished_at": now}
            )
            return "cancelled"
        # The worker is stopping (SIGTERM): give the job back, without counting the attempt.
        _settle(
            job_id,
            token,
            {
                "status": "queued",
                "worker": None,
                "attempts": Job.attempts - 1,
                "stage": "Waiting for a worker (the previous one was stopped)",
            },
        )
        return "requeued"
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, OralHistError):
            message = exc.message
        else:
            log.exception("job %s failed", job_id)
            message = f"Internal error ({type(exc).__name__}): {exc}. It was logged."
        _settle(
            job_id,
            token,
            {
                "status": "failed",
                "stage": "Failed",
                "error": message[:4000],
                "finished_at": utcnow(),
            },
        )
        return "failed"
    finally:
        if beat is not None:
            beat.done.set()
            beat.join()
        db.session.remove()


def run_one(
    token_prefix: str | None = None,
    *,
    stopping: threading.Event | None = None,
    heartbeat: bool = True,
    kinds: list[str] | None = None,
) -> tuple[int, str] | None:
    """Recover stale jobs, claim one and run it; ``(job id, outcome)`` or None when the
    queue is empty. Call inside an app context."""
    recover_stale()
    token = claim_token() if token_prefix is None else f"{token_prefix}:{secrets.token_hex(4)}"
    job_id = claim(token, kinds)
    if job_id is None:
        return None
    return job_id, run_claimed(job_id, token, stopping=stopping, heartbeat=heartbeat)


def run_pending(app: Flask, *, kinds: list[str] | None = None, limit: int | None = None) -> int:
    """Run every queued job in this process, one after another, until none is left (tests,
    scripts); return how many ran. Each runs in a fresh app context, as in the worker."""
    ran = 0
    while limit is None or ran < limit:
        with app.app_context():
            outcome = run_one(heartbeat=False, kinds=kinds)
        if outcome is None:
            break
        ran += 1
    return ran


def lower_priority(increment: int) -> None:
    """Lower the calling thread's CPU priority by ``increment`` (niceness; 0 leaves it):
    jobs that run for minutes (alignment on every core) then yield to the web server.

    On Linux niceness belongs to a thread, so only the job thread is lowered, with every
    thread and process it starts afterwards; elsewhere ``os.nice`` lowers the whole process.
    Raising a priority again needs privileges, so the job thread is lowered once, for good."""
    if increment > 0 and hasattr(os, "nice"):
        try:
            os.nice(increment)
        except OSError:  # not allowed here: run at the priority we have
            log.warning("could not lower the job thread's priority by %s", increment)


class JobRunner:
    """The worker's job thread: claims and runs jobs until ``stop`` is set. It runs beside
    the index outbox loop (a thread of its own), so a five-minute job never holds up the
    index, and the outbox keeps its single writer."""

    def __init__(self, app: Flask, stop: threading.Event, *, echo=log.info) -> None:
        self.app = app
        self.stop = stop
        self.echo = echo
        self.poll = float(app.config.get("JOB_POLL_SECONDS", 1.0))
        self.thread = threading.Thread(target=self.run, name="oralhist-jobs", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def run(self) -> None:
        lower_priority(int(self.app.config.get("JOB_NICE", 0)))
        while not self.stop.is_set():
            outcome = None
            try:
                with self.app.app_context():
                    outcome = run_one(stopping=self.stop)
            except Exception:  # the database went away for a moment: try again later
                log.exception("the job runner failed; it tries again")
            if outcome is not None:
                self.echo(f"job {outcome[0]}: {outcome[1]}")
                continue
            self.stop.wait(self.poll)

    def join(self, timeout: float | None = None) -> None:
        if self.thread.is_alive():
            self.thread.join(timeout)
