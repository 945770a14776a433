"""Evaluate a compiled query over one index segment, all matches at once, in numpy arrays.

A results page needs every match (totals, groups, facets), not the top ten, and whoosh's
matchers cost tens of microseconds per match in Python (``next()``, ``skip_to()`` walking a
block one posting at a time, a column read per BM25 score): 20,000 matches of a common word
took ~0.5 s; the same work in Python dicts still cost ~0.9 us a match (25 ms for a common
word at 1,000 interviews). Here a term's posting list is read block by block (whoosh's W3
block format, read directly) into numpy arrays, scored with BM25F from the bulk-loaded length
column (the same formula and statistics as whoosh's ``BM25F``), and boolean nodes are sorted
array operations (``searchsorted`` for And and Not, ``unique`` + ``bincount`` for Or): a few
nanoseconds a match. A node's result is ``Hits``: sorted unique docnums and their scores.

The access restriction, ``kind:`` and interview filters are docnum ranges: the access
restriction of a top-level And is a cached byte mask applied where postings are read (blocks
it excludes entirely are not decoded, nothing it excludes is scored), the others a binary
search over the ranges. An And of words intersects docnums before scoring. A phrase reads
its words rarest first, each only in the ``exact`` blocks holding the documents every word
before it has, and inflates positions only for the documents they all have. Anything else
(numeric ranges, a phrase of stop words only) goes through the node's own whoosh matcher.

Deleted documents are dropped once, from a segment's final result (``matches``).

At 10,000 interviews (12 M records, two segments; issue 18) a prefix's 64 words read ~1,500
blocks and 720 k postings, and profiling showed where the time went, which decided the shape:
- Inflating whole ``exact`` blocks to read ids and weights was a third of ``trai*``: positions
  are now deflated on their own and inflated only for a phrase's candidate blocks
  (``codec.DeflatedValues``).
- Per term and per block, Python around the reads: a whoosh matcher set up per term, four file
  calls and a ``BytesIO`` per block head, ``pickle.loads`` per block. Block heads are now read
  once per segment and kept (``SegmentTable.postings``), block data in windows
  (``whoosh_internals.block_data``), the usual block decoded from its bytes
  (``codec.ids_and_frequencies``), idf kept per index generation.
- The union of 64 sorted lists: one sort of packed (docnum, place) keys (``_or``).
- Intersections of two long lists (phrases, two words): a flag array instead of a binary
  search a docnum (``member``).
- Then (same index, same machine, ``trai*`` 69 -> ~50 ms): a prefix's words are read and
  decoded together (``words_or``): most of the 64 are rare, and a numpy call per word cost
  more than decoding its one block. A block's layout (where its ids, weights and deflated
  positions lie) is found once with numpy for all blocks read (``codec.block_layouts``) and
  kept with its head, so a query decodes ~1,500 blocks with a slice and a view each
  (``codec.decode_blocks``). Which blocks the access mask excludes is two binary searches
  over the ranges it was made of, not a byte search a block (that took 3.4 ms and, for the
  usual researcher, excluded nothing). Arrays filtered by one mask take indices: numpy's
  boolean index costs three times ``flatnonzero`` and ``take``.
- Tried and left: evaluating the segments at once on two threads. numpy lets go of the GIL,
  but this work is bound by memory bandwidth: on the 2-core machine the two segments each
  took twice as long side by side (as two processes running the same numpy work did), so
  the query took as long. Radix sorts (``argsort(kind="stable")`` of uint16 digits) and a
  flag array for the union were slower than the packed sort.
- Then (``trai*`` ~50 -> ~43 ms, "the general strike" ~45 -> ~35): a prefix's postings are
  one sort of 32-bit (docnum, word, frequency) keys, scored after the sort
  (``_scored_union``); a phrase no longer reads its stems' ``body`` lists first.
- Tried and left, measured slower or no faster: grouping matches by the segment's runs
  (the searchsorted of 26 k runs and per-run arrays cost more than gathering each match's
  interview id, except at 200 k+ matches); skipping the mask look-up for blocks wholly
  inside the access ranges (a common word's blocks of ~2,000 docnums mostly straddle an
  interview's edge, so nearly every posting was looked up anyway, after extra work);
  applying the mask after the sort (in order, but to 50 % more postings); inflating
  positions with ``isal`` (3 of a phrase's 9 ms of inflating: not worth a dependency).
- Segments written since the last rebuild each cost a query a fixed ~0.4 ms (``trai*``), and
  whoosh's ``MERGE_SMALL`` lets a dozen or more one-interview segments build up before it
  merges them (its thresholds are Fibonacci numbers of documents, and an interview is
  ~1,200): after a few rounds of writes the same queries took ~5-10 % longer.
A prefix index (prefixes as terms of their own, as the PostgreSQL backend does) was not built:
an Or of 64 words scores each word with its own idf, which a prefix term cannot give, so the
results would differ; and its postings would cost the rebuild its 150 k words/s.
"""

from __future__ import annotations

import weakref
from array import array
from itertools import accumulate, pairwise
from pickle import loads

import numpy as np
from whoosh import query as wq
from whoosh.matching import FilterMatcher, ListMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from . import whoosh_internals as wi
from .codec import (
    DeflatedValues,
    PackedValues,
    block_layouts,
    decode_blocks,
    deflated_values,
    ids_and_frequencies,
)
from .restriction import AccessRestriction, SegmentTable, _RangeQuery
from .schema import fold

B = 0.75
K1 = 1.2
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_NO_IDS = np.empty(0, dtype=np.int64)
_NO_SCORES = np.empty(0, dtype=np.float64)
# Docnum and position in one int64 (``phrase``): positions stay below 2**32.
_STRIDE = 1 << 32
# ``postings``: from this many blocks of one list on, they are read in one call and decoded
# all at once (below it, numpy's per-call cost is more than the loop over them).
READ_AT_ONCE_FROM = 16
# ``_read_blocks``: blocks further apart than this many bytes are read in separate calls.
READ_GAP = 16384
# ``member``: from this many needles on, a flag array may replace the binary searches.
_MEMBER_BITMAP_FROM = 2048
# Filters, not words: they narrow without changing relevance.
UNSCORED = frozenset({"speaker_key"})


