"""Evaluate a compiled query over one index segment, all matches at once.

A results page needs every match (totals, groups, facets), not the top ten, and whoosh's
matchers cost tens of microseconds per match in Python (``next()``, ``skip_to()`` walking a
block one posting at a time, a column read per BM25 score): 20,000 matches of a common word
took ~0.5 s. Here a term's posting list is read block by block (reading whoosh's W3 block
format directly), scored with BM25F from the bulk-loaded length column (the same formula and
statistics as whoosh's ``BM25F``), and boolean nodes are dict operations. The access
restriction, ``kind:`` and interview filters are docnum ranges, applied with a cached byte mask
or a binary search; the access restriction of a top-level And is applied where postings are
read (nothing it excludes is scored), and an And of words intersects docnums before scoring.
Phrases take candidates from the cheap ``body`` postings and read
positions only in the ``exact`` blocks that hold candidates. Anything else (numeric ranges,
a phrase of stop words only) goes through the node's own whoosh matcher.

Deleted documents are dropped once, from a segment's final result (``matches``).
"""

from __future__ import annotations

import bisect
from array import array
from itertools import accumulate, compress
from pickle import loads

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import FilterMatcher, ListMatcher
from whoosh.query.qcore import _NullQuery
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from .restriction import AccessRestriction, SegmentTable, _RangeQuery

B = 0.75
K1 = 1.2
_LENGTHS = [byte_to_length(b) for b in range(256)]

