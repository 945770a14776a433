"""Index writes in commit order, by a background indexer (issue 12 items 1 and 11).

- the race of item 1, reproduced deterministically: an applier that read an older state is
  paused while a newer state is committed and another applier runs;
- the background worker: it applies what web requests leave, no request takes the index
  lock, a killed worker loses nothing, one worker per instance;
- the consistency check repairs an index whose access fields drifted;
- a second concurrent rebuild is refused at once with a clear message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, text

from oralhist.extensions import db
from oralhist.models import IndexTask, Interview
from oralhist.search import IndexUnavailable
from oralhist.services import indexing
from oralhist.worker import Worker, WorkerRunning

from .test_search_web import add_interview

#: Threads or other processes use the database: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60  # seconds: a generous bound on waits for another thread or process, never timed


def anonymous_total(browser, q: str) -> int:
    response = browser().get(f"/api/v1/search?q={q}")
    assert response.status_code == 200
    return response.json["total"]


def pending() -> int:
    return len(db.session.scalars(select(IndexTask.id)).all())


def patch_interview(app, iid: int, **values) -> None:
    with app.app_context():
        interview = db.session.get(Interview, iid)
        for key, value in values.items():
            setattr(interview, key, value)
        db.session.commit()


# --- item 1: commit order ---------------------------------------------------------------


def test_an_older_state_read_never_overwrites_a_newer_one(app, browser, monkeypatch):
    """PATCH title, then PATCH access_level=closed, with the first applier slow: before the
    fix the first applier wrote the open state last and the closed words stayed searchable
    (3 in 10 trials); reading the state under the lock makes the last write the newest."""
    with app.app_context():
        iid = add_interview("Race", lines=[("A", 0, "The secretquoll word.")])
    assert anonymous_total(browser, "secretquoll") == 1
    app.config["SEARCH_SYNC"] = False  # the appliers below are run by hand
    patch_interview(app, iid, title="Race renamed")

    has_read, go_on = threading.Event(), threading.Event()
    original = indexing.interview_docs

    def held_read(interview):
        docs = original(interview)
        if getattr(threading.current_thread(), "held", False):
            has_read.set()
            assert go_on.wait(WAIT)
        return docs

    monkeypatch.setattr(indexing, "interview_docs", held_read)
    errors: list[BaseException] = []

    def first_applier():
        threading.current_thread().held = True
        try:
            with app.app_context():
                indexing.process_pending()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first_applier)
    thread.start()
    try:
        assert has_read.wait(WAIT), "the first applier read the open state"
        patch_interview(app, iid, access_level="closed")
        with app.app_context():
            index = indexing.search_index()
            index.writer_timeout = 0.2  # the second applier gives up while the first writes
            indexing.process_pending()
            index.writer_timeout = 60.0
    finally:
        go_on.set()
        thread.join(WAIT)
    assert not thread.is_alive() and not errors
    with app.app_context():
        indexing.process_pending()  # what the deferred applier left
        assert pending() == 0
    assert anonymous_total(browser, "secretquoll") == 0


def _write_lock_held(index) -> bool:
    """Another writer would wait: whoosh's lock file, or PostgreSQL's advisory lock."""
    if hasattr(index, "_open_index"):
        lock = index._open_index().lock("WRITELOCK")
        got = lock.acquire()
        if got:
            lock.release()
        return not got
    with index.engine.connect() as conn:
        got = conn.scalar(text("SELECT pg_try_advisory_lock(:k, :w)"), index._lock_args())
        if got:
            conn.execute(text("SELECT pg_advisory_unlock(:k, :w)"), index._lock_args())
        conn.rollback()
    return not got


@contextmanager
def _rebuild_in_progress(index):
    """A rebuild holding its lock, as another process's would."""
    if hasattr(index, "_rebuild_lock"):
        with index._rebuild_lock():
            yield
        return
    from oralhist.search.postgres import _REBUILD_LOCK

    with index.engine.connect() as conn:
        assert conn.scalar(
            text("SELECT pg_try_advisory_lock(:k, :w)"), index._lock_args(_REBUILD_LOCK)
        )
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k, :w)"), index._lock_args(_REBUILD_LOCK))
            conn.rollback()


