"""Independent pieces of an alignment run on several processes (issue 14: a 100-minute
interview in five minutes on two cores).

The pipeline cuts its work into tasks that need nothing from each other: each segment
forced-aligned where the DTW put it, each window of audio recognised for anchors or for
speech the transcript lacks, each stretch between anchors aligned whole. A task is a
module-level function ``fn(engine, *args)`` and its arguments (a ``pipeline.Clip`` of audio
and a few numbers and words), so it runs alike here (``Local``) or in a worker process
(``Pool``); the engine decodes each utterance from a fresh state (``sphinx``), so a task's
result depends on its arguments alone, and a run on any number of processes gives exactly
the serial run's result (a test checks it).

Workers are started with ``spawn`` (the job worker is multi-threaded: forking it is unsafe)
and make their engine from the files the caller's engine prepared (``Engine.remote``). They
inherit the priority of the thread that starts them: the job runner lowers its own (see
``jobs.runner.JOB_NICE``), so alignment yields the cores to the web server. Memory stays
bounded: only ``2 x processes`` tasks (each a few seconds of audio) are in flight at once.
Cancel: the caller's progress callback raises between results; ``close`` then drops the
queued tasks and waits for the running ones (a task is one segment or 30 s of audio:
seconds at most).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

#: Interviews shorter than this are aligned in the calling process: starting workers (a
#: second or two each) would cost more than it saves.
MIN_PARALLEL_MS = 5 * 60_000

#: In a worker process: its engine.
_engine: Any = None


def processes_for(setting: int | None) -> int:
    """The number of worker processes for the ``ALIGN_PROCESSES`` setting: the number
    given, or every CPU this process may use when it is 0 or unset."""
    if setting:
        return max(1, int(setting))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _start(factory: Callable[..., Any], args: tuple) -> None:
    global _engine
    _engine = factory(*args)


def _call(fn: Callable[..., Any], args: tuple) -> Any:
    return fn(_engine, *args)


class Local:
    """Tasks run in this process, one after another, on the caller's engine."""

    processes = 1

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """``fn(engine, *args)`` for each task, in order."""
        for args in tasks:
            yield fn(self.engine, *args)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.engine, *args)

    def close(self) -> None:
        pass


class Pool:
    """Tasks run on ``processes`` worker processes, each with an engine made by
    ``engine.remote()``; results come back in the tasks' order."""

    def __init__(self, engine: Any, processes: int) -> None:
        factory, args = engine.remote()
        self.processes = processes
        self._executor = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(factory, args),
        )

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """``fn(engine, *args)`` for each task, in order, at most ``2 x processes`` tasks
        submitted ahead of the one awaited (the tasks' audio is not all held at once)."""
        pending: deque[Future] = deque()
        try:
            for args in tasks:
                pending.append(self._executor.submit(_call, fn, args))
                if len(pending) >= 2 * self.processes:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._executor.submit(_call, fn, args).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def runner(
    engine: Any, processes: int, audio_ms: int, *, min_ms: int = MIN_PARALLEL_MS
) -> Local | Pool:
    """``Pool`` when more than one process is asked for, the audio is long enough to be
    worth it and the engine can be made elsewhere; ``Local`` otherwise."""
    if processes > 1 and audio_ms >= min_ms and hasattr(engine, "remote"):
        return Pool(engine, processes)
    return Local(engine)
