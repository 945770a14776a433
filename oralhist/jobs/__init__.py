"""Durable background jobs: alignment, transcription, derivatives, waveforms.

A job is a row (``models.Job``). ``enqueue`` adds one in the caller's unit of work (it
flushes, never commits: the request's commit makes it visible to the workers). A worker
(``oralhist worker``; ``run_pending`` in tests) claims it, runs its handler, and finishes it.

Writing a handler::

    @jobs.handler("align", exclusive=True, title="Aligning the transcript to the audio")
    def run(job: Job, ctx: jobs.JobContext) -> None:
        text = load_what_is_needed(job)          # normal db.session reads
        db.session.rollback()                    # end the read before the long part
        for i, part in enumerate(parts):
            ctx.progress(100 * i // len(parts), f"Part {i + 1} of {len(parts)}")
            ...                                  # no transaction is held here
        with ctx.finish() as done:               # one unit of work, the job marked done
            version = save_the_result(...)       # in the same commit
            done.result = {"version": version.number, "url": ...}

and add its module's dotted name to ``HANDLER_MODULES`` (one line).

The rules a handler can rely on:
- it runs with no transaction held; ``ctx.progress`` commits on a connection of its own;
- ``ctx.progress`` raises ``Cancelled`` once a cancel was asked for, the job's lease was
  lost (another worker took it over) or the worker is stopping: let it propagate;
- its writes happen only inside ``with ctx.finish() as done:``: that block's commit also
  marks the job done with ``done.result``. It first takes the job's row (a conditional
  ``UPDATE`` of the claim this worker holds), so a job that was cancelled or taken over
  meanwhile writes nothing (``Cancelled``), and a job finished by one worker can never be
  finished again by another: no result is lost or doubled;
- an exception fails the job with its message (``OralHistError`` messages are shown as
  they are; anything else is logged and shown as an internal error naming its type);
- a worker that dies mid-job stops renewing the job's lease (``heartbeat_at``); after
  ``JOB_LEASE_SECONDS`` the next worker puts it back in the queue and runs it again, up to
  ``JOB_MAX_ATTEMPTS`` claims, after which the job fails saying so.

``exclusive=True``: at most one exclusive job per interview is queued or running (a unique
partial index in the database, so two requests at the same moment cannot both start one):
``enqueue`` raises ``JobConflict`` (409, with the running job's id) for a second.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, InvalidTransition, NotFound
from ..extensions import db
from ..models import Job
from ..models.job import ACTIVE_STATUSES
from ..models.types import utcnow
from .runner import Cancelled, JobContext, run_pending

log = logging.getLogger(__name__)

#: Modules whose import registers job handlers (one line per lane). ``JOB_HANDLER_MODULES``
#: in the configuration adds more (tests, plug-ins).
HANDLER_MODULES: list[str] = [
    "oralhist.media.recipes",  # access copies and waveforms (media.derivatives)
    "oralhist.services.redacted_audio",  # redact_audio jobs queued before migration 0013
    "oralhist.align.jobs",  # forced alignment and offline transcription
]


class JobConflict(Conflict):
    """A second exclusive job for an interview that already has one queued or running."""

    code = "job_running"

    def __init__(self, message: str, *, job_id: int, **details: Any) -> None:
        super().__init__(message, job_id=job_id, **details)
        self.job_id = job_id


class UnknownJobKind(LookupError):
    """``enqueue`` of a kind no handler is registered for (a programming error)."""


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Callable[..., None]
    exclusive: bool
    title: str


_HANDLERS: dict[str, Handler] = {}
_loaded: set[str] = set()


def handler(
    kind: str, *, exclusive: bool = False, title: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``run(job, ctx)`` as the handler of jobs of ``kind``."""

    def register(run: Callable[..., None]) -> Callable[..., None]:
        known = _HANDLERS.get(kind)
        same = known is not None and (
            known.run.__module__,
            known.run.__qualname__,
        ) == (run.__module__, run.__qualname__)
        if known is not None and not same:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        _HANDLERS[kind] = Handler(kind, run, exclusive, title or kind.replace("_", " ").title())
        return run

    return register


def load_handlers(extra: list[str] | tuple[str, ...] = ()) -> dict[str, Handler]:
    """Import every handler module (``HANDLER_MODULES``, the configured extras, ``extra``)
    once, and return the registry."""
    names = list(HANDLER_MODULES) + list(extra)
    try:
        from flask import current_app

        names += list(current_app.config.get("JOB_HANDLER_MODULES") or ())
    except RuntimeError:  # no app context: only the built-in list
        pass
    for name in names:
        if name not in _loaded:
            importlib.import_module(name)
            _loaded.add(name)
    return _HANDLERS


def get_handler(kind: str) -> Handler:
    handlers = load_handlers()
    if kind not in handlers:
        raise UnknownJobKind(f"no handler is registered for job kind {kind!r}")
    return handlers[kind]


def title_of(kind: str) -> str:
    """The sentence shown for a job of ``kind`` ("Aligning the transcript to the audio")."""
    known = load_handlers().get(kind)
    return known.title if known else kind


def _user_id(user: Any) -> int | None:
    if user is None:
        return None
    if hasattr(user, "user_id"):  # a policy Viewer
        return user.user_id
    return getattr(user, "id", None)


def active_exclusive_job(interview_id: int) -> Job | None:
    """The exclusive job queued or running for an interview, if any."""
    return db.session.scalar(
        select(Job).where(
            Job.interview_id == interview_id,
            Job.is_exclusive.is_(True),
            Job.status.in_(ACTIVE_STATUSES),
        )
    )


def _conflict(existing: Job) -> JobConflict:
    return JobConflict(
        f"This interview already has a job {existing.status}: {title_of(existing.kind)}"
        f" (job {existing.id}). Wait for it to finish or cancel it first.",
        job_id=existing.id,
    )


