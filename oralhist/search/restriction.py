"""The access restriction, folded into every query as a constant-scoring clause.

``And([user_query, AccessRestriction(scope, tables)])`` matches only documents the scope may
read, so totals, facets, snippets and suggestions are computed under it, and pagination stays
right. Its matcher is a list of allowed docnum ranges per index segment, built from the
per-document ``c_iid`` and ``c_acl`` columns: ``skip_to`` is a binary search, so intersecting
it with a sparse word costs a few microseconds per match, whatever the size of the archive.

Why not ``ConstantScoreQuery(Or([Term(...), ...]))``: whoosh's ConstantScoreQuery turns its
child into a list of *every* matching docnum on each search (``array("I", m.all_ids())``), and
the access terms of a broad scope match nearly the whole index (issue 5 measured the same cost
through ``filter=``: 90-940 ms). Interviews' documents are written together, so a segment
holds a few thousand (interview, access) runs at most, however many documents it has.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh import matching
from whoosh.query import qcore
from whoosh.reading import TermNotFound

from . import whoosh_internals as wi
from .codec import LAYOUT_COLUMNS
from .scope import SearchScope

# GRANT: allowed if the interview is in ``granted_interview_ids``; REQUEST: also if it is in
# ``access_grant_ids`` (the words of a published, restricted interview past its embargo).
ALLOW, GRANT, DENY, REQUEST = 0, 1, 2, 3
CARD_DEFAULTS = {
    "accession": "",
    "title": "",
    "collection": "",
    "collection_title": "",
    "narrators": [],
    "year": None,
    "date_recorded": "",
    "language": "",
}


# Block heads of posting lists kept per segment (``SegmentTable.postings``): ~100 bytes each
# (a row of 12 int64: the head, and the block's layout).
POSTING_HEADS_KEPT = 200_000
_MISSING = ("missing",)  # a term the segment does not have


def _heads_in(found) -> int:
    return len(found[1]) if found[0] is not None and found is not _MISSING else 1


@dataclass(eq=False)
class SegmentTable:
    """Per-document facts of one index segment, loaded once (segments are immutable)."""

    # Per docnum, held once, as numpy arrays in the column's own narrow type (interview id:
    # uint32; kind and speaker refs: uint8 or uint16): what a query gathers from at every
    # match. At 10,000 interviews (12 M records) these are ~85 MB; holding them also as
    # ``array`` objects and int32 copies, as before, took ~200 MB of a serving process.
    iids: np.ndarray
    kind_refs: np.ndarray
    kinds: list[str]
    speaker_refs: np.ndarray
    speakers: list[str]
    run_starts: list[int]
    run_ends: list[int]
    run_iids: list[int]
    run_acls: list[str]
    lengths: dict = field(default_factory=dict)  # field name -> length bytes, loaded lazily
    # id(starts) -> (starts, base, byte mask) for recently used range lists (see evaluate)
    masks: OrderedDict = field(default_factory=OrderedDict)
    # interview id -> docnums of its card records in this segment (loaded on first use),
    # and the cards read so far by docnum
    card_docs: dict | None = None
    cards: dict = field(default_factory=dict)
    # run starts and ends, and per-run columns, as numpy arrays (``runs_where``)
    _runs: tuple | None = None
    _run_columns: dict = field(default_factory=dict)
    # each speaker ref's number in the index's ``SpeakerNumbers`` (set by it)
    speaker_numbers: np.ndarray | None = None
    # speaker filter (frozenset of speaker_key terms) -> its docnums (``speaker_docs``)
    speaker_masks: OrderedDict = field(default_factory=OrderedDict)
    # (field, term) -> where its postings are, with their block heads (``postings``), and
    # how many heads are kept
    posting_heads: OrderedDict = field(default_factory=OrderedDict)
    heads_kept: int = 0
    # The two caches above are shared by a serving process's threads (gthread workers):
    # their look-ups, moves and evictions are made under this lock (the reads are not).
    cache_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def postings(self, reader, fieldname: str, text):
        """Where a term's postings are in this segment (``reader`` reads it):
        ``(None, (ids, weights, values))`` when its term info holds them inline, else
        ``(where they end, a table of their block heads)`` (an int64 row per block: the
        5 values of its ``whoosh_internals.block_heads`` head, then the block's
        ``codec.block_layouts`` row once a query has read it, -1 until then); ``None``
        for a reader ``whoosh_internals.term_postings`` does not know. Raises
        ``TermNotFound``. Kept for the terms read last (up to ``POSTING_HEADS_KEPT`` block
        heads): reading a block's head costs more than reading its data, and a prefix's 64
        words are read again by each researcher who types it."""
        key = (fieldname, text)
        cache = self.posting_heads
        with self.cache_lock:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
        if found is None:
            try:
                where = wi.term_postings(reader, fieldname, text)
            except TermNotFound:
                where = _MISSING
            if where is None:
                return None
            if where is _MISSING or where[0] is None:
                found = where
            else:
                heads = wi.block_heads(wi.postings_file(reader), *where)
                table = np.full((len(heads), 5 + LAYOUT_COLUMNS), -1, dtype=np.int64)
                table[:, :5] = heads
                found = (where[1], table)
            with self.cache_lock:
                if key not in cache:
                    cache[key] = found
                    self.heads_kept += _heads_in(found)
                while self.heads_kept > POSTING_HEADS_KEPT and len(cache) > 1:
                    self.heads_kept -= _heads_in(cache.popitem(last=False)[1])
        if found is _MISSING:
            raise TermNotFound(f"{fieldname}:{text!r}")
        return found

    def runs_where(self, keep: np.ndarray) -> tuple[list[int], list[int]]:
        """The docnum ranges of the runs where ``keep`` (a bool per run) is true, adjacent
        ones joined."""
        if self._runs is None:
            self._runs = (
                np.array(self.run_starts, dtype=np.int64),
                np.array(self.run_ends, dtype=np.int64),
            )
        starts, ends = self._runs[0][keep], self._runs[1][keep]
        if not len(starts):
            return [], []
        joined = starts[1:] == ends[:-1]
        return (
            starts[np.concatenate(([True], ~joined))].tolist(),
            ends[np.concatenate((~joined, [True]))].tolist(),
        )

    def run_column(self, name: str) -> np.ndarray:
        """Per run: ``iid`` (interview id) or ``kind`` (the kind letter of its access token,
        as a byte)."""
        found = self._run_columns.get(name)
        if found is None:
            if name == "iid":
                found = np.array(self.run_iids, dtype=np.int64)
            else:
                found = np.array([ord(acl[:1] or " ") for acl in self.run_acls], dtype=np.int64)
            self._run_columns[name] = found
        return found

    def speaker_docs(self, keys: frozenset[str], terms_of) -> np.ndarray:
        """The docnums (sorted, int64) whose speaker has one of the ``speaker_key`` terms
        ``keys`` (``terms_of(name)``: the terms a speaker's name was indexed as). Kept for the
        last few filters: one posting list per matching name cost ~80 us each, and
        ``speaker:`` can match dozens of names. A list of docnums, not a flag per record:
        its memory follows what the filter matches, not the size of the archive."""
        masks = self.speaker_masks
        with self.cache_lock:
            found = masks.get(keys)
            if found is not None:
                masks.move_to_end(keys)
                return found
        refs = [i for i, name in enumerate(self.speakers) if name and keys & terms_of(name)]
        found = np.flatnonzero(np.isin(self.speaker_refs, refs))
        with self.cache_lock:
            masks[keys] = found
            while len(masks) > 16:
                masks.popitem(last=False)
        return found

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per docnum: interview id, kind ref and speaker ref (narrow unsigned types: a query
        gathers from these at every match, and that costs memory traffic more than
        arithmetic)."""
        return self.iids, self.kind_refs, self.speaker_refs

    def card(self, reader, iid: int) -> dict | None:
        """The stored card of interview ``iid`` if this segment holds a live one."""
        if self.card_docs is None:
            docs: dict[int, list[int]] = {}
            try:
                m = reader.postings("kind", "card")
            except TermNotFound:  # no cards in this segment
                m = None
            while m is not None and m.is_active():
                d = m.id()
                docs.setdefault(int(self.iids[d]), []).append(d)
                m.next()
            self.card_docs = docs
        for d in self.card_docs.get(iid, ()):
            if not reader.is_deleted(d):
                found = self.cards.get(d)
                if found is None:
                    found = self.cards[d] = {**CARD_DEFAULTS, **reader.stored_fields(d)["stored"]}
                return found
        return None

    def mask(self, starts: list[int], ends: list[int]) -> tuple[int, bytearray]:
        """A byte per docnum from ``starts[0]``: 1 inside the ranges. Kept for the last few
        range lists (the access restriction's are cached objects, reused query after query);
        the entry holds the list itself, so its id cannot be reused while cached."""
        key = id(starts)
        found = self.masks.get(key)
        if found is not None and found[0] is starts:
            return found[1], found[2]
        base = starts[0]
        mask = bytearray(ends[-1] - base)
        for start, end in zip(starts, ends, strict=True):
            mask[start - base : end - base] = b"\x01" * (end - start)
        self.masks[key] = (starts, base, mask)
        while len(self.masks) > 8:
            self.masks.popitem(last=False)
        return base, mask

    def full_mask(self, starts: list[int], ends: list[int], n: int) -> bytearray:
        """A byte per docnum of the segment (``n`` of them): 1 inside the ranges; cached as
        ``mask`` is, so a scope's mask is built once per segment, not per query."""
        key = ("full", id(starts))
        found = self.masks.get(key)
        if found is not None and found[0] is starts:
            self.masks.move_to_end(key)
            return found[2]
        mask = bytearray(n)
        for start, end in zip(starts, ends, strict=True):
            mask[start:end] = b"\x01" * (end - start)
        self.masks[key] = (starts, 0, mask)
        while len(self.masks) > 8:
            self.masks.popitem(last=False)
        return mask

    @classmethod
    def load(cls, reader) -> SegmentTable:
        iids, _ = wi.column_array(reader, "c_iid")
        kind_refs, kinds = wi.column_array(reader, "c_kind")
        speaker_refs, speakers = wi.column_array(reader, "c_speaker")
        acl_refs, acls = wi.column_array(reader, "c_acl")
        iids, kind_refs, speaker_refs, acl_refs = (
            np.frombuffer(a, dtype=a.typecode) if len(a) else np.zeros(0, dtype=np.uint8)
            for a in (iids, kind_refs, speaker_refs, acl_refs)
        )
        # Runs of records with the same interview and access token (an interview's records
        # are written together): where either column changes.
        n = len(iids)
        if n:
            change = np.flatnonzero((iids[1:] != iids[:-1]) | (acl_refs[1:] != acl_refs[:-1]))
            starts = np.concatenate(([0], change + 1))
            ends = np.append(starts[1:], n)
        else:
            starts = ends = np.zeros(0, dtype=np.int64)
        acl_names = [a.decode() for a in acls]
        return cls(
            iids=iids,
            kind_refs=kind_refs,
            kinds=[k.decode() for k in kinds],
            speaker_refs=speaker_refs,
            speakers=[s.decode() for s in speakers],
            run_starts=starts.tolist(),
            run_ends=ends.tolist(),
            run_iids=iids[starts].tolist(),
            run_acls=[acl_names[i] for i in acl_refs[starts].tolist()],
        )


class TableCache:
    """Segment tables by segment id, and allowed ranges by (segment, scope).

    Shared by the searching thread and writers (``delete_by_query`` with ``InterviewSet``),
    hence the lock; a table is loaded outside it (two threads may both load one: harmless).
    """

    def __init__(self, max_ranges: int = 512) -> None:
        self._tables: dict[str, SegmentTable] = {}
        self._ranges: OrderedDict = OrderedDict()
        self._max_ranges = max_ranges
        self._lock = threading.Lock()

    @staticmethod
    def key(reader) -> str:
        return reader.segment().segment_id()

    def table(self, reader) -> SegmentTable:
        key = self.key(reader)
        table = self._tables.get(key)
        if table is None:
            table = SegmentTable.load(reader)
            with self._lock:
                table = self._tables.setdefault(key, table)
        return table

    def retain(self, live_keys: set[str]) -> None:
        """Forget segments that a refreshed searcher no longer has (merged away)."""
        with self._lock:
            for key in [k for k in self._tables if k not in live_keys]:
                del self._tables[key]
            for key in [k for k in self._ranges if k[0] not in live_keys]:
                del self._ranges[key]

    def ranges(self, reader, scope: SearchScope) -> tuple[list[int], list[int]]:
        key = (self.key(reader), scope)
        with self._lock:
            found = self._ranges.get(key)
            if found is not None:
                self._ranges.move_to_end(key)
                return found
        found = allowed_ranges(self.table(reader), scope)
        with self._lock:
            self._ranges[key] = found
            if len(self._ranges) > self._max_ranges:
                self._ranges.popitem(last=False)
        return found


def acl_verdict(acl: str, scope: SearchScope) -> int:
    """ALLOW, DENY, GRANT or REQUEST (allowed only for the interviews a scope opens) for an
    acl token."""
    acl, _, audience = acl.partition("|")
    parts = acl.split(":")
    kind = parts[0]
    if kind == "x":
        return DENY  # cards are never results
    # A partly withheld interview's records: the whole ones for archivists only, the public
    # ones (redacted, anonymised) for everyone else.
    if audience == "a":
        return ALLOW if scope.everything else DENY
    if audience == "p" and scope.everything:
        return DENY
    if scope.everything:
        return ALLOW
    if kind in ("s", "p"):  # words: segments, index points
        if parts[1] == "draft":
            return GRANT
        level, embargo = parts[1], int(parts[2] or 0)
        if level in scope.levels and embargo <= scope.today:
            return ALLOW
        if level == "restricted" and embargo <= scope.today:
            return REQUEST
        return GRANT
    if kind == "c":
        if parts[1] == "pub":
            return ALLOW
        owner = parts[2] if len(parts) > 2 else ""
        if scope.owner_user_id is not None and owner == str(scope.owner_user_id):
            return ALLOW
        return GRANT
    if kind == "d":
        return ALLOW if parts[1] in scope.document_levels else DENY
    return DENY


def allowed_ranges(table: SegmentTable, scope: SearchScope) -> tuple[list[int], list[int]]:
    granted = scope.granted_interview_ids
    requested = scope.access_grant_ids
    verdicts: dict[str, int] = {}
    starts: list[int] = []
    ends: list[int] = []
    for start, end, iid, acl in zip(
        table.run_starts, table.run_ends, table.run_iids, table.run_acls, strict=True
    ):
        verdict = verdicts.get(acl)
        if verdict is None:
            verdict = verdicts[acl] = acl_verdict(acl, scope)
        if (
            verdict == ALLOW
            or (verdict != DENY and iid in granted)
            or (verdict == REQUEST and iid in requested)
        ):
            if ends and ends[-1] == start:
                ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
    return starts, ends


class RangeMatcher(matching.Matcher):
    """Matches every docnum in a sorted list of [start, end) ranges, with a constant score."""

    def __init__(self, starts: list[int], ends: list[int], score: float = 0.0) -> None:
        self._starts = starts
        self._ends = ends
        self._score = score
        self._r = 0
        self._id = starts[0] if starts else 0

    def is_active(self) -> bool:
        return self._r < len(self._starts)

    def id(self) -> int:
        return self._id

    def next(self) -> None:
        self._id += 1
        if self._id >= self._ends[self._r]:
            self._r += 1
            if self._r < len(self._starts):
                self._id = self._starts[self._r]

    def skip_to(self, target: int) -> None:
        if not self.is_active():
            raise matching.ReadTooFar
        if target <= self._id:
            return
        if target < self._ends[self._r]:
            self._id = target
            return
        r = bisect.bisect_right(self._ends, target, self._r)
        self._r = r
        if r < len(self._starts):
            self._id = max(target, self._starts[r])

    def reset(self) -> None:
        self._r = 0
        self._id = self._starts[0] if self._starts else 0

    def copy(self) -> RangeMatcher:
        m = RangeMatcher(self._starts, self._ends, self._score)
        m._r, m._id = self._r, self._id
        return m

    def all_ids(self):
        for r in range(self._r, len(self._starts)):
            start = self._id if r == self._r else self._starts[r]
            yield from range(start, self._ends[r])

    def supports_block_quality(self) -> bool:
        return False

    def supports(self, astype) -> bool:
        return False

    def weight(self) -> float:
        return self._score

    def score(self) -> float:
        return self._score

    def max_quality(self) -> float:
        return self._score

    def block_quality(self) -> float:
        return self._score

    def term(self):
        return None


class _RangeQuery(qcore.Query):
    """A constant-scoring query whose matcher is a list of docnum ranges per index segment."""

    def _ranges(self, reader) -> tuple[list[int], list[int]]:
        raise NotImplementedError

    def _key(self):
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def is_leaf(self) -> bool:
        return True

    def normalize(self):
        return self

    def simplify(self, ixreader):
        return self

    def terms(self, phrases=False):
        return iter(())

    def estimate_size(self, ixreader) -> int:
        return ixreader.doc_count_all()

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        if not reader.is_atomic():
            raise ValueError(f"{type(self).__name__} is matched per index segment")
        if reader.doc_count_all() == 0:
            return matching.NullMatcher()
        starts, ends = self._ranges(reader)
        if not starts:
            return matching.NullMatcher()
        return RangeMatcher(starts, ends)


class AccessRestriction(_RangeQuery):
    """Matches exactly what ``scope`` may read (constant score, no terms)."""

    def __init__(self, scope: SearchScope, tables: TableCache) -> None:
        self.scope = scope
        self.tables = tables

    def __repr__(self) -> str:
        return f"AccessRestriction({self.scope!r})"

    def __unicode__(self) -> str:
        return "<access>"

    __str__ = __unicode__

    def _key(self):
        return self.scope

    def _ranges(self, reader):
        return self.tables.ranges(reader, self.scope)


class InterviewSet(_RangeQuery):
    """Matches every record (of any kind) of the given interviews: interview-level filters
    (collection, narrator, year, language) resolved once against the interviews' cards."""

    def __init__(self, iids: frozenset[int], tables: TableCache) -> None:
        self.iids = iids
        self.tables = tables

    def __repr__(self) -> str:
        return f"InterviewSet({sorted(self.iids)!r})"

    def __unicode__(self) -> str:
        return f"<{len(self.iids)} interviews>"

    __str__ = __unicode__

    def _key(self):
        return self.iids

    def _ranges(self, reader):
        table = self.tables.table(reader)
        wanted = np.fromiter(self.iids, dtype=np.int64, count=len(self.iids))
        return table.runs_where(np.isin(table.run_column("iid"), wanted))


class KindSet(_RangeQuery):
    """Matches every record of the given kinds (``segment``, ``index``, ``interview``,
    ``document``), from the kind letter that starts each run's access token."""

    def __init__(self, kinds: frozenset[str], tables: TableCache) -> None:
        from .schema import KIND_CODES

        self.kinds = frozenset(kinds)
        self.codes = frozenset(KIND_CODES[k] for k in self.kinds)
        self.tables = tables

    def __repr__(self) -> str:
        return f"KindSet({sorted(self.kinds)!r})"

    def __unicode__(self) -> str:
        return "kind:" + "|".join(sorted(self.kinds))

    __str__ = __unicode__

    def _key(self):
        return self.kinds

    def _ranges(self, reader):
        table = self.tables.table(reader)
        wanted = np.array([ord(code) for code in self.codes], dtype=np.int64)
        return table.runs_where(np.isin(table.run_column("kind"), wanted))
