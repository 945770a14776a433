"""``SearchIndex``: the one object the app talks to for indexing and searching.

Writes take whoosh's write lock with a timeout, so writers in several processes queue up
instead of failing; a lock that stays taken becomes ``IndexUnavailable`` (503), never a
``LockError``. Reads go through one searcher per instance, brought up to date before each
query (a directory listing when nothing changed; only changed segments are reopened), so a
change committed by another process is visible on the next query. Queries of one instance run
one at a time (whoosh's files are read with seek/read). A rebuild writes a fresh index next to
the live one with two processes and swaps it in.

Matching, grouping and facets are computed over every match under the scope's restriction
(``evaluate``, ``restriction``); only the shown page loads stored fields and cuts snippets.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.util import random_name

from ..errors import QueryError
from .backend import IndexUnavailable, RebuildInProgress, RebuildStats
from .codec import codec
from .evaluate import SegmentEvaluator, member
from .highlight import Highlighter
from .pool import MultiSegmentWriter
from .query import AllOf, AnyOf, Compiler, Word, parse, positive_words
from .restriction import CARD_DEFAULTS, AccessRestriction, InterviewSet, KindSet, TableCache
from .results import DocumentHit, InterviewGroup, Moment, SearchResults
from .schema import (
    CARD_KIND,
    KINDS,
    Language,
    build_schema,
    card_fields,
    card_of,
    fold,
    folding_analyzer,
    index_fields,
)
from .scope import SearchScope
from .storage import MappedFileStorage
from .whoosh_internals import check_whoosh, read_toc

# Two indexing processes (the machine has two cores), each holding postings in memory up to
# REBUILD_LIMITMB (``pool.PostingPool``'s estimate) before spilling a run to disk: 128
# measured 325 MB peak RSS per process at 1,000 interviews (goal < 400 MB).
REBUILD_PROCS = 2
REBUILD_LIMITMB = 128
REINDEX_HINT = "Run `oralhist reindex` to rebuild it from the database."
SORTS = ("relevance", "date")
FILTERS = ("collection", "narrator", "speaker", "decade", "language", "kind")
MAX_PER_PAGE = 100
MAX_FACET_VALUES = 50
REQUIRED_FIELDS = {"doc_id", "body", "exact", "speaker_key", "c_iid", "c_acl", "c_kind"}


def _requires_every_word(node) -> bool:
    """True when every positive word must occur in a match (no OR anywhere above it): then a
    query with results has no word the scope cannot see, and "did you mean" has nothing to do."""
    if isinstance(node, AnyOf):
        return False
    if isinstance(node, AllOf):
        return all(_requires_every_word(n) for n in node.include)
    return True


def _process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Groups:
    """Per group key (sorted; an interview id, or ``-(docnum + 1)`` for a document): the best
    score, the number of moments, and whether its catalogue record matched."""

    keys: np.ndarray
    best: np.ndarray
    moments: np.ndarray
    catalogue: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray, scores: np.ndarray, moment: np.ndarray | None) -> Groups:
        """Group matches by key (``moment``: which matches are moments; all if ``None``)."""
        if len(keys) > 1:
            # The usual case: each group's matches are one run of docnums (an interview's
            # records are added together; a document is a group of its own), so runs are
            # groups and no sort of the matches is needed. Checked: interview keys (> 0) of
            # successive runs increase (index order is id order); document keys are distinct.
            starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
            run_keys = keys[starts]
            interviews = run_keys[run_keys > 0]
            if (interviews[1:] > interviews[:-1]).all():
                sizes = np.diff(np.append(starts, len(keys)))
                if moment is None:
                    moments = sizes
                    catalogue = np.zeros(len(starts), dtype=bool)
                else:
                    moments = np.add.reduceat(moment.astype(np.int64), starts)
                    catalogue = moments < sizes
                order = np.argsort(run_keys, kind="stable")
                best = np.maximum.reduceat(scores, starts)
                return cls(run_keys[order], best[order], moments[order], catalogue[order])
        unique, inverse = np.unique(keys, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float64)
        np.maximum.at(best, inverse, scores)
        catalogue = np.zeros(len(unique), dtype=bool)
        if moment is None:
            moments = np.bincount(inverse, minlength=len(unique))
        else:
            moments = np.bincount(inverse[moment], minlength=len(unique))
            catalogue[inverse[~moment]] = True
        return cls(unique, best, moments, catalogue)

    @classmethod
    def merge(cls, parts: list[Groups]) -> Groups:
        """One table from several segments' (an interview may span segments)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, np.empty(0), empty, np.empty(0, dtype=bool))
        keys = np.concatenate([p.keys for p in parts])
        unique, inverse = np.unique(keys, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float64)
        np.maximum.at(best, inverse, np.concatenate([p.best for p in parts]))
        moments = np.bincount(
            inverse, weights=np.concatenate([p.moments for p in parts]), minlength=len(unique)
        ).astype(np.int64)
        catalogue = np.zeros(len(unique), dtype=bool)
        catalogue[inverse[np.concatenate([p.catalogue for p in parts])]] = True
        return cls(unique, best, moments, catalogue)

    def __len__(self) -> int:
        return len(self.keys)

    def row(self, key: int) -> tuple[float, int, bool]:
        i = int(np.searchsorted(self.keys, key))
        return float(self.best[i]), int(self.moments[i]), bool(self.catalogue[i])


