"""The job thread yields the CPU to the web server (issue 14: web latency while an
alignment runs): it lowers its own priority by ``JOB_NICE``, which the processes it starts
inherit, and the rest of the worker (the index loop) keeps its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from oralhist.jobs import runner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's"
)


def _nice_of_thread(increment: int) -> dict:
    seen: dict = {}

    def job_thread() -> None:
        runner.lower_priority(increment)
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = [sys.executable, "-c", "import os; print(os.nice(0))"]
        seen["child"] = int(subprocess.run(child, capture_output=True, check=True).stdout)

    thread = threading.Thread(target=job_thread)
    thread.start()
    thread.join()
    return seen


def test_the_job_thread_and_what_it_starts_run_at_a_lower_priority():
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = _nice_of_thread(5)
    assert seen["thread"] == min(19, before + 5)
    assert seen["child"] == seen["thread"]  # alignment's worker processes inherit it
    # the thread that made it (in the worker: the index loop, the heartbeats) keeps its own
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_no_nice_keeps_the_priority():
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert _nice_of_thread(0) == {"thread": before, "child": before}


def test_the_job_runner_lowers_its_thread_by_job_nice(app, monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(runner, "lower_priority", asked.append)
    stop = threading.Event()
    stop.set()  # run once: lower the priority, see the stop, return
    monkeypatch.setitem(app.config, "JOB_NICE", 7)
    job_runner = runner.JobRunner(app, stop)
    job_runner.start()
    job_runner.join(30)
    assert asked == [7]


def test_the_default_lowers_jobs_below_the_web_server():
    from oralhist import config

    assert config.JOB_NICE >= 10