def test_the_state_is_read_while_the_write_lock_is_held(app, monkeypatch):
    with app.app_context():
        iid = add_interview("Locked", lines=[("A", 0, "words")])
        interview = db.session.get(Interview, iid)
        interview.title = "Locked again"
        app.config["SEARCH_SYNC"] = False
        db.session.commit()
        index = indexing.search_index()
        held: list[bool] = []
        original = indexing.interview_docs

        def probe(interview):
            held.append(_write_lock_held(index))
            return original(interview)

        monkeypatch.setattr(indexing, "interview_docs", probe)
        assert indexing.process_pending() == 1
    assert held == [True]


# --- item 11: off the request path, by a background worker ------------------------------


def test_no_web_request_applies_index_work(app, browser, monkeypatch):
    from oralhist.search import SearchIndex

    app.config["SEARCH_SYNC"] = None  # the production setting: the worker applies it

    def waits(*_args, **_kwargs):
        raise AssertionError("a web request waited for the search index")

    monkeypatch.setattr(SearchIndex, "apply_read_under_lock", waits)
    monkeypatch.setattr(SearchIndex, "apply", waits)
    archivist = browser("archivist")
    created = archivist.post("/api/v1/interviews", json={"title": "Kept off the path"})
    assert created.status_code == 201
    iid = created.json["id"]
    assert (
        archivist.patch(f"/api/v1/interviews/{iid}", json={"title": "Renamed"}).status_code == 200
    )
    assert archivist.post(f"/api/v1/interviews/{iid}/publish").status_code == 200
    with app.app_context():  # a task per change, all waiting for the worker
        assert set(db.session.scalars(select(IndexTask.object_id))) == {iid}


def test_the_worker_applies_what_requests_leave(app, browser):
    app.config["SEARCH_SYNC"] = None
    app.config["WORKER_POLL_SECONDS"] = 0.05
    worker = Worker(app)
    worker.acquire()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        archivist = browser("archivist")
        iid = archivist.post("/api/v1/interviews", json={"title": "Bandicootish"}).json["id"]
        archivist.post(f"/api/v1/interviews/{iid}/publish")
        deadline = time.monotonic() + WAIT
        while anonymous_total(browser, "bandicootish") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert anonymous_total(browser, "bandicootish") == 1
        archivist.patch(f"/api/v1/interviews/{iid}", json={"access_level": "closed"})
        archivist.patch(f"/api/v1/interviews/{iid}", json={"title": "Renamed dibbler"})
        while anonymous_total(browser, "dibbler") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert anonymous_total(browser, "dibbler") == 1  # the catalogue record stays public
    finally:
        worker.stop.set()
        thread.join(WAIT)
        worker.release()
    assert not thread.is_alive()
    with app.app_context():
        assert pending() == 0


def test_one_worker_per_instance(app):
    first, second = Worker(app), Worker(app)
    first.acquire()
    try:
        with pytest.raises(WorkerRunning, match="Another oralhist worker is running"):
            second.acquire()
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        assert result.exit_code == 1
        assert "Another oralhist worker is running" in result.output
        assert "Traceback" not in result.output
    finally:
        first.release()
    second.acquire()
    second.release()


KILLED_APPLIER = """
import sys, time
from oralhist import create_app
from oralhist.services import indexing

original = indexing.interview_docs
def held(interview):
    docs = original(interview)
    print("READ", flush=True)
    time.sleep(600)
    return docs
indexing.interview_docs = held
with create_app().app_context():
    indexing.process_pending()
"""


