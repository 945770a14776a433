"""Workers on many hosts share the job queue (issue 18, item 3): three worker processes
against one database run 30 jobs, each exactly once, even when one of them is SIGKILLed in
the middle of a job; and the search index keeps one writer (a second full worker is refused,
on PostgreSQL even from another host, by a database-wide lock)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import Job, Person
from oralhist.worker import Worker, WorkerRunning

from .conftest import WAIT, enqueue, wait_for
from .test_worker_jobs import start_worker

#: Threads or other processes use the database: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


JOBS = 30


def _states(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {status: count for status, count in rows}


def test_three_workers_run_every_job_exactly_once_even_when_one_is_killed(app, users, owned):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a database other processes can open")
    app.config["JOB_LEASE_SECONDS"] = 1
    ids = [enqueue(app, "test.step", owned, users=users, steps=4, pause=0.1) for _ in range(JOBS)]
    # One full worker (index and jobs) and two jobs-only ones, as on three hosts.
    workers = [start_worker(app), *(start_worker(app, "--jobs-only") for _ in range(2))]
    killed_pid = None
    killed_job = None
    try:
        # Wait until a jobs-only worker is in the middle of a job, then kill it outright.
        def victim():
            with app.app_context():
                rows = db.session.execute(
                    select(Job.id, Job.worker).where(Job.status == "running")
                ).all()
            for job_id, claim in rows:
                pid = int(claim.split(":")[1])
                if pid in (workers[1].pid, workers[2].pid):
                    return job_id, pid
            return None

        wait_for(lambda: victim() is not None, "a worker to be mid-job")
        killed_job, killed_pid = victim()
        os.kill(killed_pid, signal.SIGKILL)
        deadline = time.monotonic() + 4 * WAIT
        while _states(app).get("done", 0) < JOBS:
            for worker in workers:
                if worker.pid != killed_pid:
                    assert worker.poll() is None, worker.stderr.read()
            assert time.monotonic() < deadline, _states(app)
            time.sleep(0.1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(WAIT)
            worker.stderr.close()
    assert _states(app) == {"done": JOBS}
    with app.app_context():
        names = db.session.scalars(select(Person.name).where(Person.sort_name == "result"))
        names = sorted(names)
        assert names == sorted(f"result of job {job_id}" for job_id in ids)  # once each
        taken_over = db.session.get(Job, killed_job)
        assert taken_over.attempts == 2
        assert int(taken_over.worker.split(":")[1]) != killed_pid
        pids = {int(job.worker.split(":")[1]) for job in db.session.scalars(select(Job))}
    assert len(pids) >= 2  # the queue was shared


def test_one_index_writer_per_database(app, tmp_path):
    """A full worker of another host (another instance folder, the same database) is
    refused on PostgreSQL; jobs-only workers are not."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the database-wide lock is PostgreSQL's (SQLite is one host)")
    from tests.conftest import build_app

    other_host = tmp_path / "other-host"
    other_host.mkdir()
    other = build_app(other_host, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    first = Worker(app)
    first.acquire()
    try:
        with pytest.raises(WorkerRunning, match="already writes the search index"):
            Worker(other).acquire()
        helper = Worker(other, jobs_only=True)
        helper.acquire()  # takes no lock
        helper.release()
    finally:
        first.release()
    second = Worker(other)
    second.acquire()  # the first let go
    second.release()