class Hits:
    """Matches of a query node in one segment: ``ids`` (sorted, unique docnums, int64) and
    their ``scores`` (float64), index for index."""

    __slots__ = ("ids", "scores")

    def __init__(self, ids: np.ndarray, scores: np.ndarray) -> None:
        self.ids = ids
        self.scores = scores

    @classmethod
    def empty(cls) -> Hits:
        return cls(_NO_IDS, _NO_SCORES)

    @classmethod
    def constant(cls, ids: np.ndarray, score: float = 0.0) -> Hits:
        return cls(ids, np.full(len(ids), score, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, keep: np.ndarray) -> Hits:
        """The hits where ``keep`` (a boolean mask or an index array) says."""
        if keep.dtype == np.bool_:
            keep = np.flatnonzero(keep)  # (see ``_kept``)
        return Hits(self.ids[keep], self.scores[keep])

    def within(self, ids: np.ndarray) -> Hits:
        """The hits whose docnum is in ``ids`` (sorted)."""
        return self.take(member(ids, self.ids))

    def to_dict(self) -> dict[int, float]:
        """{docnum: score}: for tests and debugging."""
        return dict(zip(self.ids.tolist(), self.scores.tolist(), strict=True))


def _block_array(values) -> np.ndarray:
    """A block's ids or weights: an ``array`` (``codec.ArrayBlockWriter``) viewed in place,
    or a tuple (whoosh's own writer) converted."""
    if isinstance(values, array):
        return np.frombuffer(values, dtype=values.typecode)
    return np.array(values)


class _Values:
    """The encoded values (positions) of a posting list's postings, block by block, decoded
    only for the postings a phrase asks for (``positions``)."""

    __slots__ = ("index", "parts")

    def __init__(self) -> None:
        self.parts: list = []  # each block's values: a sequence of bytes (codec.PackedValues)
        self.index: np.ndarray | None = None  # positions kept by the access mask, if any

    def keep(self, mask: np.ndarray) -> None:
        """Keep the postings where ``mask`` (over the postings kept so far) is true."""
        self.index = np.flatnonzero(mask) if self.index is None else self.index[mask]

    def positions(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(how many positions, the positions one posting after another) of the postings
        where ``mask`` (over the postings kept) is true: decoded with numpy, all blocks at
        once, instead of a ``pickle.loads`` and a Python set a posting."""
        wanted = np.flatnonzero(mask) if self.index is None else self.index[mask]
        parts = self.parts
        if not len(wanted) or not parts:
            return _NO_IDS, _NO_IDS
        if all(isinstance(part, (PackedValues, DeflatedValues)) for part in parts):
            # Only the blocks holding a wanted posting are inflated (``DeflatedValues``)...
            counts = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
            bounds = np.cumsum(counts)
            block_of = np.searchsorted(bounds, wanted, side="right")
            used = block_of[np.concatenate(([True], block_of[1:] != block_of[:-1]))]
            if len(used) < len(parts):
                shift = np.zeros(len(parts), dtype=np.int64)
                kept = counts[used]
                shift[used] = (np.cumsum(kept) - kept) - (bounds[used] - kept)
                wanted = wanted + shift[block_of]
            parts = [_packed(parts[i]) for i in used.tolist()]
            # ... then one buffer and one table of value ends for all of them.
            sizes = np.fromiter((len(p.data) for p in parts), dtype=np.int64, count=len(parts))
            counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
            ends = np.concatenate([np.frombuffer(p.ends, dtype=np.uint32) for p in parts])
            ends = ends.astype(np.int64) + np.repeat(np.cumsum(sizes) - sizes, counts)
            return _decode_packed(b"".join(p.data for p in parts), ends, wanted)
        counts_parts: list[np.ndarray] = []
        flat: list[np.ndarray] = []
        base = 0
        for part in parts:
            end = base + len(part)
            lo, hi = np.searchsorted(wanted, (base, end))
            if hi > lo:
                c, f = decode_positions(part, wanted[lo:hi] - base)
                counts_parts.append(c)
                flat.append(f)
            base = end
            if hi == len(wanted):
                break
        return np.concatenate(counts_parts), np.concatenate(flat)


def _packed(values) -> PackedValues:
    """A block's ``PackedValues``, inflated if it was stored deflated."""
    return values.unpack() if isinstance(values, DeflatedValues) else values


# whoosh's ``Positions`` value: the count (4 bytes, big-endian), then ``pickle.dumps(deltas,
# 2)``: PROTO 2, EMPTY_LIST, BINPUT 0, [MARK], one opcode per delta, APPEND or APPENDS, STOP.
# When every delta is below 256 each opcode is ``K`` and a byte, so the value is 11 + 2n
# bytes (one delta) or 12 + 2n (MARK and APPENDS): the deltas sit at fixed offsets.
_HEAD = 9  # count, PROTO 2, EMPTY_LIST, BINPUT 0
_BININT1 = ord("K")


def decode_positions(values, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(count, positions one posting after another) of the values ``idx`` (sorted) of one
    block: a ``PackedValues`` decoded with numpy where every delta is below 256 (nearly every
    posting of a transcript segment), anything else (a block of whoosh tuples, a value with
    larger gaps) with ``pickle``."""
    if isinstance(values, DeflatedValues):
        values = values.unpack()
    if not isinstance(values, PackedValues) or not len(idx):
        decoded = [_positions(values[i]) for i in idx.tolist()]
        counts = np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded))
        flat = np.fromiter(
            (p for ps in decoded for p in ps), dtype=np.int64, count=int(counts.sum())
        )
        return counts, flat
    ends = np.frombuffer(values.ends, dtype=np.uint32).astype(np.int64)
    return _decode_packed(values.data, ends, idx)


def _decode_packed(data: bytes, ends: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``decode_positions`` of values stored one after another in ``data``, value ``i``
    ending at ``ends[i]``."""
    buf = np.frombuffer(data, dtype=np.uint8)
    stop = ends[idx]
    start = np.zeros(len(idx), dtype=np.int64)
    later = idx > 0
    start[later] = ends[idx[later] - 1]
    # each value's count: 4 bytes, big-endian, read through a view of the bytes as a
    # big-endian uint32 at every byte (one gather, not four and three shifts)
    at_every_byte = np.ndarray((max(len(buf) - 3, 0),), dtype=">u4", buffer=data, strides=(1,))
    n = at_every_byte[start].astype(np.int64)
    many = (n > 1).astype(np.int64)
    first = start + _HEAD + many  # the first opcode
    regular = (n >= 1) & (stop - start == 11 + 2 * n + many)
    regular[regular] = buf[first[regular]] == _BININT1
    r = np.flatnonzero(regular)
    nr = n[r]
    offsets_r = np.cumsum(nr) - nr
    total_r = int(nr.sum())
    within = np.arange(total_r, dtype=np.int64) - np.repeat(offsets_r, nr)
    deltas = buf[np.repeat(first[r] + 1, nr) + 2 * within].astype(np.int64)
    running = np.cumsum(deltas)
    if total_r:
        before = running[offsets_r] - deltas[offsets_r]
        positions = running - np.repeat(before, nr)
    else:
        positions = running
    if len(r) == len(idx):
        return n, positions
    offsets = np.cumsum(n) - n
    flat = np.empty(int(n.sum()), dtype=np.int64)
    flat[np.repeat(offsets[r], nr) + within] = positions
    for i in np.flatnonzero(~regular).tolist():
        value = data[int(start[i]) : int(stop[i])]
        flat[offsets[i] : offsets[i] + n[i]] = _positions(value)
    return n, flat


def member(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """A boolean mask over ``needles``: True where the value is in ``haystack`` (sorted)."""
    if not len(haystack) or not len(needles):
        return np.zeros(len(needles), dtype=bool)
    n, h = len(needles), len(haystack)
    if n >= _MEMBER_BITMAP_FROM and haystack[0] >= 0:
        # Many needles: a flag per docnum up to the largest is cheaper than a binary search
        # a needle (a common word's 300 k docnums against another's: 1 ms against 10 ms).
        low, top = int(needles.min()), max(int(needles.max()), int(haystack[-1]))
        if low >= 0 and n * h.bit_length() > (top >> 5) + h + n:
            flags = np.zeros(top + 1, dtype=bool)
            flags[haystack] = True
            return flags[needles]
    at = np.searchsorted(haystack, needles)
    at[at == len(haystack)] = 0
    return haystack[at] == needles


def _kept(mask: np.ndarray) -> np.ndarray:
    """The indices where ``mask`` is true: to take from several arrays (or one long one),
    one ``flatnonzero`` and a ``take`` each cost a third of a boolean index each (numpy 2.4,
    250 k elements: 0.2 + 0.2 ms against 0.85 ms)."""
    return np.flatnonzero(mask)


def _store_layouts(table: np.ndarray, at, layout: np.ndarray) -> None:
    """Put block layouts in the rows ``at`` of a heads table (``SegmentTable.postings``).
    Their first column says a row is known, so it is written last: another thread may be
    reading the same table."""
    table[at, 6:] = layout[:, 1:]
    table[at, 5] = layout[:, 0]


def _keep_layouts(tables: list[np.ndarray], rows: np.ndarray, firsts: np.ndarray) -> None:
    """Copy the block layouts found in ``rows`` (``tables`` one after another, each from
    ``firsts``) back to the tables kept with the heads."""
    for table, first in zip(tables, firsts.tolist(), strict=True):
        found = rows[first : first + len(table), 5:]
        if (table[:, 5] < 0).any() and (found[:, 0] >= 0).any():
            _store_layouts(table, slice(None), found)


def _and(a: Hits, b: Hits) -> Hits:
    """Docnums in both, with summed scores."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return Hits.empty()
    at = np.searchsorted(b.ids, a.ids)
    at[at == len(b.ids)] = 0
    keep = _kept(b.ids[at] == a.ids)
    return Hits(a.ids[keep], a.scores[keep] + b.scores[at[keep]])


def _or(parts: list[Hits]) -> Hits:
    """Docnums in any, with summed scores."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Hits.empty()
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p.ids for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    return _union(ids, scores, len(parts))


def _union(ids: np.ndarray, scores: np.ndarray, parts: int) -> Hits:
    """``_or`` of parts given one after another in ``ids`` and ``scores`` (each part's ids
    sorted and unique)."""
    if parts < 2 or not len(ids):
        return Hits(ids, scores)
    lo, hi = int(ids.min()), int(ids.max()) + 1
    if hi - lo <= 8 * len(ids):
        # Dense (a prefix's 64 words over much of a segment): a flag and a sum per docnum
        # of the span, no sort; sums are added in the parts' order, as ``bincount`` does.
        present = np.zeros(hi - lo, dtype=bool)
        present[ids - lo] = True
        at = np.flatnonzero(present)
        sums = np.bincount(ids - lo, weights=scores, minlength=hi - lo)[at]
        return Hits(at + lo, sums)
    # Sparse: a stable sort of the sorted runs merges them; equal docnums keep the parts'
    # order, and ``_sum_sorted`` adds them in that order, as ``bincount`` does. The stable
    # order is one plain sort of (docnum, place) packed in an int64 (docnums and places are
    # below 2**31): numpy's SIMD sort of plain keys took 5 ms for a prefix's 250 k postings
    # in one segment, where ``argsort(kind="stable")`` (a timsort of indices) took 16-23 ms.
    order = np.sort((ids << 32) | np.arange(len(ids), dtype=np.int64))
    ids = order >> 32
    order &= 0xFFFFFFFF
    return _sum_sorted(ids, scores.take(order))


def _sum_sorted(ids: np.ndarray, scores: np.ndarray) -> Hits:
    """Sorted docnums, repeated where several words match one, made unique with their
    scores summed one after another in the given order (as ``bincount`` sums; ``add.reduceat``
    adds a run's first score to the pairwise sum of the others, which for three words can
    differ in the last bit). The repeats are few (a document with two forms of a prefix):
    the first score of each docnum, then the repeats added in place."""
    if len(ids) < 2:
        return Hits(ids, scores)
    new = np.empty(len(ids), dtype=bool)
    new[0] = True
    np.not_equal(ids[1:], ids[:-1], out=new[1:])
    repeats = np.flatnonzero(~new)
    if not len(repeats):
        return Hits(ids, scores)
    first = np.flatnonzero(new)
    sums = scores.take(first)
    # the k-th repeat, at place p, belongs to the (p - k - 1)-th docnum
    owner = repeats - np.arange(1, len(repeats) + 1)
    np.add.at(sums, owner, scores.take(repeats))
    return Hits(ids.take(first), sums)


def _scored_union(ids, weights, sizes, tops, allowed, lengths, norm) -> Hits:
    """``_or`` of several words' postings given one after another (``ids`` and uint8 term
    frequencies ``weights``; ``sizes`` postings a word, ``tops`` each word's BM25 factor),
    scored as ``_bm25`` scores them and filtered by ``allowed`` (a flag per docnum, or
    ``None``): the same docnums and, bit for bit, the same scores as scoring each word and
    ``_union``.

    Each posting is one key, (docnum, word, frequency), and one sort of the keys both
    merges the words and puts each docnum's postings in the words' order (the order
    ``_union`` sums in); scoring after the sort needs no permutation of the scores. The
    key is 32 bits when the numbers fit (docnums from the smallest: a 6 M-document
    segment's 23 bits, 64 words' 6, frequencies up to 7 in 3), which numpy sorts twice as
    fast as 64-bit keys; else 64 bits."""
    word_bits = max(1, (len(sizes) - 1).bit_length())
    key_type = np.uint32 if word_bits <= 8 else np.int64
    word = np.repeat(np.arange(len(sizes), dtype=key_type), sizes)
    if allowed is not None and len(ids):
        keep = allowed[ids]
        if not keep.all():
            keep = _kept(keep)
            ids, weights, word = ids.take(keep), weights.take(keep), word.take(keep)
    if not len(ids):
        return Hits.empty()
    lo = int(ids.min())
    weight_bits = int(weights.max()).bit_length()
    low_bits = word_bits + weight_bits
    if key_type is np.uint32 and (int(ids.max()) - lo).bit_length() + low_bits <= 32:
        key = ids - lo
        key = key.astype(np.uint32)
    else:
        key, word, lo = ids.copy(), word.astype(np.int64), 0
    key <<= low_bits
    word <<= weight_bits
    key |= word
    key |= weights
    key.sort()
    ids = (key >> low_bits).astype(np.int64)
    if lo:
        ids += lo
    word = key >> weight_bits
    word &= (1 << word_bits) - 1
    key &= (1 << weight_bits) - 1
    weights = key.astype(np.float64)
    # (``_bm25``'s top * weights / (weights + norm), in that order: the same scores)
    scores = tops[word]
    scores *= weights
    below = norm[lengths[ids]]
    below += weights
    scores /= below
    return _sum_sorted(ids, scores)


def in_ranges(ids: np.ndarray, starts, ends) -> np.ndarray:
    """A boolean mask over ``ids``: True inside one of the [start, end) ranges (sorted;
    lists or arrays)."""
    if not len(starts) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    if len(starts) == 1:
        return (ids >= starts[0]) & (ids < ends[0])
    starts_a = np.asarray(starts, dtype=np.int64)
    ends_a = np.asarray(ends, dtype=np.int64)
    at = np.searchsorted(starts_a, ids, side="right") - 1
    return (at >= 0) & (ids < ends_a[np.maximum(at, 0)])


_DELETED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _deleted(reader) -> tuple[np.ndarray, np.ndarray]:
    """A reader's deleted docnums as sorted runs [start, end) (a reader's deletions never
    change; they are whole interviews replaced or removed, so few runs): whether a match is
    deleted is then a binary search over the runs, not over every deleted docnum."""
    found = _DELETED.get(reader)
    if found is None:
        deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
        deleted.sort()
        breaks = np.flatnonzero(np.diff(deleted) != 1) + 1
        starts = deleted[np.concatenate(([0], breaks))] if len(deleted) else deleted
        ends = (
            deleted[np.concatenate((breaks - 1, [len(deleted) - 1]))] + 1
            if len(deleted)
            else deleted
        )
        found = _DELETED[reader] = (starts, ends)
    return found


class SegmentEvaluator:
    """One query over one segment (``matches``); ``stats`` (idf, length norms) is shared by
    the segments of one query."""

    def __init__(self, parent, sub, table: SegmentTable, language, stats=None) -> None:
        self.parent = parent  # the top searcher: global statistics
        self.language = language  # schema.Language: stop words, body forms
        self.stopwords = language.stopwords
        # idf per (field, term) and length norms per field, shared by a query's segments
        self.stats = {} if stats is None else stats
        self.sub = sub
        self.reader = sub.reader()
        self.table = table
        # While an And's access restriction is being applied at the leaves: a byte per
        # docnum, 1 where the scope may read (see ``and_``), and the same bytes for numpy.
        self.allowed: bytearray | None = None
        self._allowed_np: np.ndarray | None = None
        # The docnum ranges the mask was made of ((starts, ends) arrays, one pair per
        # restriction or filter: the mask is within each), when known: which blocks hold
        # none of it is then two binary searches for all of them (``_chosen_blocks``).
        self._allowed_ranges: list[tuple[np.ndarray, np.ndarray]] | None = None

    def _set_allowed(self, mask: bytearray | None, ranges: list | None = None) -> None:
        self.allowed = mask
        self._allowed_ranges = ranges
        self._allowed_np = None if mask is None else np.frombuffer(mask, dtype=np.bool_)

    # ------------------------------------------------------------ leaves

    def _variable_values(self, fieldname: str) -> bool:
        """The field's posting values are stored as they are (positions), not cut into fixed
        sizes (``wi.read_block`` returns them as pickled)."""
        size = self.parent.schema[fieldname].format.fixed_value_size()
        return size is None or size < 0

    def _lengths(self, fieldname: str) -> np.ndarray:
        cache = self.table.lengths
        found = cache.get(fieldname)
        if found is None:
            lenfield = wi.length_field(fieldname)
            doccount = self.reader.doc_count_all()
            found = np.zeros(doccount, dtype=np.uint8)
            stored = wi.field_lengths(self.reader, lenfield)
            if stored is not None:
                found[: len(stored)] = np.frombuffer(stored, dtype=np.uint8)[:doccount]
            cache[fieldname] = found
        return found

    def postings(
        self,
        fieldname: str,
        text,
        values: bool = False,
        scored: bool = True,
        only: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, _Values | None]:
        """Every (docnum, weight[, encoded value]) of a term in this segment, *including*
        deleted documents (``matches`` drops them once at the end); no weights unless
        ``scored``. Reads whole posting blocks (ids are delta-coded within a block, the first
        absolute); with ``only`` (sorted docnums), skips the blocks that hold none of them
        without decoding; with an access mask set, skips the blocks it excludes entirely."""
        found = m = None
        try:
            if not values or self._variable_values(fieldname):
                found = self.table.postings(self.reader, fieldname, text)
            if found is None:
                m = self.reader.postings(fieldname, text)
        except TermNotFound:
            return _NO_IDS, _NO_SCORES if scored else None, _Values() if values else None
        if isinstance(m, FilterMatcher):
            m = m.child  # deleted documents are removed once, from the final result (run)
        vals = _Values() if values else None
        if found is not None and found[0] is None:  # a few postings, inline in the term info
            m_ids, m_weights, m_values = found[1]
            ids = np.asarray(m_ids, dtype=np.int64)
            weights = np.asarray(m_weights, dtype=np.float64) if scored else None
            if values:
                vals.parts.append(list(m_values) if m_values is not None else [b""] * len(ids))
        elif found is not None:
            end, table = found
            chosen = self._chosen_blocks(table, only)
            if not len(chosen):
                return _NO_IDS, _NO_SCORES if scored else None, vals
            read = None
            if len(chosen) >= READ_AT_ONCE_FROM:
                read = self._read_blocks(table, chosen, values)
                if read is not None:
                    ids, found_weights, found_values = read
                    if values:
                        vals.parts.extend(found_values)
            if read is None:
                ids, found_weights = self._read_blocks_one_by_one(
                    table[chosen, :5].tolist(), end, values, scored, vals
                )
            weights = np.asarray(found_weights, dtype=np.float64) if scored else None
        elif isinstance(m, ListMatcher):
            m_ids, m_weights, m_all_weights, m_values = wi.list_postings(m)
            ids = np.asarray(m_ids, dtype=np.int64)
            if not scored:
                weights = None
            elif m_weights is not None:
                weights = np.asarray(m_weights, dtype=np.float64)
            else:
                weights = np.full(len(ids), m_all_weights or 1.0, dtype=np.float64)
            if values:
                vals.parts.append(list(m_values) if m_values is not None else [b""] * len(ids))
        else:  # pragma: no cover - other codecs
            id_list, weight_list, value_list = [], [], []
            while m.is_active():
                id_list.append(m.id())
                weight_list.append(m.weight())
                if values:
                    value_list.append(m.value())
                m.next()
            if values:
                vals.parts.append(value_list)
            ids = np.asarray(id_list, dtype=np.int64)
            weights = np.asarray(weight_list, dtype=np.float64) if scored else None
        if self._allowed_np is not None and len(ids):
            keep = self._allowed_np[ids]
            if not keep.all():
                if vals is not None:
                    vals.keep(keep)
                keep = _kept(keep)
                ids = ids[keep]
                if weights is not None:
                    weights = weights[keep]
        return ids, weights, vals

    def _chosen_blocks(
        self, table: np.ndarray, only: np.ndarray | None, firsts: np.ndarray | None = None
    ) -> np.ndarray:
        """The blocks of a posting list (its heads, ``table``; or of several, one after
        another, the first block of each at ``firsts``) to read, as indices: not those that
        hold none of ``only`` (sorted docnums), nor, without ``only``, those whose docnums
        the access mask excludes entirely."""
        maxes = table[:, 1]
        lows = np.empty_like(maxes)  # the first docnum each block can hold
        lows[0] = 0
        lows[1:] = maxes[:-1] + 1
        if firsts is not None:
            lows[firsts] = 0
        if only is not None:
            if not len(only):
                return _NO_IDS
            at = np.searchsorted(only, lows)
            inside = at < len(only)
            inside[inside] = only[at[inside]] <= maxes[inside]
            return np.flatnonzero(inside)
        allowed = self.allowed
        if allowed is None:
            return np.arange(len(table))
        if self._allowed_ranges is not None:
            # A block holds some of the mask only if it meets a range of each set the mask
            # was made of (it may still hold none: its postings are filtered anyway).
            keep = np.ones(len(table), dtype=bool)
            for starts, ends in self._allowed_ranges:
                at = np.searchsorted(ends, lows, side="right")  # the first range ending past lo
                inside = at < len(ends)
                inside[inside] = starts[at[inside]] <= maxes[inside]
                keep &= inside
            return np.flatnonzero(keep)
        find = allowed.find
        keep = [
            i
            for i, (lo, hi) in enumerate(zip(lows.tolist(), maxes.tolist(), strict=True))
            if find(1, lo, hi + 1) >= 0
        ]
        return np.asarray(keep, dtype=np.int64)

    def _read_blocks(self, table: np.ndarray, chosen: np.ndarray, values: bool = False):
        """(docnums, term frequencies as uint8, each block's ``DeflatedValues`` if ``values``
        else ``None``) of the blocks ``chosen`` (indices of ``table``'s rows: the table of a
        posting list from ``SegmentTable.postings``, or several lists' one after another; in
        docnum order within each list): runs of neighbouring blocks read in one call each,
        all blocks decoded at once (``codec.decode_blocks``). Blocks read for the first time
        have their layout found (``codec.block_layouts``) and kept in ``table``. ``None``
        when a block is compressed or not in the usual form (the caller reads them one by
        one)."""
        rows = table[chosen]
        if rows[:, 2].any():
            return None
        # Runs of blocks at most READ_GAP bytes apart (a phrase's candidate blocks may be few
        # in a long list of positions; a prefix's words' lists follow one another): one
        # read each.
        gaps = rows[1:, 3] - rows[:-1, 4]
        bounds = [0, *(np.flatnonzero((gaps < 0) | (gaps > READ_GAP)) + 1).tolist(), len(rows)]
        postfile = wi.postings_file(self.reader)
        chunks: list = []
        shift = np.empty(len(rows), dtype=np.int64)  # file offset -> offset in the buffer
        at = 0
        for lo, hi in pairwise(bounds):
            first, last = int(rows[lo, 3]), int(rows[hi - 1, 4])
            chunks.append(postfile.get(first, last - first))
            shift[lo:hi] = at - first
            at += last - first
        buf = np.frombuffer(b"".join(chunks) if len(chunks) > 1 else chunks[0], np.uint8)
        begin = rows[:, 3] + shift
        counts = rows[:, 0]
        layout = rows[:, 5:]
        if (layout[:, 0] < 0).any():  # blocks read for the first time
            layout = block_layouts(buf, begin, rows[:, 4] + shift, counts)
            if layout is None:
                return None
            _store_layouts(table, chosen, layout)  # kept for the next query
        found_values = None
        if values:
            found_values = deflated_values(buf, begin, counts, layout)
            if found_values is None:
                return None
        deltas, weights = decode_blocks(buf, begin, counts, layout)
        # Each block's first id is absolute, the others deltas: the first becomes a delta
        # from the last docnum of the block before it (whatever list that block is of), so
        # one running sum gives every docnum.
        block_starts = np.cumsum(counts) - counts
        deltas[block_starts[1:]] -= rows[:-1, 1]
        return np.cumsum(deltas), weights, found_values

    def _read_blocks_one_by_one(self, chosen: list, end: int, values: bool, scored: bool, vals):
        """``_read_blocks`` of one posting list, one block at a time, for any block form:
        (docnums, weights or ``None`` when not ``scored``); with ``values``, each block's
        encoded values are added to ``vals``."""
        id_parts: list = []
        weight_parts: list = []
        block_starts: list[int] = []
        total = 0
        postfile = wi.postings_file(self.reader)
        for head, raw in zip(chosen, wi.block_data(postfile, chosen, end), strict=True):
            n = head[0]
            block_starts.append(total)
            total += n
            fast = None if values or head[2] else ids_and_frequencies(raw)
            if fast is not None:  # the usual block, read without unpickling
                id_parts.append(fast[0])
                if scored:
                    weight_parts.append(np.ones(n) if fast[1] is None else fast[1])
                continue
            data = wi.block_payload(raw, head[2])
            id_parts.append(_block_array(data[0]))
            if scored:
                w = data[1]  # None: every weight is 1; a float: all the same; else many
                if w is None or isinstance(w, float):
                    weight_parts.append(np.full(n, 1.0 if w is None else w))
                else:
                    weight_parts.append(_block_array(w))
            if values:
                vals.parts.append(data[2])
        deltas = np.concatenate(id_parts, dtype=np.int64)
        if len(block_starts) > 1:  # (as in ``_read_blocks``)
            deltas[block_starts[1:]] -= np.asarray([h[1] for h in chosen[:-1]], dtype=np.int64)
        weights = np.concatenate(weight_parts, dtype=np.float64) if scored else None
        return np.cumsum(deltas), weights

    def _admit(self, found: Hits) -> Hits:
        """``found`` without what the access restriction being applied excludes."""
        if self._allowed_np is None or not len(found):
            return found
        return found.take(self._allowed_np[found.ids])

    def _bm25(self, fieldname: str, text, ids, weights, boost: float = 1.0) -> Hits:
        field = self.parent.schema[fieldname]
        if not field.scorable:
            return Hits.constant(ids)
        top = self._bm25_top(fieldname, text, boost)
        norm = self._norm(fieldname)
        lengths = self._lengths(fieldname)
        return Hits(ids, top * weights / (weights + norm[lengths[ids]]))

    def _bm25_top(self, fieldname: str, text, boost: float) -> float:
        """BM25F's numerator factor of a word: its idf (kept per query) times boost, K1 + 1."""
        stats = self.stats
        idf = stats.get((fieldname, text))
        if idf is None:
            idf = stats[(fieldname, text)] = self.parent.idf(fieldname, text)
        idf *= boost
        return idf * (K1 + 1)

    def _norm(self, fieldname: str) -> np.ndarray:
        """BM25F's length normalisation per length byte (kept per query)."""
        stats = self.stats
        norm = stats.get(fieldname)
        if norm is None:
            avgfl = self.parent.avg_field_length(fieldname) or 1.0
            norm = stats[fieldname] = K1 * ((1 - B) + B * _LENGTHS / avgfl)
        return norm

    def phrase(self, q: wq.Phrase, candidates: Hits | None) -> Hits | None:
        """Words at consecutive positions. Stop words in the phrase only hold a position
        ("the general strike" = general, strike with one word before it), as in Lucene;
        ``None`` if the phrase has no other word (the caller falls back to whoosh)."""
        stop = self.stopwords
        words = list(q.words)
        content = [(i, w) for i, w in enumerate(words) if w not in stop]
        if not content:
            return None
        fieldname = q.fieldname
        # The words' postings rarest first, each read only in the blocks that hold the
        # documents every word before it has; their positions are inflated later, only for
        # the documents every word has. (Candidates first from ``body``'s stems, a superset,
        # read the stems' lists as well: "the general strike" took 41 ms, now 36.)
        docs: np.ndarray | None = candidates.ids if candidates is not None else None
        lists = []
        frequency = self.reader.doc_frequency
        for offset, word in sorted(content, key=lambda item: frequency(fieldname, item[1])):
            ids, weights, vals = self.postings(fieldname, word, values=True, only=docs)
            if not len(ids):
                return Hits.empty()
            lists.append((offset, word, ids, weights, vals))
            docs = ids if docs is None else docs[member(ids, docs)]
            if not len(docs):
                return Hits.empty()
        lists.sort(key=lambda item: len(item[2]))
        # Positions, only for the postings of documents every word shares, as one sorted
        # int64 key a position: (docnum, where the phrase would start). A key is in every
        # word's keys where the words stand at consecutive places.
        bias = max(offset for offset, _, _, _, _ in lists)  # a start may fall before 0
        keys: np.ndarray | None = None
        for offset, _, ids, _, vals in lists:
            keep = member(docs, ids)
            counts, flat = vals.positions(keep)
            here = np.repeat(ids[keep], counts) * _STRIDE + (flat + (bias - offset))
            keys = here if keys is None else keys[member(here, keys)]
            if not len(keys):
                return Hits.empty()
        owners = keys // _STRIDE
        found = owners[np.concatenate(([True], owners[1:] != owners[:-1]))]
        scores = np.zeros(len(found), dtype=np.float64)
        for _, word, ids, weights, _ in lists:
            keep = _kept(member(found, ids))
            scores += self._bm25(fieldname, word, ids[keep], weights[keep]).scores
        return Hits(found, scores)

    def term(self, q: wq.Term, candidates: Hits | None = None) -> Hits:
        only = candidates.ids if candidates is not None else None
        if not self._scored(q):
            ids, _, _ = self.postings(q.fieldname, q.text, scored=False, only=only)
            hits = Hits.constant(ids)
            return hits.within(only) if only is not None else hits
        ids, weights, _ = self.postings(q.fieldname, q.text, only=only)
        if not len(ids):
            return Hits.empty()
        if only is not None and len(only) < len(ids):
            # Score only what the rest of an And kept.
            keep = _kept(member(only, ids))
            ids, weights = ids[keep], weights[keep]
        return self._bm25(q.fieldname, q.text, ids, weights, q.boost)

    def words_or(self, words: list) -> Hits | None:
        """An Or of scored words of one field (a prefix's or a fuzzy word's expansions, a
        word's forms), as ``_or`` of each word's ``term`` gives it, with their blocks read
        and decoded together (``_read_blocks``): a prefix's 64 words are mostly rare, and
        one decoding call per word cost more than the decoding. ``None`` for anything else,
        or blocks not in the usual form (the caller takes each word on its own)."""
        if len(words) < 2 or not all(isinstance(q, wq.Term) for q in words):
            return None
        fieldname = words[0].fieldname
        if any(q.fieldname != fieldname for q in words) or not self._scored(words[0]):
            return None
        scored: list = []  # the words found, and their blocks' tables
        tables: list[np.ndarray] = []
        for q in words:
            try:
                found = self.table.postings(self.reader, fieldname, q.text)
            except TermNotFound:
                continue
            if found is None or found[0] is None:
                # another reader, or postings inline in the term info (a codec with an
                # ``inlinelimit`` over 1: not this one's): each word on its own
                return None
            scored.append(q)
            tables.append(found[1])
        if not tables:
            return Hits.empty()
        # All the words' blocks as one table (a list's first block starts from docnum 0): one
        # choice, one read plan and one decoding for them all.
        rows = np.concatenate(tables) if len(tables) > 1 else tables[0]
        sizes = np.fromiter(map(len, tables), dtype=np.int64, count=len(tables))
        firsts = np.cumsum(sizes) - sizes
        chosen = self._chosen_blocks(rows, None, firsts)
        if not len(chosen):
            return Hits.empty()
        fresh = rows is not tables[0] and bool((rows[chosen, 5] < 0).any())
        read = self._read_blocks(rows, chosen)
        if read is None:
            return None
        ids, weights, _ = read
        if fresh:  # layouts found in the copy: kept in the words' own tables
            _keep_layouts(tables, rows, firsts)
        # postings read per word
        owner = np.searchsorted(firsts, chosen, side="right") - 1
        per_word = np.bincount(owner, weights=rows[chosen, 0], minlength=len(tables))
        tops = np.array([self._bm25_top(fieldname, q.text, q.boost) for q in scored])
        return _scored_union(
            ids,
            weights,
            per_word.astype(np.int64),
            tops,
            self._allowed_np,
            self._lengths(fieldname),
            self._norm(fieldname),
        )

    def _scored(self, q: wq.Term) -> bool:
        return self.parent.schema[q.fieldname].scorable and q.fieldname not in UNSCORED

    def _words_and(self, words: list) -> Hits:
        """And of terms (rarest first): docnums in every one, with their summed scores."""
        lists = []
        common: np.ndarray | None = None
        for q in words:
            scored = self._scored(q)
            ids, weights, _ = self.postings(q.fieldname, q.text, scored=scored, only=common)
            common = ids if common is None else common[member(ids, common)]
            if not len(common):
                return Hits.empty()
            lists.append((q, scored, ids, weights))
        scores = np.zeros(len(common), dtype=np.float64)
        for q, scored, ids, weights in lists:
            if not scored:
                continue
            if len(ids) != len(common):
                keep = _kept(member(common, ids))
                ids, weights = ids[keep], weights[keep]
            scores += self._bm25(q.fieldname, q.text, ids, weights, q.boost).scores
        return Hits(common, scores)

    def estimate(self, q) -> int:
        """Roughly how many documents of this segment ``q`` matches (for ordering an And)."""
        if isinstance(q, wq.Term):
            return self.reader.doc_frequency(q.fieldname, q.text)
        if isinstance(q, wq.Or):
            return sum(self.estimate(sub) for sub in q.subqueries)
        if isinstance(q, wq.And):
            return min((self.estimate(sub) for sub in q.subqueries), default=0)
        if isinstance(q, wq.AndNot):
            return self.estimate(q.a)
        if isinstance(q, wq.Phrase):
            return min((self.reader.doc_frequency(q.fieldname, w) for w in q.words), default=0)
        return self.reader.doc_count_all()

    def fallback(self, q, candidates: Hits | None = None) -> Hits:
        """Any other node through its whoosh matcher (phrases, numeric ranges ...)."""
        m = q.matcher(self.sub)
        ids: list[int] = []
        scores: list[float] = []
        if candidates is not None:
            for d in candidates.ids.tolist():
                if not m.is_active():
                    break
                if m.id() < d:
                    m.skip_to(d)
                    if not m.is_active():
                        break
                if m.id() == d:
                    ids.append(d)
                    scores.append(m.score())
        else:
            while m.is_active():
                ids.append(m.id())
                scores.append(m.score())
                m.next()
        return Hits(np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float64))

    def numeric(self, q: wq.NumericRange, candidates: Hits | None) -> Hits | None:
        """A numeric range (``year:1956..1960``) from the postings of the terms it covers:
        whoosh compiles it to term ranges at a few precisions, whose union matches, at the
        range's constant score. ``None`` for anything else it compiles to (the caller falls
        back to whoosh's matcher)."""
        compiled = wi.compile_query(q, self.reader)
        if isinstance(compiled, wi.NullQuery):
            return Hits.empty()
        score = 0.0
        if isinstance(compiled, wq.ConstantScoreQuery):
            score, compiled = compiled.score, compiled.child
        parts = compiled.subqueries if isinstance(compiled, wq.Or) else [compiled]
        only = candidates.ids if candidates is not None else None
        ids = []
        for part in parts:
            if isinstance(part, wq.Term):
                texts = [part.text]
            elif isinstance(part, wq.TermRange):
                texts = wi.range_texts(part, self.reader)
            else:
                return None
            ids += [self.postings(q.fieldname, t, scored=False, only=only)[0] for t in texts]
        if not ids:
            return Hits.empty()
        return Hits.constant(np.unique(np.concatenate(ids)), score)

    def _speaker_terms(self, name: str) -> frozenset[str]:
        """The ``speaker_key`` terms a speaker's name was indexed as (schema.index_fields)."""
        field = self.parent.schema["speaker_key"]
        return frozenset(field.process_text(fold(name), mode="index"))

    def ranges(self, q: _RangeQuery) -> tuple[list[int], list[int]]:
        return q._ranges(self.reader)

    # ------------------------------------------------------------ nodes

    def matches(self, q) -> Hits:
        """Every live document of this segment matching ``q``, with its score."""
        found = self.run(q)
        if len(found) and self.reader.has_deletions():
            starts, ends = _deleted(self.reader)
            found = found.take(~in_ranges(found.ids, starts, ends))
        return found

    def run(self, q, candidates: Hits | None = None) -> Hits:
        """Matches of ``q`` (restricted to ``candidates`` when given: an And's other side)."""
        if isinstance(q, wi.NullQuery):
            return Hits.empty()
        if isinstance(q, wq.Term):
            found = self.term(q, candidates)
        elif isinstance(q, wq.And):
            found = self.and_(q.subqueries, candidates)
        elif (speakers := _speaker_filter(q)) is not None:
            docs = self.table.speaker_docs(speakers, self._speaker_terms)
            if candidates is not None:
                return Hits.constant(candidates.ids[member(docs, candidates.ids)])
            found = self._admit(Hits.constant(docs))
        elif isinstance(q, wq.Or):
            found = self.words_or(q.subqueries) if candidates is None else None
            if found is None:
                found = _or([self.run(sub, candidates) for sub in q.subqueries])
        elif isinstance(q, wq.AndNot):
            found = self.run(q.a, candidates)
            if len(found):
                found = found.take(~member(self.run(q.b, found).ids, found.ids))
        elif isinstance(q, _RangeQuery):
            starts, ends = self.ranges(q)
            if candidates is not None:
                return Hits.constant(candidates.ids[in_ranges(candidates.ids, starts, ends)])
            if not starts:
                return Hits.empty()
            found = self._admit(
                Hits.constant(
                    np.concatenate(
                        [np.arange(s, e, dtype=np.int64) for s, e in zip(starts, ends, strict=True)]
                    )
                )
            )
        else:
            found = None
            if isinstance(q, wq.Phrase):
                found = self.phrase(q, candidates)
            elif isinstance(q, wq.NumericRange):
                found = self.numeric(q, candidates)
            if found is None:  # anything else: whoosh's own matcher
                if candidates is not None:
                    return self.fallback(q, candidates)
                found = self._admit(self.fallback(q))
        if candidates is not None:
            return found.within(candidates.ids)
        return found

    def and_(self, subqueries, candidates: Hits | None) -> Hits:
        if candidates is None and len(subqueries) > 1:
            # Docnum ranges (the access restriction, interview and kind filters) become a
            # byte mask applied where postings are read: blocks outside it are not decoded,
            # and nothing it excludes is scored or merged.
            ranges = [q for q in subqueries if isinstance(q, _RangeQuery)]
            rest = [q for q in subqueries if not isinstance(q, _RangeQuery)]
            if ranges and rest:
                ranges.sort(key=lambda q: not isinstance(q, AccessRestriction))
                mask = self.allowed
                within = None if mask is not None else []
                for q in ranges:
                    starts, ends = self.ranges(q)
                    if not starts:
                        return Hits.empty()
                    if within is not None:
                        within.append((np.asarray(starts), np.asarray(ends)))
                    if mask is None and isinstance(q, AccessRestriction):
                        n = self.reader.doc_count_all()
                        mask = self.table.full_mask(starts, ends, n)  # cached per scope
                    else:
                        mask = _narrow(mask, starts, ends, self.reader.doc_count_all())
                saved = self.allowed, self._allowed_ranges
                self._set_allowed(mask, within)
                try:
                    return self.and_(rest, None)
                finally:
                    self._set_allowed(*saved)

        # Word parts first, the most selective first; then ranges (a binary search over
        # the candidates so far: cheap, and they can only narrow); then phrases and numeric
        # ranges, verified on what is left (a numeric range goes through whoosh's matcher,
        # one candidate at a time). With no candidates yet, ranges come last: alone they
        # would list every docnum they cover.
        def cost(q) -> tuple[int, int]:
            if isinstance(q, _RangeQuery):
                return (1, 0) if candidates is not None else (4, 0)
            if isinstance(q, wq.NumericRange):
                return (3, 0)
            return (2 if isinstance(q, wq.Phrase) else 0, self.estimate(q))

        # (One part needs no order: estimating a prefix's 64 words costs 64 look-ups.)
        ordered = sorted(subqueries, key=cost) if len(subqueries) > 1 else list(subqueries)
        scores = candidates
        first = True
        words = [q for q in ordered if isinstance(q, wq.Term)]
        if candidates is None and len(words) > 1:
            # Several words: intersect their docnums first (the rarest word's decides which
            # blocks of the others are read), then score each word only on what they share,
            # not a common word's every posting.
            scores = self._words_and(words)
            if not len(scores):
                return Hits.empty()
            ordered = [q for q in ordered if not isinstance(q, wq.Term)]
            first = False
        for sub in ordered:
            if scores is not None and not len(scores):
                return Hits.empty()
            if isinstance(sub, _RangeQuery) and scores is not None:
                starts, ends = self.ranges(sub)
                scores = scores.take(in_ranges(scores.ids, starts, ends))
                continue
            found = self.run(sub, scores)
            scores = found if first and candidates is None else _and(scores, found)
            first = False
        return scores if scores is not None else Hits.empty()


def _speaker_filter(q) -> frozenset[str] | None:
    """The names of a speaker filter (a ``speaker_key`` term, or an Or of them: what
    ``speaker:`` compiles to), evaluated from the speaker column instead of their postings."""
    subs = q.subqueries if isinstance(q, wq.Or) else (q,)
    if subs and all(isinstance(s, wq.Term) and s.fieldname == "speaker_key" for s in subs):
        return frozenset(s.text for s in subs)
    return None


def _narrow(mask: bytearray | None, starts: list[int], ends: list[int], n: int) -> bytearray:
    """A new mask of ``n`` docnums: ``mask`` (everything if ``None``) within the ranges."""
    out = bytearray(n)
    for start, end in zip(starts, ends, strict=True):
        out[start:end] = b"\x01" * (end - start) if mask is None else mask[start:end]
    return out


def _positions(value: bytes) -> list[int]:
    """Decode a ``Positions`` posting value (whoosh's format: a count, then pickled deltas)."""
    body = value[4:]
    if not body.endswith(b"."):
        body += b"."
    return list(accumulate(loads(body)))