Scores = dict  # docnum (in the segment) -> score
# Filters, not words: they narrow without changing relevance.
UNSCORED = frozenset({"speaker_key"})


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
        # docnum, 1 where the scope may read (see ``and_``).
        self.allowed: bytearray | None = None

    # ------------------------------------------------------------ leaves

    def _lengths(self, fieldname: str) -> array:
        cache = self.table.lengths
        found = cache.get(fieldname)
        if found is None:
            perdoc = self.reader._perdoc
            lenfield = _lenfield(fieldname)
            doccount = self.reader.doc_count_all()
            if perdoc.has_column(lenfield):
                cr = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
                found = cr._dbfile.get_array(cr._basepos, "B", cr._count)
            else:
                found = array("B")
            if len(found) < doccount:
                found.extend(bytes(doccount - len(found)))
            cache[fieldname] = found
        return found

    def postings(
        self,
        fieldname: str,
        text,
        values: bool = False,
        scored: bool = True,
        only: list[int] | None = None,
    ) -> tuple[list[int], list[float], list | None]:
        """Every (docnum, weight[, encoded value]) of a term in this segment, *including*
        deleted documents (``matches`` drops them once at the end); no weights unless
        ``scored``. Reads whole posting blocks (ids are delta-coded: ``accumulate``); with
        ``only`` (sorted docnums), skips the blocks that hold none of them without decoding."""
        try:
            m = self.reader.postings(fieldname, text)
        except TermNotFound:
            return [], [], [] if values else None
        if isinstance(m, FilterMatcher):
            m = m.child  # deleted documents are removed once, from the final result (run)
        ids: list[int] = []
        weights: list[float] = []
        vals: list | None = [] if values else None
        if isinstance(m, W3LeafMatcher) and not m._byteids:
            previous_max = -1
            allowed = self.allowed
            while True:
                if only is not None:
                    i = bisect.bisect_right(only, previous_max)
                    previous_max = m._maxid
                    if i == len(only):
                        break
                    skip = only[i] > previous_max
                elif allowed is not None:
                    # A block whose docnums the restriction excludes entirely is not decoded.
                    lo, previous_max = previous_max + 1, m._maxid
                    skip = allowed.find(1, lo, previous_max + 1) < 0
                else:
                    skip = False
                if skip:
                    if m._lastblock:
                        break
                    m._goto(m._nextoffset)
                    continue
                if m._data is None:
                    m._read_data()
                data = m._data
                ids.extend(accumulate(data[0]))
                if scored:
                    w = data[1]  # None: every weight is 1; a float: all the same; else an array
                    if w is None or isinstance(w, float):
                        weights.extend([1.0 if w is None else w] * m._blocklength)
                    else:
                        weights.extend(w)
                if values:
                    if m._values is None:
                        m._read_values()
                    vals.extend(m._values)
                if m._lastblock:
                    break
                m._goto(m._nextoffset)
        elif isinstance(m, ListMatcher):
            ids = list(m._ids)
            if m._weights is not None:
                weights = list(m._weights)
            else:
                weights = [m._all_weights or 1.0] * len(ids)
            if values:
                vals = list(m._values) if m._values is not None else [b""] * len(ids)
        else:  # pragma: no cover - other codecs
            while m.is_active():
                ids.append(m.id())
                weights.append(m.weight())
                if values:
                    vals.append(m.value())
                m.next()
        allowed = self.allowed
        if allowed is not None and ids:
            keep = list(map(allowed.__getitem__, ids))
            if not all(keep):
                ids = list(compress(ids, keep))
                if weights:
                    weights = list(compress(weights, keep))
                if vals:
                    vals = list(compress(vals, keep))
        return ids, weights, vals

    def _admit(self, found: Scores) -> Scores:
        """``found`` without what the access restriction being applied excludes."""
        allowed = self.allowed
        if allowed is None or not found:
            return found
        return {d: s for d, s in found.items() if allowed[d]}

    def _bm25(self, fieldname: str, text, ids, weights, boost: float = 1.0) -> Scores:
        field = self.parent.schema[fieldname]
        if not field.scorable:
            return dict.fromkeys(ids, 0.0)
        stats = self.stats
        idf = stats.get((fieldname, text))
        if idf is None:
            idf = stats[(fieldname, text)] = self.parent.idf(fieldname, text)
        idf *= boost
        norm = stats.get(fieldname)
        if norm is None:
            avgfl = self.parent.avg_field_length(fieldname) or 1.0
            norm = stats[fieldname] = [K1 * ((1 - B) + B * n / avgfl) for n in _LENGTHS]
        lengths = self._lengths(fieldname)
        top = idf * (K1 + 1)
        return {d: top * w / (w + norm[lengths[d]]) for d, w in zip(ids, weights, strict=True)}

    def phrase(self, q: wq.Phrase, candidates: Scores | None) -> Scores | None:
        """Words at consecutive positions. Stop words in the phrase only hold a position
        ("the general strike" = general, strike with one word before it), as in Lucene;
        ``None`` if the phrase has no other word (the caller falls back to whoosh)."""
        stop = self.stopwords
        words = list(q.words)
        content = [(i, w) for i, w in enumerate(words) if w not in stop]
        if not content:
            return None
        fieldname = q.fieldname
        # Candidates first from the cheap ``body`` postings (stems: a superset), then the
        # positions of ``exact`` only in the blocks that hold candidates.
        docs: set[int] | None = set(candidates) if candidates is not None else None
        if fieldname == "exact":
            forms = {self.language.body_form(w) for _, w in content} - {None}
            for form in sorted(forms, key=lambda f: self.reader.doc_frequency("body", f)):
                ids, _, _ = self.postings("body", form, scored=False)
                if docs is None:
                    docs = set(ids)
                else:
                    docs.intersection_update(ids)
                if not docs:
                    return {}
        only = sorted(docs) if docs is not None else None
        lists = []
        for offset, word in content:
            ids, weights, vals = self.postings(fieldname, word, values=True, only=only)
            if not ids:
                return {}
            lists.append((offset, word, ids, weights, vals))
        lists.sort(key=lambda item: len(item[2]))
        if docs is None:
            docs = set(lists[0][2])
        for _, _, ids, _, _ in lists:
            if not docs:
                return {}
            docs.intersection_update(ids)
        if not docs:
            return {}
        starts: dict[int, set[int]] | None = None
        for offset, _, ids, _, vals in lists:
            here = {
                d: {p - offset for p in _positions(v)}
                for d, v in zip(ids, vals, strict=True)
                if d in docs
            }
            if starts is None:
                starts = here
            else:
                starts = {d: ps & here[d] for d, ps in starts.items() if d in here}
                starts = {d: ps for d, ps in starts.items() if ps}
            docs = set(starts)
            if not docs:
                return {}
        scores: Scores = {}
        for _, word, ids, weights, _ in lists:
            picked = [(d, w) for d, w in zip(ids, weights, strict=True) if d in docs]
            term = self._bm25(fieldname, word, [d for d, _ in picked], [w for _, w in picked])
            for d, sc in term.items():
                scores[d] = scores.get(d, 0.0) + sc
        return scores

    def term(self, q: wq.Term, candidates: Scores | None = None) -> Scores:
        if not self.parent.schema[q.fieldname].scorable or q.fieldname in UNSCORED:
            ids, _, _ = self.postings(q.fieldname, q.text, scored=False)
            if candidates is not None:
                return {d: 0.0 for d in ids if d in candidates}
            return dict.fromkeys(ids, 0.0)
        ids, weights, _ = self.postings(q.fieldname, q.text)
        if not ids:
            return {}
        if candidates is not None and len(candidates) < len(ids):
            # Score only what the rest of an And kept.
            keep = list(map(candidates.__contains__, ids))
            ids = list(compress(ids, keep))
            weights = list(compress(weights, keep))
        return self._bm25(q.fieldname, q.text, ids, weights, q.boost)

    def _scored(self, q: wq.Term) -> bool:
        return self.parent.schema[q.fieldname].scorable and q.fieldname not in UNSCORED

    def _words_and(self, words: list) -> Scores:
        """And of terms (rarest first): docnums in every one, with their summed scores."""
        lists = []
        common: set[int] | None = None
        for q in words:
            only = sorted(common) if common is not None else None
            ids, weights, _ = self.postings(q.fieldname, q.text, scored=self._scored(q), only=only)
            if common is None:
                common = set(ids)
            else:
                common.intersection_update(ids)
            if not common:
                return {}
            lists.append((q, ids, weights))
        scores: Scores = dict.fromkeys(sorted(common), 0.0)
        for q, ids, weights in lists:
            if not self._scored(q):
                continue
            if len(ids) == len(common):
                term = self._bm25(q.fieldname, q.text, ids, weights, q.boost)
            else:
                keep = list(map(common.__contains__, ids))
                term = self._bm25(
                    q.fieldname,
                    q.text,
                    list(compress(ids, keep)),
                    list(compress(weights, keep)),
                    q.boost,
                )
            for d, sc in term.items():
                scores[d] += sc
        return scores

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

    def fallback(self, q, candidates: Scores | None = None) -> Scores:
        """Any other node through its whoosh matcher (phrases, numeric ranges ...)."""
        m = q.matcher(self.sub)
        out: Scores = {}
        if candidates is not None:
            for d in sorted(candidates):
                if not m.is_active():
                    break
                if m.id() < d:
                    m.skip_to(d)
                    if not m.is_active():
                        break
                if m.id() == d:
                    out[d] = m.score()
            return out
        while m.is_active():
            out[m.id()] = m.score()
            m.next()
        return out

    def ranges(self, q: _RangeQuery) -> tuple[list[int], list[int]]:
        return q._ranges(self.reader)

    # ------------------------------------------------------------ nodes

    def matches(self, q) -> Scores:
        """Every live document of this segment matching ``q``, with its score."""
        found = self.run(q)
        if found and self.reader.has_deletions():
            deleted = self.reader.deleted_docs_set
            if len(deleted) < len(found):
                for d in deleted:
                    found.pop(d, None)
            else:
                found = {d: s for d, s in found.items() if d not in deleted}
        return found

    def run(self, q, candidates: Scores | None = None) -> Scores:
        """Matches of ``q`` (restricted to ``candidates`` when given: an And's other side)."""
        if isinstance(q, _NullQuery):
            return {}
        if isinstance(q, wq.Term):
            found = self.term(q, candidates)
        elif isinstance(q, wq.And):
            found = self.and_(q.subqueries, candidates)
        elif isinstance(q, wq.Or):
            found = {}
            for sub in q.subqueries:
                part = self.run(sub, candidates)
                if not found:
                    found = part
                    continue
                # Union with summed scores; dict operations stay in C except on overlaps.
                common = found.keys() & part.keys()
                sums = {d: found[d] + part[d] for d in common} if common else None
                if len(part) > len(found):
                    found, part = part, found
                found.update(part)
                if sums:
                    found.update(sums)
        elif isinstance(q, wq.AndNot):
            found = self.run(q.a, candidates)
            if found:
                for d in self.run(q.b, found):
                    found.pop(d, None)
        elif isinstance(q, _RangeQuery):
            starts, ends = self.ranges(q)
            if candidates is not None:
                return _in_ranges(candidates, starts, ends, 0.0, self.table)
            found = {}
            for start, end in zip(starts, ends, strict=True):
                found.update(dict.fromkeys(range(start, end), 0.0))
            found = self._admit(found)
        elif isinstance(q, wq.Phrase) and (found := self.phrase(q, candidates)) is not None:
            pass
        elif isinstance(q, wq.Phrase | wq.NumericRange) and candidates is not None:
            return self.fallback(q, candidates)
        else:
            found = self._admit(self.fallback(q))
        if candidates is not None:
            return {d: s for d, s in found.items() if d in candidates}
        return found

    def and_(self, subqueries, candidates: Scores | None) -> Scores:
        if candidates is None and len(subqueries) > 1:
            # Docnum ranges (the access restriction, interview and kind filters) become a
            # byte mask applied where postings are read: blocks outside it are not decoded,
            # and nothing it excludes is scored or merged.
            ranges = [q for q in subqueries if isinstance(q, _RangeQuery)]
            rest = [q for q in subqueries if not isinstance(q, _RangeQuery)]
            if ranges and rest:
                ranges.sort(key=lambda q: not isinstance(q, AccessRestriction))
                mask = self.allowed
                for q in ranges:
                    starts, ends = self.ranges(q)
                    if not starts:
                        return {}
                    if mask is None and isinstance(q, AccessRestriction):
                        n = self.reader.doc_count_all()
                        mask = self.table.full_mask(starts, ends, n)  # cached per scope
                    else:
                        mask = _narrow(mask, starts, ends, self.reader.doc_count_all())
                saved, self.allowed = self.allowed, mask
                try:
                    return self.and_(rest, None)
                finally:
                    self.allowed = saved

        # Word parts first, the most selective first; then phrases and numeric ranges
        # (verified on candidates); then ranges (filters over what is left).
        def cost(q) -> tuple[int, int]:
            if isinstance(q, _RangeQuery):
                return (3, 0)
            if isinstance(q, wq.NumericRange):
                return (2, 0)
            return (1 if isinstance(q, wq.Phrase) else 0, self.estimate(q))

        ordered = sorted(subqueries, key=cost)
        scores = candidates
        first = True
        words = [q for q in ordered if isinstance(q, wq.Term)]
        if candidates is None and len(words) > 1:
            # Several words: intersect their docnums first (C-level set operations; the
            # rarest word's decides which blocks of the others are read), then score each
            # word only on what they share, not a common word's every posting.
            scores = self._words_and(words)
            if not scores:
                return {}
            ordered = [q for q in ordered if not isinstance(q, wq.Term)]
            first = False
        for sub in ordered:
            if scores is not None and not scores:
                return {}
            if isinstance(sub, _RangeQuery) and scores is not None:
                starts, ends = self.ranges(sub)
                scores = _in_ranges(scores, starts, ends, None, self.table)
                continue
            found = self.run(sub, scores)
            if first and candidates is None:
                scores = found
            else:
                scores = {d: scores[d] + s for d, s in found.items() if d in scores}
            first = False
        return scores if scores is not None else {}