def test_a_worker_killed_mid_batch_loses_nothing(app, browser, tmp_path):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a database another process can open")
    with app.app_context():
        iid = add_interview("Killed", lines=[("A", 0, "The first word.")])
    app.config["SEARCH_SYNC"] = False
    patch_interview(app, iid, title="Killed then cuscusword")
    env = {
        **os.environ,
        "OH_INSTANCE_PATH": app.instance_path,
        "OH_SECRET_KEY": "test",
        "OH_SEARCH_SYNC": "false",
        **{
            f"OH_{key}": app.config[key]
            for key in (
                "SQLALCHEMY_DATABASE_URI",
                "SEARCH_INDEX_DIR",
                "MEDIA_ROOT",
                "OUTBOX_DIR",
                "SEARCH_BACKEND",
                "SEARCH_PG_SCHEMA",
            )
        },
    }
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_APPLIER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "READ", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)  # mid-batch: state read, the write lock held
    finally:
        child.wait(WAIT)
        child.stdout.close()
        child.stderr.close()
    with app.app_context():
        assert pending() == 1  # the task survived the kill
    assert anonymous_total(browser, "cuscusword") == 0
    Worker(app).run(once=True)  # the next worker: the lock died with the process
    assert anonymous_total(browser, "cuscusword") == 1
    with app.app_context():
        assert pending() == 0


# --- consistency check ---------------------------------------------------------------------


def test_the_consistency_check_repairs_drifted_access_fields(app, browser):
    with app.app_context():
        iid = add_interview("Drift", level="closed", lines=[("A", 0, "The driftwombat word.")])
        # Corrupt the index: write the interview's records as if it were open.
        interview = db.session.get(Interview, iid)
        docs = indexing.interview_docs(interview)
        for doc in docs:
            doc["access_level"] = "open"
        indexing.search_index().replace_interview(iid, docs)
    assert anonymous_total(browser, "driftwombat") == 1  # the leak the check must find

    result = app.test_cli_runner().invoke(args=["reindex", "--check"])
    assert result.exit_code == 1
    assert "1 with wrong access fields" in result.output and f"({iid})" in result.output
    assert anonymous_total(browser, "driftwombat") == 0
    again = app.test_cli_runner().invoke(args=["reindex", "--check"])
    assert again.exit_code == 0 and "agrees with the database" in again.output


def test_the_worker_checks_consistency_at_start(app, browser):
    with app.app_context():
        iid = add_interview("Start", level="registered", lines=[("A", 0, "The startquokka.")])
        interview = db.session.get(Interview, iid)
        docs = indexing.interview_docs(interview)
        for doc in docs:
            doc["access_level"] = "open"
        indexing.search_index().replace_interview(iid, docs)
        # ... and an interview the index lost entirely.
        lost = add_interview("Lost", lines=[("A", 0, "The lostnumbat.")])
        indexing.search_index().delete_interview(lost)
    assert anonymous_total(browser, "startquokka") == 1
    assert anonymous_total(browser, "lostnumbat") == 0
    Worker(app).run(once=True)
    assert anonymous_total(browser, "startquokka") == 0
    assert anonymous_total(browser, "lostnumbat") == 1


# --- reindex -------------------------------------------------------------------------------


def test_a_second_rebuild_is_refused_at_once(app):
    with app.app_context():
        add_interview("Rebuilt", lines=[("A", 0, "words")])
        index = indexing.search_index()
        with _rebuild_in_progress(index):  # (another process's, in life)
            result = app.test_cli_runner().invoke(args=["reindex"])
            with pytest.raises(IndexUnavailable, match="Another rebuild"):
                indexing.rebuild()
    assert result.exit_code == 1
    assert "Another rebuild of the search index is running" in result.output
    assert "Traceback" not in result.output
    done = app.test_cli_runner().invoke(args=["reindex"])
    assert done.exit_code == 0 and "Indexed 1 interviews" in done.output


def test_a_rebuild_drops_only_the_work_it_covers(app, browser, monkeypatch):
    """A change committed while the rebuild reads stays queued for the worker."""
    with app.app_context():
        iid = add_interview("Covered", lines=[("A", 0, "words")])
    app.config["SEARCH_SYNC"] = False
    original = indexing.iter_all_document_docs

    def change_meanwhile():
        patch_interview(app, iid, title="Changed during the rebuild potoroo")
        yield from original()

    monkeypatch.setattr(indexing, "iter_all_document_docs", change_meanwhile)
    with app.app_context():
        indexing.rebuild()
        assert pending() == 1
        indexing.process_pending()
    assert anonymous_total(browser, "potoroo") == 1