class SpeakerNumbers:
    """Every speaker name of the index's segments numbered once, so that a query's speaker
    facet is one ``bincount`` over all segments (a common word's matches have a thousand
    speakers). Names are only ever added: a name no segment holds any more counts nothing."""

    def __init__(self) -> None:
        self._number: dict[str, int] = {}
        self._names: list[str] = []

    def numbers(self, table) -> np.ndarray:
        """The number of each of a segment table's speaker refs."""
        found = table.speaker_numbers
        if found is None:
            number = self._number
            for name in table.speakers:
                if name not in number:
                    number[name] = len(self._names)
                    self._names.append(name)
            found = table.speaker_numbers = np.array(
                [number[name] for name in table.speakers], dtype=np.int64
            )
        return found

    def top(self, numbers: list[np.ndarray], counts: list[np.ndarray], k: int):
        """The ``k`` most frequent named speakers, ties by name, from per-segment tallies."""
        if not numbers:
            return []
        total = np.bincount(
            np.concatenate(numbers), weights=np.concatenate(counts), minlength=len(self._names)
        )
        unnamed = self._number.get("")
        if unnamed is not None:
            total[unnamed] = 0
        present = np.flatnonzero(total)
        if len(present) > k:
            floor = np.partition(total[present], -k)[-k]
            present = present[total[present] >= floor]
        names = self._names
        tally = [(names[i], int(total[i])) for i in present.tolist()]
        return sorted(tally, key=lambda kv: (-kv[1], kv[0]))[:k]


