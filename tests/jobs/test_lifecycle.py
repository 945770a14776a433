"""The job lifecycle with registered test handlers: queued -> running -> done with progress,
cancel while queued and while running, failures and retry, the exclusive rule, the lease
(a worker that stopped answering), and a lost claim that writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from oralhist import jobs
from oralhist.errors import InvalidTransition
from oralhist.extensions import db
from oralhist.jobs import runner
from oralhist.models import Interview, Job
from oralhist.models.types import utcnow
from oralhist.transaction import unit_of_work

from .conftest import Background, enqueue, job_row, results, wait_for

#: A job's progress is stored in transactions of its own, which must outlive the handler's
#: rollback: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


def test_a_job_goes_from_queued_to_done_with_its_result(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users, steps=3)
    queued = job_row(app, job_id)
    assert (queued.status, queued.progress, queued.attempts) == ("queued", 0, 0)
    assert queued.created_by_id == users["contributor"]
    assert jobs.run_pending(app) == 1
    done = job_row(app, job_id)
    assert done.status == "done"
    assert done.progress == 100
    assert done.result == {"attempt": 1, "steps": 3, "version": 7, "url": f"/interviews/{owned}"}
    assert done.error is None
    assert done.attempts == 1
    assert done.started_at <= done.finished_at
    assert results(app, job_id) == 1
    assert jobs.run_pending(app) == 0  # nothing runs twice


def test_progress_and_stage_are_visible_while_running(app, users, owned, tmp_path):
    release = tmp_path / "release"
    job_id = enqueue(app, "test.wait", owned, users=users, release_file=str(release))
    with Background(app) as worker:
        wait_for(lambda: job_row(app, job_id).stage == "Working", "the job to work")
        running = job_row(app, job_id)
        assert running.status == "running"
        assert running.worker and running.heartbeat_at is not None
        wait_for(lambda: job_row(app, job_id).progress > 0, "progress to move")
        release.touch()
    assert worker.ran == [1]
    assert job_row(app, job_id).status == "done"
    assert results(app, job_id) == 1


def test_cancel_while_queued_means_it_never_runs(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    with app.app_context(), unit_of_work():
        job = jobs.cancel(db.session.get(Job, job_id))
        assert job.status == "cancelled"
    assert jobs.run_pending(app) == 0
    cancelled = job_row(app, job_id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert results(app, job_id) == 0


def test_cancel_while_running_stops_it_and_writes_nothing(app, users, owned):
    job_id = enqueue(app, "test.wait", owned, users=users, always_wait=True)
    with Background(app):
        wait_for(lambda: job_row(app, job_id).stage == "Working", "the job to work")
        with app.app_context(), unit_of_work():
            asked = jobs.cancel(db.session.get(Job, job_id))
            assert asked.status == "running" and asked.cancel_requested
    cancelled = job_row(app, job_id)
    assert cancelled.status == "cancelled"
    assert cancelled.finished_at is not None
    assert results(app, job_id) == 0


def test_a_finished_job_cannot_be_cancelled(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    jobs.run_pending(app)
    with (
        app.app_context(),
        pytest.raises(InvalidTransition, match="already done"),
        unit_of_work(),
    ):
        jobs.cancel(db.session.get(Job, job_id))


def test_a_failing_handler_fails_the_job_with_its_message_and_retry_runs_it_again(
    app, users, owned
):
    job_id = enqueue(app, "test.fail", owned, users=users)
    jobs.run_pending(app)
    failed = job_row(app, job_id)
    assert failed.status == "failed"
    assert failed.error == "The test job cannot go on: the input has no line 3."
    assert failed.progress == 10  # where it stopped
    with app.app_context(), unit_of_work():
        new = jobs.retry(db.session.get(Job, job_id))
        new_id = new.id
        assert (new.status, new.kind, new.retry_of_id) == ("queued", "test.fail", job_id)
        assert new.created_by_id == users["contributor"]
    assert job_row(app, job_id).status == "failed"  # the record of the failure stays
    jobs.run_pending(app)
    assert job_row(app, new_id).status == "failed"


def test_a_bug_in_a_handler_is_logged_and_named_not_shown_as_a_traceback(app, users, owned):
    job_id = enqueue(app, "test.crash", owned, users=users)
    jobs.run_pending(app)
    failed = job_row(app, job_id)
    assert failed.status == "failed"
    assert failed.error.startswith("Internal error (RuntimeError)")
    assert "Traceback" not in failed.error


def test_a_finish_that_fails_leaves_nothing_half_written(app, users, owned):
    job_id = enqueue(app, "test.write_then_fail", owned, users=users)
    jobs.run_pending(app)
    failed = job_row(app, job_id)
    assert failed.status == "failed" and failed.result is None
    assert failed.error == "The result does not fit."
    assert results(app, job_id) == 0


@pytest.mark.parametrize("status", ["queued", "running", "done"])
def test_only_failed_or_cancelled_jobs_are_retried(app, users, owned, status):
    job_id = enqueue(app, "test.count", owned, users=users)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(status=status))
        db.session.commit()
        with pytest.raises(InvalidTransition, match=f"is {status}"):
            jobs.retry(db.session.get(Job, job_id))


def test_one_exclusive_job_per_interview(app, users, owned):
    first = enqueue(app, "test.exclusive", owned, users=users)
    with pytest.raises(jobs.JobConflict) as refused:
        enqueue(app, "test.exclusive", owned, users=users)
    assert refused.value.status == 409
    assert refused.value.details["job_id"] == first
    assert f"job {first}" in refused.value.message
    enqueue(app, "test.count", owned, users=users)  # a job that is not exclusive may run
    jobs.run_pending(app)
    second = enqueue(app, "test.exclusive", owned, users=users)  # once done, another may
    assert second != first


def test_the_database_decides_a_race_between_two_exclusive_jobs(app, users, owned, monkeypatch):
    first = enqueue(app, "test.exclusive", owned, users=users)
    seen = iter([None])  # the second request looked before the first one's commit

    def looked_too_early(interview_id):
        return next(seen, None) or db.session.get(Job, first)

    monkeypatch.setattr(jobs, "active_exclusive_job", looked_too_early)
    with pytest.raises(jobs.JobConflict) as refused:
        enqueue(app, "test.exclusive", owned, users=users)
    assert refused.value.details["job_id"] == first
    with app.app_context():
        assert db.session.query(Job).count() == 1


def test_an_unknown_kind_is_a_programming_error(app, owned):
    with app.app_context(), pytest.raises(jobs.UnknownJobKind, match="no-such-kind"):
        jobs.enqueue("no-such-kind", interview=db.session.get(Interview, owned))


def test_jobs_of_a_deleted_interview_go_with_it(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    with app.app_context():
        db.session.delete(db.session.get(Interview, owned))
        db.session.commit()
        assert db.session.get(Job, job_id) is None


# --- the lease -----------------------------------------------------------------------------


def _stale(app, job_id, **values):
    """Make the job look claimed by a worker that stopped answering long ago."""
    with app.app_context():
        long_ago = utcnow() - dt.timedelta(hours=1)
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", worker="gone:1:dead", heartbeat_at=long_ago, **values)
        )
        db.session.commit()


def test_a_job_whose_worker_stopped_answering_runs_again(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    _stale(app, job_id, attempts=1)
    assert jobs.run_pending(app) == 1
    done = job_row(app, job_id)
    assert (done.status, done.attempts) == ("done", 2)
    assert results(app, job_id) == 1


def test_a_fresh_heartbeat_keeps_the_job_where_it_is(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    _stale(app, job_id, attempts=1)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
        db.session.commit()
        assert runner.recover_stale() == 0
    assert job_row(app, job_id).status == "running"


def test_a_job_that_kept_killing_its_workers_fails_saying_so(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    _stale(app, job_id, attempts=3)
    assert jobs.run_pending(app) == 0
    failed = job_row(app, job_id)
    assert failed.status == "failed"
    assert "stopped answering 3 times" in failed.error
    assert "gone:1:dead" in failed.error
    assert results(app, job_id) == 0


def test_a_cancelled_job_whose_worker_died_is_cancelled_not_rerun(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    _stale(app, job_id, attempts=1, cancel_requested=True)
    assert jobs.run_pending(app) == 0
    assert job_row(app, job_id).status == "cancelled"


def test_a_claim_taken_over_meanwhile_writes_nothing(app, users, owned):
    """The worker that lost its lease comes back: its finish must not count."""
    job_id = enqueue(app, "test.count", owned, users=users)
    with app.app_context():
        assert runner.claim("slow:1:aaaa") == job_id
        db.session.execute(update(Job).where(Job.id == job_id).values(worker="other:2:bbbb"))
        db.session.commit()
        assert runner.run_claimed(job_id, "slow:1:aaaa", heartbeat=False) == "lost"
    taken = job_row(app, job_id)
    assert (taken.status, taken.worker) == ("running", "other:2:bbbb")
    assert results(app, job_id) == 0


def test_a_stopping_worker_gives_its_job_back_uncounted(app, users, owned):
    import threading

    job_id = enqueue(app, "test.wait", owned, users=users, always_wait=True)
    stopping = threading.Event()
    with app.app_context():
        token = "stopping:1:cccc"
        assert runner.claim(token) == job_id
        stopping.set()
        assert runner.run_claimed(job_id, token, stopping=stopping, heartbeat=False) == "requeued"
    back = job_row(app, job_id)
    assert (back.status, back.attempts, back.worker) == ("queued", 0, None)


def test_two_claims_never_take_the_same_job(app, users, owned):
    ids = {enqueue(app, "test.count", owned, users=users) for _ in range(3)}
    with app.app_context():
        claimed = [runner.claim(f"w:{n}:x") for n in range(4)]
    assert sorted(c for c in claimed if c) == sorted(ids)
    assert claimed[-1] is None


def test_the_heartbeat_renews_the_lease_and_notices_a_cancel(app, users, owned):
    job_id = enqueue(app, "test.count", owned, users=users)
    with app.app_context():
        token = "beat:1:dddd"
        runner.claim(token)
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(heartbeat_at=utcnow() - dt.timedelta(minutes=1))
        )
        db.session.commit()
        ctx = runner.JobContext(job_id, token, db.engine)
        ctx._beat()
        assert not ctx.lease_lost.is_set() and not ctx.cancel_seen.is_set()
        db.session.expire_all()
        assert utcnow() - db.session.get(Job, job_id).heartbeat_at < dt.timedelta(minutes=1)
        db.session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
        db.session.commit()
        ctx._beat()
        assert ctx.cancel_seen.is_set()
        with pytest.raises(jobs.Cancelled):
            ctx.progress(5, "more")
        db.session.execute(update(Job).where(Job.id == job_id).values(worker="x"))
        db.session.commit()
        ctx._beat()
        assert ctx.lease_lost.is_set()