def enqueue(
    kind: str,
    *,
    interview: Any = None,
    recording: Any = None,
    params: dict[str, Any] | None = None,
    user: Any = None,
) -> Job:
    """Queue a job of ``kind`` for ``interview`` and/or ``recording`` on behalf of ``user``
    (a ``User``, a policy ``Viewer`` or None for the system). Flushes, never commits.

    Raises ``JobConflict`` for a second exclusive job of the same interview, and
    ``UnknownJobKind`` for a kind without a handler."""
    spec = get_handler(kind)
    if interview is None and recording is not None:
        interview = recording.interview
    interview_id = interview.id if interview is not None else None
    if spec.exclusive:
        if interview_id is None:
            raise ValueError(f"an exclusive job ({kind!r}) needs an interview")
        existing = active_exclusive_job(interview_id)
        if existing is not None:
            raise _conflict(existing)
    job = Job(
        kind=kind,
        status="queued",
        progress=0,
        stage="Waiting for a worker",
        is_exclusive=spec.exclusive,
        interview_id=interview_id,
        recording_id=recording.id if recording is not None else None,
        params=dict(params or {}),
        created_by_id=_user_id(user),
        attempts=0,
        cancel_requested=False,
    )
    db.session.add(job)
    if not spec.exclusive:
        db.session.flush()
        return job
    try:
        with db.session.begin_nested():  # the unique index decides a race between two
            db.session.flush()
    except IntegrityError:
        existing = active_exclusive_job(interview_id)
        if existing is None:
            raise
        raise _conflict(existing) from None
    return job


def get_job(job_id: int, viewer: Any) -> Job:
    """The job, if ``viewer`` may see it; otherwise ``NotFound`` (never "forbidden": a job's
    existence says something about an interview)."""
    from ..access import policy

    job = db.session.get(Job, job_id)
    if job is None or not policy.can_see_job(viewer, job):
        raise NotFound(f"There is no job {job_id}.")
    return job


def cancel(job: Job, viewer: Any = None) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its handler stops at its next
    ``ctx.progress``; the job then shows "cancelled"). Flushes. ``viewer`` None: the system
    (the CLI). A finished job cannot be cancelled (``InvalidTransition``)."""
    from sqlalchemy import update

    from ..access import policy

    if viewer is not None and not policy.can_cancel_job(viewer, job):
        raise NotFound(f"There is no job {job.id}.")
    now = utcnow()
    # Conditional updates: a worker may claim or finish the job at this very moment.
    queued = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == "queued")
        .values(
            status="cancelled",
            cancel_requested=True,
            finished_at=now,
            stage="Cancelled",
            worker=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not queued:
        running = db.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "running")
            .values(cancel_requested=True, stage="Stopping (cancel requested)")
            .execution_options(synchronize_session=False)
        ).rowcount
        if not running:
            db.session.refresh(job)
            raise InvalidTransition(
                f"Job {job.id} is already {job.status}: only a queued or running job can be"
                " cancelled.",
                status=job.status,
            )
    db.session.refresh(job)
    return job


def retry(job: Job, viewer: Any = None, *, user: Any = None) -> Job:
    """Queue a new job with the same kind, target and settings as a failed or cancelled
    one (the old one stays, as the record of what happened). Flushes; returns the new job.
    ``viewer`` None: the system (the CLI)."""
    from ..access import policy

    if viewer is not None and not policy.can_retry_job(viewer, job):
        raise NotFound(f"There is no job {job.id}.")
    if job.status not in ("failed", "cancelled"):
        raise InvalidTransition(
            f"Job {job.id} is {job.status}: only a failed or cancelled job can be retried.",
            status=job.status,
        )
    new = enqueue(
        job.kind,
        interview=job.interview,
        recording=job.recording,
        params=job.params,
        user=user if user is not None else viewer,
    )
    if new.created_by_id is None:
        new.created_by_id = job.created_by_id
    new.retry_of_id = job.id
    db.session.flush()
    return new


#: How long a finished job stays on the interview page.
RECENT = timedelta(days=1)


def interview_jobs(interview: Any, viewer: Any, *, limit: int = 5) -> list[Job]:
    """The jobs of an interview the interview page shows to ``viewer``: queued and running
    ones, and those finished in the last day, newest first."""
    from sqlalchemy import or_

    from ..access.clauses import visible_jobs_clause

    since = utcnow() - RECENT
    return list(
        db.session.scalars(
            select(Job)
            .where(
                Job.interview_id == interview.id,
                visible_jobs_clause(viewer),
                or_(Job.status.in_(ACTIVE_STATUSES), Job.finished_at >= since),
            )
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )


def job_json(job: Job) -> dict[str, Any]:
    """The API's view of a job (``GET /api/v1/jobs/<id>``)."""

    def when(value):
        return value.isoformat() if value is not None else None

    return {
        "id": job.id,
        "kind": job.kind,
        "title": title_of(job.kind),
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "result": job.result,
        "error": job.error,
        "interview_id": job.interview_id,
        "recording_id": job.recording_id,
        "created_at": when(job.created_at),
        "started_at": when(job.started_at),
        "finished_at": when(job.finished_at),
        "attempts": job.attempts,
        "cancel_requested": bool(job.cancel_requested),
        "retry_of": job.retry_of_id,
    }


__all__ = [
    "HANDLER_MODULES",
    "Cancelled",
    "Handler",
    "JobConflict",
    "JobContext",
    "UnknownJobKind",
    "cancel",
    "enqueue",
    "get_job",
    "handler",
    "interview_jobs",
    "job_json",
    "load_handlers",
    "retry",
    "run_pending",
    "title_of",
]
