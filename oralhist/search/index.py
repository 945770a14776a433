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

This module holds the lifecycle (open, check, refresh), writing and the query entry points;
``SearchIndex`` takes its rebuild and swap from ``rebuild``, its grouping and facets from
``grouping`` and its "did you mean" from ``suggest``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from ..errors import QueryError
from .backend import IndexUnavailable
from .codec import codec
from .common import FILTERS, check_request
from .common import requires_every_word as _requires_every_word
from .evaluate import SegmentEvaluator
from .grouping import FactTable, GroupingMixin, SpeakerNumbers
from .highlight import Highlighter
from .query import Compiler, parse
from .rebuild import RebuildMixin
from .restriction import CARD_DEFAULTS, AccessRestriction, InterviewSet, KindSet, TableCache
from .results import Moment, SearchResults
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
from .storage import PreadFileStorage
from .suggest import SuggestMixin
from .whoosh_internals import check_whoosh, read_toc

REINDEX_HINT = "Run `oralhist reindex` to rebuild it from the database."
REQUIRED_FIELDS = {"doc_id", "body", "exact", "speaker_key", "c_iid", "c_acl", "c_kind"}


class SearchIndex(RebuildMixin, GroupingMixin, SuggestMixin):
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
        self._fact_table = FactTable()  # the same facts as numpy columns, for facets
        self._vocabulary: dict = {}  # the Compiler's look-ups, for the current generation
        # idf per (field, term) and length norms per field (``SegmentEvaluator.stats``): the
        # searcher's statistics, fixed for a generation (a prefix's 64 words cost 128 term
        # look-ups a query otherwise)
        self._stats: dict = {}

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
            PreadFileStorage(self.path).create_index(build_schema(self.language))
            self._close()

    def check(self) -> None:
        """Raise ``IndexUnavailable`` saying what to run if the index is missing or damaged."""
        if not self.exists():
            raise IndexUnavailable(f"The search index at {self.path} is missing. {REINDEX_HINT}")
        try:
            ix = PreadFileStorage(self.path).open_index()
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
        self._fact_table = FactTable()
        self._vocabulary.clear()
        self._stats.clear()

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
            return PreadFileStorage(self.path).open_index()
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
        self._fact_table = FactTable()
        self._vocabulary.clear()
        self._stats.clear()
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
        stats = self._stats
        if len(stats) > 50_000:
            stats.clear()
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
        check_request(sort, page, per_page)
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
