"""Job handlers for the tests (registered through ``JOB_HANDLER_MODULES`` in worker
subprocesses, and by importing this module in-process)."""

from __future__ import annotations

import os
import time

from oralhist import jobs
from oralhist.errors import ValidationError
from oralhist.extensions import db
from oralhist.models import Person

#: How long ``test.wait`` waits at most for its release file or a cancel (seconds).
WAIT_AT_MOST = 120


def _result(job, done, **extra) -> None:
    """The visible result: one Person row per finishing, so a doubled result would show."""
    db.session.add(Person(name=f"result of job {job.id}", sort_name="result"))
    done.result = {"attempt": job.attempts, **extra}


@jobs.handler("test.count", title="Counting for a test")
def count(job, ctx) -> None:
    steps = int(job.params.get("steps", 4))
    for step in range(steps):
        ctx.progress(100 * step // steps, f"Step {step + 1} of {steps}")
    with ctx.finish() as done:
        _result(job, done, steps=steps, version=7, url=f"/interviews/{job.interview_id}")


@jobs.handler("test.exclusive", exclusive=True, title="An exclusive test job")
def exclusive(job, ctx) -> None:
    ctx.progress(50, "Halfway")
    with ctx.finish() as done:
        _result(job, done)


@jobs.handler("test.wait", title="Waiting for a test")
def wait(job, ctx) -> None:
    """First attempt: works (progress "Working") until its release file appears, a cancel
    comes or the worker is killed; later attempts finish at once."""
    release = job.params.get("release_file")
    db.session.rollback()
    if job.attempts == 1 or job.params.get("always_wait"):
        deadline = time.monotonic() + WAIT_AT_MOST
        tick = 0
        while time.monotonic() < deadline:
            ctx.progress(min(50, tick), "Working")
            if release and os.path.exists(release):
                break
            time.sleep(0.05)
            tick += 1
    with ctx.finish() as done:
        _result(job, done)


@jobs.handler("test.fail", title="A test job that fails")
def fail(job, ctx) -> None:
    ctx.progress(10, "About to fail")
    raise ValidationError("The test job cannot go on: the input has no line 3.")


@jobs.handler("test.crash", title="A test job with a bug")
def crash(job, ctx) -> None:
    raise RuntimeError("an unexpected state")


@jobs.handler("test.write_then_fail", title="A test job whose finishing fails")
def write_then_fail(job, ctx) -> None:
    with ctx.finish() as done:
        _result(job, done)
        raise ValidationError("The result does not fit.")
