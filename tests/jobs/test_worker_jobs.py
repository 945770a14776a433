"""Jobs in the real worker: a running job does not hold up the index outbox (the job thread
beside the outbox loop), and a worker process killed mid-job (SIGKILL) loses nothing: the
next worker finishes the job exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from oralhist.worker import Worker

from ..test_indexer import anonymous_total, patch_interview
from ..test_search_web import add_interview
from .conftest import WAIT, enqueue, job_row, results, wait_for

#: Threads or other processes use the database: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


ROOT = Path(__file__).resolve().parents[2]


def test_a_running_job_does_not_hold_up_the_index(app, users, owned, browser, tmp_path):
    """While a job works (here: until told to stop), index work left by requests is
    applied: the job runs in its own thread, the outbox loop goes on."""
    with app.app_context():
        iid = add_interview("Outbox", lines=[("A", 0, "The first word.")])
    app.config["SEARCH_SYNC"] = False
    app.config["WORKER_POLL_SECONDS"] = 0.05
    app.config["JOB_POLL_SECONDS"] = 0.05
    release = tmp_path / "release"
    job_id = enqueue(app, "test.wait", owned, users=users, release_file=str(release))
    worker = Worker(app)
    worker.acquire()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: job_row(app, job_id).stage == "Working", "the job to start")
        patch_interview(app, iid, title="Outbox then quintessword")
        wait_for(lambda: anonymous_total(browser, "quintessword") == 1, "the index to follow")
        assert job_row(app, job_id).status == "running"  # still working meanwhile
        release.touch()
        wait_for(lambda: job_row(app, job_id).status == "done", "the job to finish")
    finally:
        worker.stop.set()
        thread.join(WAIT)
        worker.release()
    assert not thread.is_alive()
    assert results(app, job_id) == 1


def worker_env(app) -> dict[str, str]:
    """The environment of a worker process on the test app's database, media and index,
    with the test handlers and a short lease."""
    return {
        **os.environ,
        "OH_INSTANCE_PATH": app.instance_path,
        "OH_SECRET_KEY": "test",
        "OH_SEARCH_SYNC": "false",
        "OH_JOB_HANDLER_MODULES": '["tests.jobs.handlers"]',
        "OH_JOB_HEARTBEAT_SECONDS": "0.2",
        "OH_JOB_LEASE_SECONDS": "1",
        "OH_JOB_POLL_SECONDS": "0.05",
        # at the test run's own priority: on a loaded machine a job thread niced below the
        # rest can miss these tests' deadlines (the niceness has its own tests)
        "OH_JOB_NICE": "0",
        **{
            f"OH_{key}": app.config[key]
            for key in ("SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "MEDIA_ROOT", "OUTBOX_DIR")
        },
    }


def start_worker(app, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "oralhist.cli", "worker", *args],
        cwd=ROOT,
        env=worker_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(app, users, owned):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a database another process can open")
    app.config["JOB_LEASE_SECONDS"] = 1
    job_id = enqueue(app, "test.wait", owned, users=users)  # waits on its first attempt
    child = start_worker(app, "--jobs-only")
    try:
        wait_for(
            lambda: child.poll() is not None or job_row(app, job_id).stage == "Working",
            "the worker to start the job",
        )
        assert child.poll() is None, child.stderr.read()
        first = job_row(app, job_id)
        assert (first.status, first.attempts) == ("running", 1)
        os.kill(child.pid, signal.SIGKILL)  # mid-job: claimed, working, nothing finished
    finally:
        child.wait(WAIT)
        child.stderr.close()
    assert job_row(app, job_id).status == "running"  # nobody knows yet that it died
    # The next worker: once the lease ran out it takes the job up again.
    from oralhist import jobs

    wait_for(lambda: jobs.run_pending(app) == 1, "the lease to run out")
    done = job_row(app, job_id)
    assert (done.status, done.attempts) == ("done", 2)
    assert done.worker != first.worker
    assert results(app, job_id) == 1
    assert jobs.run_pending(app) == 0
