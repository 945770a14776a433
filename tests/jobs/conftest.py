"""Fixtures for the job tests: the test handlers registered, an interview owned by the
contributor, and helpers that enqueue and read jobs."""

from __future__ import annotations

import threading
import time

import pytest

from oralhist import jobs
from oralhist.extensions import db
from oralhist.models import Interview, Job, Person, User

from . import handlers  # noqa: F401  (registers the test.* handlers)

#: How long a test waits at most for another thread or process to reach a state (seconds).
#: A deadline for a wait, never an assertion on speed.
WAIT = 60


@pytest.fixture
def owned(app, users):
    """An interview deposited by the contributor (a published one)."""
    with app.app_context():
        interview = Interview(
            title="Jobs test interview",
            accession="OH-JOBS-1",
            access_level="open",
            status="published",
            created_by_id=users["contributor"],
        )
        db.session.add(interview)
        db.session.commit()
        return interview.id


def enqueue(app, kind, interview_id=None, role="contributor", users=None, **params) -> int:
    """Queue a job in a committed unit of work; return its id."""
    from oralhist.transaction import unit_of_work

    with app.app_context(), unit_of_work():
        interview = db.session.get(Interview, interview_id) if interview_id else None
        user = None
        if users is not None and role is not None:
            user = db.session.get(User, users[role])
        job = jobs.enqueue(kind, interview=interview, params=params, user=user)
        job_id = job.id
    return job_id


def job_row(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def results(app, job_id) -> int:
    """How many result rows the job's finishing wrote (one per successful finish)."""
    with app.app_context():
        return db.session.query(Person).filter_by(name=f"result of job {job_id}").count()


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class Background:
    """``jobs.run_pending`` in a thread (a worker in this process)."""

    def __init__(self, app) -> None:
        self.ran: list[int] = []
        self.thread = threading.Thread(target=lambda: self.ran.append(jobs.run_pending(app)))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