def _narrow(mask: bytearray | None, starts: list[int], ends: list[int], n: int) -> bytearray:
    """A new mask of ``n`` docnums: ``mask`` (everything if ``None``) within the ranges."""
    out = bytearray(n)
    for start, end in zip(starts, ends, strict=True):
        out[start:end] = b"\x01" * (end - start) if mask is None else mask[start:end]
    return out


def _in_ranges(
    scores: Scores, starts: list[int], ends: list[int], score: float | None, table: SegmentTable
) -> Scores:
    """The entries of ``scores`` whose docnum lies in one of the [start, end) ranges."""
    if not starts or not scores:
        return {}
    if len(starts) == 1:
        lo, hi = starts[0], ends[0]
        if score is None:
            return {d: s for d, s in scores.items() if lo <= d < hi}
        return {d: score for d in scores if lo <= d < hi}
    if len(scores) > 64:
        # A byte mask over the covered docnums: one C-level index per entry instead of a
        # binary search.
        base, mask = table.mask(starts, ends)
        top = ends[-1]
        if score is None:
            return {d: s for d, s in scores.items() if base <= d < top and mask[d - base]}
        return {d: score for d in scores if base <= d < top and mask[d - base]}
    find = bisect.bisect_right
    out: Scores = {}
    for d, s in scores.items():
        i = find(starts, d) - 1
        if i >= 0 and d < ends[i]:
            out[d] = s if score is None else score
    return out


def _positions(value: bytes) -> list[int]:
    """Decode a ``Positions`` posting value (whoosh's format: a count, then pickled deltas)."""
    body = value[4:]
    if not body.endswith(b"."):
        body += b"."
    return list(accumulate(loads(body)))
