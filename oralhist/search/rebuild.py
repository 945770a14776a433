"""Rebuilding the Whoosh index: a fresh index written next to the live one by two
processes, then swapped in (``SearchIndex.rebuild``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from whoosh.util import random_name

from .backend import IndexUnavailable, RebuildInProgress, RebuildStats
from .codec import codec
from .pool import MultiSegmentWriter
from .schema import (
    build_schema,
    card_fields,
    card_of,
    index_fields,
)
from .storage import writing_storage

# Two indexing processes (the machine has two cores), each holding postings in memory up to
# REBUILD_LIMITMB (``pool.PostingPool``'s estimate) before spilling a run to disk: 128
# measured 325 MB peak RSS per process at 1,000 interviews (goal < 400 MB).
REBUILD_PROCS = 2
REBUILD_LIMITMB = 128


def _process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class RebuildMixin:
    """``SearchIndex``'s rebuild and swap (its state is set up by ``SearchIndex``)."""

    def rebuild(
        self,
        interview_docs: Iterable[list[dict]],
        document_docs: Iterable[dict],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> RebuildStats:
        """Build a fresh index from scratch with two processes, then swap it in.

        The live index stays searchable meanwhile, and its write lock is held for the whole
        rebuild so that no change can land in the index about to be replaced: other writers
        wait (and after ``writer_timeout`` raise ``IndexUnavailable``; the app's queue keeps the
        work). ``progress(n)`` is called with the number of interviews or documents indexed
        since the last call (``click``'s ``bar.update`` takes exactly that).
        """
        started = time.perf_counter()
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True)
        with self._rebuild_lock():
            return self._rebuild(interview_docs, document_docs, progress, started)

    def rebuild_running(self) -> bool:
        """True while a rebuild of this index runs (in any process): for a clear refusal
        before a second one even starts reading (``rebuild`` itself refuses it too)."""
        try:
            with self._rebuild_lock():
                return False
        except RebuildInProgress:
            return True

    @contextmanager
    def _rebuild_lock(self):
        """One rebuild at a time, refused at once (not queued behind the write lock): an
        exclusive ``flock`` on the folder that holds the index, so no file is left behind,
        and the system lets go of it if the process dies."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildInProgress(
                    "Another rebuild of the search index is running; wait for it to finish."
                    " The index stays searchable meanwhile."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _rebuild(self, interview_docs, document_docs, progress, started) -> RebuildStats:
        parent = self.path.parent
        self._remove_leftovers()
        fresh = parent / f".{self.path.name}.rebuild-{os.getpid()}-{random_name(8)}"
        old_lock = self._hold_live_lock()
        try:
            fresh.mkdir()
            ix = writing_storage(fresh).create_index(build_schema(self.language))
            writer = MultiSegmentWriter(
                ix,
                procs=REBUILD_PROCS,
                limitmb=REBUILD_LIMITMB,
                multisegment=True,
                codec=codec(),
            )
            n_int = n_doc = records = words = 0
            try:
                for docs in interview_docs:
                    docs = list(docs)
                    if not docs:
                        continue
                    for doc in docs:
                        fields = index_fields(doc)
                        writer.add_document(**fields)
                        if doc["kind"] == "segment":
                            words += len(fields["exact"].split())
                    writer.add_document(**card_fields(card_of(docs[0])))
                    records += len(docs)
                    n_int += 1
                    if progress:
                        progress(1)
                for doc in document_docs:
                    writer.add_document(**index_fields(doc))
                    records += 1
                    n_doc += 1
                    if progress:
                        progress(1)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            ix.close()
            self._swap_in(fresh)
        finally:
            if old_lock is not None:
                old_lock.release()
            if fresh.exists():
                shutil.rmtree(fresh, ignore_errors=True)
        with self._lock:
            self._close()
        return RebuildStats(n_int, n_doc, records, words, time.perf_counter() - started)

    def _remove_leftovers(self) -> None:
        """Remove what a rebuild killed midway left (``.<name>.rebuild-<pid>-*`` of a dead
        process) and retired indexes a swap could not delete (``.<name>.old-*``)."""
        for p in self.path.parent.glob(f".{self.path.name}.*-*-*"):
            kind, _, rest = p.name[len(self.path.name) + 2 :].partition("-")
            dead = kind == "rebuild" and not _process_alive(rest.split("-")[0])
            if kind == "old" or dead:
                shutil.rmtree(p, ignore_errors=True)

    def _hold_live_lock(self):
        if not self.exists():
            return None
        try:
            ix = self._open_index()
        except IndexUnavailable:
            return None  # damaged: nobody can write to it anyway, and it is about to go
        lock = ix.lock("WRITELOCK")
        deadline = time.monotonic() + self.writer_timeout
        while not lock.acquire():
            if time.monotonic() > deadline:
                raise IndexUnavailable(
                    "The search index is busy (another process is writing to it); the rebuild"
                    " did not start. Try again in a moment."
                )
            time.sleep(0.05)
        return lock

    def _swap_in(self, fresh: Path) -> None:
        retired = None
        if self.path.exists():
            retired = self.path.parent / f".{self.path.name}.old-{os.getpid()}-{random_name(8)}"
            os.replace(self.path, retired)
        os.replace(fresh, self.path)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