class SearchIndex:
    """The Whoosh search backend (``SEARCH_BACKEND = "whoosh"``): a ``SearchBackend``."""

    def __init__(
        self, path: str | os.PathLike, *, language: str | None = "en", writer_timeout: float = 60.0
    ) -> None:
        check_whoosh()  # the fast paths are written against one whoosh: refuse another
        self.path = Path(path)
        self.language = language
        self.writer_timeout = writer_timeout
        self._language = Language(language)
        self._fold = folding_analyzer()
        self._highlighter = Highlighter(self._language)
        self._lock = threading.RLock()
        self._ix = None
        self._searcher = None
        self._dir_id: tuple[int, int] | None = None
        self._tables = TableCache()
        self._speakers = SpeakerNumbers()
        # Documents' stored fields by docnum: for the current generation only.
        self._documents: dict[int, dict] = {}
        # Interviews' cards by interview id: for the current generation only.
        self._cards: dict[int, dict] = {}
        self._group_facts: dict[int, tuple] = {}  # group key -> facet facts (``_facts``)
        self._vocabulary: dict = {}  # the Compiler's look-ups, for the current generation

    # ------------------------------------------------------------ lifecycle

    def exists(self) -> bool:
        """An index is there (its table of contents exists; it may still be damaged)."""
        try:
            return any(
                p.name.startswith("_MAIN_") and p.suffix == ".toc" for p in self.path.iterdir()
            )
        except (FileNotFoundError, NotADirectoryError):
            return False

    def create(self) -> None:
        """Create an empty index if there is none (safe to call again)."""
        with self._lock:
            if self.exists():
                return
            self.path.mkdir(parents=True, exist_ok=True)
            MappedFileStorage(self.path).create_index(build_schema(self.language))
            self._close()

    def check(self) -> None:
        """Raise ``IndexUnavailable`` saying what to run if the index is missing or damaged."""
        if not self.exists():
            raise IndexUnavailable(f"The search index at {self.path} is missing. {REINDEX_HINT}")
        try:
            ix = MappedFileStorage(self.path).open_index()
            try:
                missing = REQUIRED_FIELDS - set(ix.schema.names())
                if missing:
                    raise IndexUnavailable(
                        f"The search index at {self.path} was built by another version"
                        f" (no field {sorted(missing)[0]!r}). {REINDEX_HINT}"
                    )
                with ix.searcher() as s:
                    s.doc_count()
                    for sub, _ in s.leaf_searchers():
                        reader = sub.reader()
                        n = reader.doc_count_all()
                        if n:
                            self._tables.table(reader)
                            sub.stored_fields(n - 1)
            finally:
                ix.close()
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(
                f"The search index at {self.path} is damaged ({type(exc).__name__}: {exc})."
                f" {REINDEX_HINT}"
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()  # closes its readers
        self._searcher = None
        self._ix = None
        self._dir_id = None
        self._documents.clear()
        self._cards.clear()
        self._group_facts.clear()
        self._vocabulary.clear()

    def _dir_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino)

    def _open_index(self):
        if not self.exists():
            raise IndexUnavailable(f"The search index at {self.path} is missing. {REINDEX_HINT}")
        try:
            return MappedFileStorage(self.path).open_index()
        except Exception as exc:
            raise IndexUnavailable(
                f"The search index at {self.path} cannot be opened ({type(exc).__name__})."
                f" {REINDEX_HINT}"
            ) from exc

    def _current(self):
        """The searcher, brought up to date if another writer (or a rebuild) changed it."""
        ident = self._dir_identity()
        if self._searcher is not None and ident is None:
            return self._searcher  # a rebuild is swapping directories: serve the old one
        try:
            if self._searcher is None or ident != self._dir_id:
                self._close()
                self._ix = self._open_index()
                self._dir_id = ident
                self._searcher = self._open_searcher(None)
                self._after_refresh()
            elif not self._searcher.up_to_date():
                self._searcher = self._open_searcher(self._searcher)
                self._after_refresh()
        except IndexUnavailable:
            raise
        except Exception as exc:
            self._close()
            raise IndexUnavailable(
                f"The search index at {self.path} is damaged ({type(exc).__name__}: {exc})."
                f" {REINDEX_HINT}"
            ) from exc
        return self._searcher

    def _open_searcher(self, previous):
        """A searcher on the latest generation, reusing the readers of unchanged segments.

        Not ``Searcher.refresh()``: whoosh reuses a segment's reader by segment id even when
        the segment gained deletions (a replaced interview's old records stay visible), and
        adds back segments that a merge removed.
        """
        toc = read_toc(self._ix)
        reusable = {}
        if previous is not None:
            for reader, _ in previous.reader().leaf_readers():
                segment = reader.segment()
                if segment is not None:
                    reusable[segment.segment_id()] = reader
        readers = []
        for segment in toc.segments:
            reader = reusable.get(segment.segment_id())
            if reader is not None and reader.segment().deleted_count() == segment.deleted_count():
                del reusable[segment.segment_id()]
            else:
                reader = SegmentReader(
                    self._ix.storage, toc.schema, segment, generation=toc.generation
                )
            readers.append(reader)
        if readers:
            reader = MultiReader(readers, generation=toc.generation)
        else:
            reader = EmptyReader(toc.schema)
        searcher = Searcher(reader, fromindex=self._ix)
        for stale in reusable.values():
            stale.close()
        return searcher

    def _after_refresh(self) -> None:
        self._documents.clear()
        self._cards.clear()
        self._group_facts.clear()
        self._vocabulary.clear()
        live = set()
        for sub, _ in self._searcher.leaf_searchers():
            segment = sub.reader().segment()
            if segment is not None:
                live.add(segment.segment_id())
        self._tables.retain(live)

    def doc_count(self) -> int:
        """Searchable records (segments, catalogue records, index points, documents)."""
        with self._lock:
            s = self._current()
            cards = sum(1 for _ in s.docs_for_query(wq.Term("kind", CARD_KIND)))
            return s.doc_count() - cards

    # ------------------------------------------------------------ writing

    def _writer(self, ix, **kwargs):
        try:
            return ix.writer(timeout=self.writer_timeout, delay=0.02, codec=codec(), **kwargs)
        except LockError:
            pass
        try:  # the holder may have let go just as we gave up: one short retry
            return ix.writer(
                timeout=min(5.0, self.writer_timeout), delay=0.02, codec=codec(), **kwargs
            )
        except LockError as exc:
            raise IndexUnavailable(
                "The search index is busy: another process has been writing to it for more than"
                f" {self.writer_timeout:g} s. Try again in a moment."
            ) from exc

    def _write(self, apply: Callable) -> None:
        if not self.exists():
            raise IndexUnavailable(f"The search index at {self.path} is missing. {REINDEX_HINT}")
        ix = self._open_index()
        try:
            writer = self._writer(ix)
            try:
                apply(writer)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        finally:
            ix.close()

    def _put_interview(self, writer, interview_id: int, docs: list[dict] | None) -> None:
        writer.delete_by_query(InterviewSet(frozenset({int(interview_id)}), self._tables))
        if not docs:
            return
        for doc in docs:
            if doc.get("kind") == "document" or int(doc["interview_id"]) != int(interview_id):
                raise ValueError(f"{doc.get('doc_id')!r} is not a document of {interview_id}")
            writer.add_document(**index_fields(doc))
        writer.add_document(**card_fields(card_of(docs[0])))

    @staticmethod
    def _put_document(writer, document_id: int, doc: dict | None) -> None:
        writer.delete_by_term("doc_id", f"doc:{int(document_id)}")
        if doc is not None:
            if doc.get("kind") != "document" or int(doc["document_id"]) != int(document_id):
                raise ValueError(f"{doc.get('doc_id')!r} is not document {document_id}")
            writer.add_document(**index_fields(doc))

    def replace_interview(self, interview_id: int, docs: list[dict]) -> None:
        """Atomically replace every record of one interview (an empty list deletes them)."""
        self._write(lambda w: self._put_interview(w, interview_id, docs))

    def delete_interview(self, interview_id: int) -> None:
        self._write(lambda w: self._put_interview(w, interview_id, None))

    def replace_document(self, document_id: int, doc: dict | None) -> None:
        self._write(lambda w: self._put_document(w, document_id, doc))

    def apply(
        self, interviews: Mapping[int, list[dict] | None], documents: Mapping[int, dict | None]
    ) -> None:
        """Many replacements and deletions (``None``) in one writer and one commit."""

        def run(writer):
            for iid, docs in interviews.items():
                self._put_interview(writer, iid, docs)
            for did, doc in documents.items():
                self._put_document(writer, did, doc)

        if interviews or documents:
            self._write(run)

    def apply_read_under_lock(
        self,
        read: Callable[[], tuple[Mapping[int, list[dict] | None], Mapping[int, dict | None]]],
    ) -> int:
        """Take the write lock, then call ``read()`` for the replacements to write, write
        them and commit; return how many interviews and documents were written.

        Reading the state only once the lock is held is what keeps the index in commit
        order: a writer that read an older state has written it before the next writer
        reads, so the last state written is always the newest (issue 12 item 1). When
        ``read`` finds nothing to write, the lock is let go without a commit.
        """
        if not self.exists():
            raise IndexUnavailable(f"The search index at {self.path} is missing. {REINDEX_HINT}")
        ix = self._open_index()
        try:
            writer = self._writer(ix)
            try:
                interviews, documents = read()
                for iid, docs in interviews.items():
                    self._put_interview(writer, iid, docs)
                for did, doc in documents.items():
                    self._put_document(writer, did, doc)
            except BaseException:
                writer.cancel()
                raise
            if interviews or documents:
                writer.commit()
            else:
                writer.cancel()
            return len(interviews) + len(documents)
        finally:
            ix.close()

    def access_tokens(self) -> dict[int, set[str]]:
        """Per interview id, the access tokens (``schema.acl_token``) its live records carry:
        what the access restriction decides by, for ``services.indexing.check_consistency``."""
        found: dict[int, set[str]] = {}
        with self._lock:
            searcher = self._current()
            for sub, _ in searcher.leaf_searchers():
                reader = sub.reader()
                n = reader.doc_count_all()
                if n == 0:
                    continue
                table = self._tables.table(reader)
                live = None
                if reader.has_deletions():
                    live = np.zeros(n, dtype=bool)
                    live[list(reader.all_doc_ids())] = True
                for start, end, iid, acl in zip(
                    table.run_starts, table.run_ends, table.run_iids, table.run_acls, strict=True
                ):
                    if not iid or (live is not None and not live[start:end].any()):
                        continue
                    found.setdefault(int(iid), set()).add(acl)
        return found

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
            ix = MappedFileStorage(fresh).create_index(build_schema(self.language))
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

    # ------------------------------------------------------------ querying

    def _interviews(self, searcher):
        """``card_query`` -> a query matching every record of the interviews it selects."""

        def resolve(card_query):
            # Card fields are on cards only (and year on documents, whose iid is 0). Kept
            # with the Compiler's look-ups for this generation of the index: a researcher
            # paging or refining keeps the same filters.
            key = ("cards", card_query)
            found = self._vocabulary.get(key)
            if found is None:
                iids = frozenset(
                    iid
                    for table, _, hits in self._evaluate(searcher, card_query)
                    for iid in np.unique(table.columns()[0][hits.ids]).tolist()
                )
                found = self._vocabulary[key] = iids - {0}
            return InterviewSet(found, self._tables)

        return resolve

    def _filter_queries(self, searcher, filters: Mapping[str, str]) -> list:
        interviews = self._interviews(searcher)
        out = []
        for name, value in (filters or {}).items():
            if value is None or value == "":
                continue
            value = str(value)
            if name == "collection":
                out.append(interviews(wq.Term("collection", value.lower())))
            elif name == "narrator":
                out.append(interviews(wq.Term("narrator_key", fold(value))))
            elif name == "speaker":
                out.append(wq.Term("speaker_key", fold(value)))
            elif name == "language":
                out.append(interviews(wq.Term("language", value.lower())))
            elif name == "kind":
                if value.lower() not in KINDS:
                    raise QueryError(f"kind is one of {', '.join(KINDS)}, not {value!r}.")
                out.append(KindSet(frozenset({value.lower()}), self._tables))
            elif name == "decade":
                if not (value.isdigit() and len(value) <= 4):
                    raise QueryError(f"decade is a year like 1950, not {value!r}.")
                low = int(value) // 10 * 10
                years = wq.NumericRange("year", low, low + 9)
                documents = KindSet(frozenset({"document"}), self._tables)
                out.append(wq.Or([interviews(years), wq.And([documents, years])]))
            else:
                raise QueryError(f"Unknown filter {name!r}: use one of {', '.join(FILTERS)}.")
        return out

    @staticmethod
    def _check_filters(filters: Mapping[str, str] | None) -> None:
        for name in filters or {}:
            if name not in FILTERS:
                raise QueryError(f"Unknown filter {name!r}: use one of {', '.join(FILTERS)}.")

    def _compile(self, searcher, tree):
        compiler = self._compiler(searcher)
        user_query = compiler.compile(tree)
        if user_query is None:
            raise QueryError("The query has no letters or digits to search for.")
        return user_query, compiler

    def _compiler(self, searcher):
        compiler = Compiler(
            searcher.reader(),
            self._language,
            self._fold,
            self._interviews(searcher),
            lambda kinds: KindSet(frozenset(kinds), self._tables),
            self._vocabulary,
        )
        return compiler

    def _evaluate(self, searcher, query):
        """Yield (segment table, docnum offset, ``Hits`` in the segment) per segment."""
        stats: dict = {}
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            if reader.doc_count_all() == 0:
                continue
            table = self._tables.table(reader)
            evaluator = SegmentEvaluator(searcher, sub, table, self._language, stats)
            found = evaluator.matches(query)
            if len(found):
                yield table, offset, found

    def _exists(self, searcher, query) -> bool:
        return any(True for _ in self._evaluate(searcher, query))

    def _card(self, searcher, iid: int) -> dict:
        """The card of an interview: found through the segment tables (newest segment first)
        and kept per segment, so a write elsewhere does not make the next query re-read a
        thousand cards; and by interview for the current generation (facets look up a card
        per matching interview)."""
        found = self._cards.get(iid)
        if found is None:
            found = self._cards[iid] = self._find_card(searcher, iid)
        return found

    def _find_card(self, searcher, iid: int) -> dict:
        for sub, _ in reversed(searcher.leaf_searchers()):
            reader = sub.reader()
            if reader.doc_count_all() == 0:
                continue
            card = self._tables.table(reader).card(reader, iid)
            if card is not None:
                return card
        return {"interview_id": iid, **CARD_DEFAULTS, "narrators": []}

    def _document(self, searcher, docnum: int) -> dict:
        """A document record's stored fields (documents are few and match common words
        often: cached for the current generation)."""
        found = self._documents.get(docnum)
        if found is None:
            found = self._documents[docnum] = searcher.stored_fields(docnum)["stored"]
        return found

    def search(
        self,
        q: str,
        scope: SearchScope,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
        filters: Mapping[str, str] | None = None,
        moments_per_group: int = 3,
    ) -> SearchResults:
        """Results grouped by interview (documents stand alone), computed under ``scope``."""
        if sort not in SORTS:
            raise QueryError(f"sort is one of {', '.join(SORTS)}, not {sort!r}.")
        if not isinstance(page, int) or page < 1:
            raise QueryError("page starts at 1.")
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page is between 1 and {MAX_PER_PAGE}.")
        tree = parse(q)
        self._check_filters(filters)
        with self._lock:
            searcher = self._current()
            filter_queries = self._filter_queries(searcher, filters or {})
            user_query, compiler = self._compile(searcher, tree)
            restriction = AccessRestriction(scope, self._tables)
            full = wq.And([user_query, *filter_queries, restriction])

            groups, kinds, speakers, hits = self._group_matches(searcher, full)
            facets, order = self._facets_and_order(searcher, groups, kinds, speakers, sort)
            start = (page - 1) * per_page
            page_keys = order[start : start + per_page]
            top = self._top_hits(hits, [k for k in page_keys if k > 0], moments_per_group)
            shown = [
                self._group(searcher, key, groups.row(key), top.get(key, []), compiler.marks)
                for key in page_keys
            ]
            results = SearchResults(
                query=q,
                total_groups=len(groups),
                total_moments=kinds["segment"] + kinds["index"],
                groups=shown,
                facets=facets,
                page=page,
                per_page=per_page,
                notices=list(compiler.notices),
            )
            if not groups or (
                not _requires_every_word(tree) and self._has_unseen_word(searcher, tree, scope)
            ):
                results.suggestion = self._suggest(searcher, q, tree, scope, filter_queries)
            return results

    def _group_matches(self, searcher, query):
        """Every match, grouped by interview (a document is a group of its own).

        Returns the ``Groups`` (best score, moments and catalogue match per group key: an
        interview id, or ``-(docnum + 1)`` for a document); kind and speaker counts; and the
        raw hits for ``_top_hits``. The per-match work is numpy over the segment's columns (a
        common word has tens of thousands of matches), and so is the per-group work.
        """
        kinds: Counter = Counter()
        speaker_ids: list[np.ndarray] = []  # per segment: speakers' numbers and their counts
        speaker_counts: list[np.ndarray] = []
        hits: list = []
        parts: list[Groups] = []
        for table, offset, found in self._evaluate(searcher, query):
            docs, scores = found.ids, found.scores
            iids, kind_refs, speaker_refs = table.columns()
            names = table.kinds
            kind_of = kind_refs[docs]
            by_kind = np.bincount(kind_of, minlength=len(names)).tolist()
            for ref in np.flatnonzero(by_kind).tolist():
                kinds[names[ref]] += by_kind[ref]
            ref_of = {name: i for i, name in enumerate(names) if by_kind[i]}
            keys = iids[docs].astype(np.int64)
            if "document" in ref_of:
                is_doc = kind_of == ref_of["document"]
                keys[is_doc] = -(offset + docs[is_doc] + 1)
            if "segment" in ref_of:
                seg_ref = ref_of["segment"]
                refs = speaker_refs[docs] if by_kind[seg_ref] == len(docs) else None
                if refs is None:
                    refs = speaker_refs[docs[kind_of == seg_ref]]
                counts = np.bincount(refs)
                present = np.flatnonzero(counts)
                speaker_ids.append(self._speakers.numbers(table)[present])
                speaker_counts.append(counts[present])
            # A catalogue record (kind interview) makes its group a catalogue match, not a
            # moment; everything else is a moment (a document counts as its own group).
            moment = kind_of != ref_of["interview"] if "interview" in ref_of else None
            parts.append(Groups.of(keys, scores, moment))
            hits.append((offset, docs, keys, scores, moment))
        speakers = self._speakers.top(speaker_ids, speaker_counts, MAX_FACET_VALUES)
        return Groups.merge(parts), kinds, speakers, hits

    @staticmethod
    def _top_hits(hits: list, wanted, per_group: int) -> dict:
        """The ``per_group`` best moments (score, docnum) of each wanted group key."""
        found: dict = {key: [] for key in wanted}
        if per_group <= 0 or not found:
            return found
        wanted_keys = np.array(sorted(found), dtype=np.int64)
        for offset, docs, keys, scores, moment in hits:
            picked = member(wanted_keys, keys)
            if moment is not None:
                picked &= moment
            at = np.flatnonzero(picked)
            for key, score, docnum in zip(
                keys[at].tolist(), scores[at].tolist(), (docs[at] + offset).tolist(), strict=True
            ):
                found[key].append((score, docnum))
        return {key: heapq.nlargest(per_group, hits) for key, hits in found.items()}

    def _facts(self, searcher, key: int) -> tuple:
        """(collection, narrators, language, decade, date for sorting) of a group key."""
        found = self._group_facts.get(key)
        if found is None:
            if key < 0:  # a document
                year = self._document(searcher, -key - 1).get("year")
                found = (None, (), None, year, "" if year is None else f"{int(year):04d}")
            else:
                card = self._card(searcher, key)
                year = card.get("year")
                found = (
                    card.get("collection"),
                    tuple(card.get("narrators") or ()),
                    card.get("language"),
                    year,
                    card.get("date_recorded") or "",
                )
            if found[3] is not None:
                found = (*found[:3], str(int(found[3]) // 10 * 10), found[4])
            self._group_facts[key] = found
        return found

    def _facets_and_order(self, searcher, groups: Groups, kinds, speakers, sort):
        keys = groups.keys.tolist()
        known = self._group_facts.get
        facts = [known(key) or self._facts(searcher, key) for key in keys]
        # One column per fact (C-level transposition and counting; empty values dropped).
        columns = zip(*facts, strict=True) if facts else ((),) * 5
        collections, narrators, languages, decades, dates = columns

        def count(values) -> Counter:
            counter = Counter(values)
            for empty in ("", None):
                counter.pop(empty, None)
            return counter

        def top(counter: Counter) -> list[tuple[str, int]]:
            """The most frequent values, ties by name; only those that can be in the top
            are sorted (a common word's speaker facet has a thousand names)."""
            items = counter.items()
            if len(counter) > MAX_FACET_VALUES:
                floor = heapq.nlargest(MAX_FACET_VALUES, counter.values())[-1]
                items = [kv for kv in items if kv[1] >= floor]
            return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:MAX_FACET_VALUES]

        facets = {
            "collection": top(count(collections)),
            "narrator": top(count(chain.from_iterable(narrators))),
            "speaker": speakers,
            "decade": sorted(count(decades).items()),
            "language": top(count(languages)),
            "kind": top(kinds),
        }
        if sort == "date":
            best = groups.best.tolist()
            at = sorted(
                range(len(keys)),
                key=lambda i: (dates[i] == "", dates[i], -best[i], keys[i]),
            )
        else:
            at = np.lexsort((groups.keys, -groups.moments, -groups.best))
        return facets, groups.keys[at].tolist()

    def _moment(self, searcher, docnum: int, marks) -> Moment:
        fields = searcher.stored_fields(docnum)
        stored = fields["stored"]
        return Moment(
            kind=stored["kind"],
            interview_id=stored["iid"],
            segment_id=stored.get("seg"),
            start_ms=stored.get("start"),
            end_ms=stored.get("end"),
            speaker=stored.get("speaker") or "",
            snippet_html=self._highlighter.snippet(stored.get("text") or "", marks),
        )

    def _group(self, searcher, key, g, top: list, marks):
        best, n_moments, catalogue = g
        if key < 0:  # a document
            stored = self._document(searcher, -key - 1)
            return DocumentHit(
                document_id=stored["document_id"],
                title=stored.get("title") or "",
                snippet_html=self._highlighter.snippet(stored.get("text") or "", marks),
                score=best,
            )
        card = self._card(searcher, key)
        moments = [self._moment(searcher, docnum, marks) for _, docnum in top]
        moments.sort(key=lambda m: (m.start_ms is None, m.start_ms or 0))
        return InterviewGroup(
            interview_id=key,
            accession=card["accession"],
            title=card["title"],
            collection_title=card["collection_title"],
            year=card["year"],
            narrators=list(card["narrators"]),
            score=best,
            moments=moments,
            total_moments=n_moments,
            catalogue_match=catalogue,
        )

    def search_interview(self, interview_id: int, q: str, scope: SearchScope) -> list[Moment]:
        """Every moment of one interview matching ``q`` that ``scope`` may read, in time order."""
        tree = parse(q)
        with self._lock:
            searcher = self._current()
            user_query, compiler = self._compile(searcher, tree)
            full = wq.And(
                [
                    user_query,
                    InterviewSet(frozenset({int(interview_id)}), self._tables),
                    KindSet(frozenset({"segment", "index"}), self._tables),
                    AccessRestriction(scope, self._tables),
                ]
            )
            docnums = [
                d
                for _, offset, found in self._evaluate(searcher, full)
                for d in (found.ids + offset).tolist()
            ]
            moments = [self._moment(searcher, n, compiler.marks) for n in docnums]
        moments.sort(key=lambda m: (m.start_ms is None, m.start_ms or 0, m.kind != "index"))
        return moments

    # ------------------------------------------------------------ did you mean

    def suggest(self, q: str, scope: SearchScope) -> str | None:
        """A corrected query whose misspelt words are replaced by words ``scope`` may read."""
        tree = parse(q)
        with self._lock:
            searcher = self._current()
            return self._suggest(searcher, q, tree, scope, [])

    def _word_query(self, searcher, text: str):
        words = [t.text for t in self._fold(text)]
        if len(words) != 1:
            return None
        return self._compiler(searcher).word(words[0])

    def _visible(self, searcher, query, scope, extra=()) -> bool:
        return self._exists(
            searcher, wq.And([query, *extra, AccessRestriction(scope, self._tables)])
        )

    def _has_unseen_word(self, searcher, tree, scope) -> bool:
        for word in positive_words(tree):
            query = self._word_query(searcher, word.text)
            if query is not None and not self._visible(searcher, query, scope):
                return True
        return False

    def _suggest(self, searcher, q: str, tree, scope, filter_queries) -> str | None:
        reader = searcher.reader()
        replacements: list[tuple[Word, str]] = []
        for word in positive_words(tree):
            query = self._word_query(searcher, word.text)
            folded = [t.text for t in self._fold(word.text)]
            if query is None or len(folded) != 1 or self._visible(searcher, query, scope):
                continue
            original = folded[0]
            if len(original) < 3 or original.isdigit():
                continue
            for distance in (1, 2) if len(original) > 4 else (1,):
                found = {
                    t.decode() if isinstance(t, bytes) else t
                    for t in reader.terms_within(
                        "exact", original, distance, prefix=2 if len(original) >= 5 else 1
                    )
                }
                found.discard(original)
                ranked = sorted(found, key=lambda t: (-reader.doc_frequency("exact", t), t))
                choice = next(
                    (
                        t
                        for t in ranked[:10]
                        if (cq := self._word_query(searcher, t)) is not None
                        and self._visible(searcher, cq, scope)
                    ),
                    None,
                )
                if choice:
                    replacements.append((word, choice))
                    break
        if not replacements:
            return None
        suggestion = q
        for word, choice in sorted(replacements, key=lambda r: -r[0].start):
            suggestion = suggestion[: word.start] + choice + suggestion[word.end :]
        try:
            corrected, _ = self._compile(searcher, parse(suggestion))
        except QueryError:
            return None
        if not self._visible(searcher, corrected, scope, filter_queries):
            return None
        return suggestion
