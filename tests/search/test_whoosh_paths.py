"""The Whoosh backend's faster paths give exactly what the paths before them gave (issue 18):
the same generated archive (``test_pg_tally``'s: shared stems and prefixes, a prefix with more
words than ``MAX_EXPANSIONS``, every access variation) indexed with posting blocks in today's
form (positions deflated on their own, ``codec.DeflatedValues``) and in the form before it
(each ``exact`` block compressed whole, ``PackedValues`` inside), and searched through every
path; facets counted in numpy columns (``grouping.FactTable``) against the ``Counter``s they
replaced. Every result (totals, groups and their order, scores, moments, snippets, facets,
notices, suggestions) must be equal."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from itertools import chain

import numpy as np
import pytest

from oralhist.search import SearchIndex
from oralhist.search import codec as codec_module
from oralhist.search import index as index_module
from oralhist.search import whoosh_internals as wi
from oralhist.search.codec import ArrayBlockWriter, BlockCodec, PackedValues
from oralhist.search.common import MAX_FACET_VALUES
from oralhist.search.grouping import GroupingMixin

from .test_pg_tally import QUERIES, _archive, _interview

MORE_QUERIES = [
    ('"the general strike"', {}),
    ('"the union"', {}),
    ("work union strike", {}),
    ("org* union", {}),
    ("zap* -work", {}),
    ("(trai* OR mill*) speaker:clark", {}),
]


class PackedBlockWriter(ArrayBlockWriter):
    """The posting blocks before ``DeflatedValues``: an ``exact`` block's positions as
    ``PackedValues`` inside a block compressed whole."""

    def _mini_values(self):
        fixedsize = wi.fixed_value_size(self)
        if fixedsize is None or fixedsize < 0:
            return PackedValues.pack(wi.block_value_list(self))
        return super()._mini_values()

    def _write_block(self, last: bool = False) -> None:
        comp = wi.block_compression(self)
        wi.write_block(
            self,
            last,
            lambda: (self._mini_ids(), self._mini_weights(), self._mini_values()),
            lambda data: comp if isinstance(data[2], PackedValues) else 0,
        )


class PackedBlockCodec(BlockCodec):
    def postings_writer(self, dbfile, byteids=False):
        return PackedBlockWriter(dbfile, byteids=byteids, **wi.codec_settings(self))


def _packed_codec() -> PackedBlockCodec:
    return PackedBlockCodec(
        blocklimit=codec_module.BLOCK_POSTINGS, compression=codec_module.BLOCK_COMPRESSION
    )


def _results(ix: SearchIndex) -> list:
    from .conftest import ANONYMOUS, ARCHIVIST, RESEARCHER

    out = []
    for q, filters in QUERIES + MORE_QUERIES:
        for scope in (ANONYMOUS, RESEARCHER, ARCHIVIST):
            for sort, page, per_page in (("relevance", 1, 5), ("date", 2, 3), ("relevance", 1, 50)):
                found = ix.search(
                    q, scope, filters=filters, sort=sort, page=page, per_page=per_page
                )
                out.append(((q, filters, scope, sort, page), found))
        out.append(((q, "in interview 3"), ix.search_interview(3, q, ARCHIVIST)))
    return out


def _index(path, monkeypatch, make_codec, writes: bool) -> SearchIndex:
    """The generated archive written by ``SearchIndex.apply`` with ``make_codec``'s blocks (in
    several commits, so the index has several segments), then, with ``writes``, changed."""
    monkeypatch.setattr(index_module, "codec", make_codec)
    ix = SearchIndex(path)
    ix.create()
    interviews, documents = _archive(1957, n=90)
    for start in range(0, len(interviews), 30):
        ix.apply({docs[0]["interview_id"]: docs for docs in interviews[start : start + 30]}, {})
    ix.apply({}, {doc["document_id"]: doc for doc in documents})
    if writes:
        rng = random.Random(11)
        ix.replace_interview(3, _interview(3, rng))
        ix.delete_interview(5)
        ix.replace_document(2, None)
    return ix


@pytest.mark.parametrize("writes", [False, True], ids=["as written", "after changes"])
def test_deflated_positions_give_what_blocks_compressed_whole_gave(tmp_path, monkeypatch, writes):
    packed = _index(tmp_path / "packed", monkeypatch, _packed_codec, writes)
    deflated = _index(tmp_path / "deflated", monkeypatch, codec_module.codec, writes)
    try:
        before, after = _results(packed), _results(deflated)
    finally:
        packed.close()
        deflated.close()
    for (key, a), (_, b) in zip(before, after, strict=True):
        assert a == b, key
    shown = [r for _, r in after if not isinstance(r, list)]
    assert sum(r.total_moments for r in shown) > 10_000
    assert any(r.notices for r in shown)  # zap*: over the expansion cap


def _facets_in_python(self, searcher, groups, kinds, speakers, sort):
    """``GroupingMixin._facets_and_order`` before ``FactTable``: the reference."""
    keys = groups.keys.tolist()
    known = self._group_facts.get
    facts = [known(key) or self._facts(searcher, key) for key in keys]
    columns = zip(*facts, strict=True) if facts else ((),) * 5
    collections, narrators, languages, decades, dates = columns

    def count(values) -> Counter:
        counter = Counter(values)
        for empty in ("", None):
            counter.pop(empty, None)
        return counter

    def top(counter: Counter) -> list[tuple[str, int]]:
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
        at = sorted(range(len(keys)), key=lambda i: (dates[i] == "", dates[i], -best[i], keys[i]))
    else:
        at = np.lexsort((groups.keys, -groups.moments, -groups.best))
    return facets, groups.keys[at].tolist()


@pytest.mark.parametrize("writes", [False, True], ids=["as written", "after changes"])
def test_facets_counted_in_columns_equal_counting_in_python(tmp_path, monkeypatch, writes):
    """Many narrators, collections and languages, so that facets are cut at
    ``MAX_FACET_VALUES`` with ties; the table grows query by query and is dropped with its
    generation (``writes``: the second run searches a changed index)."""
    ix = _index(tmp_path / "index", monkeypatch, codec_module.codec, False)
    rng = random.Random(5)
    many = {}
    for iid in range(200, 320):
        docs = _interview(iid, rng)
        for doc in docs:
            doc["narrators"] = [f"Narrator {rng.randint(1, 70)}" for _ in range(rng.randint(0, 3))]
            doc["collection"] = f"c{rng.randint(1, 60)}"
            doc["language"] = rng.choice(["en", "cy", "gd", "", "fr"])
        many[iid] = docs
    ix.apply(many, {})
    try:
        fast = _results(ix)
        if writes:
            ix.replace_interview(201, _interview(201, rng))
            ix.delete_interview(7)
            fast = _results(ix)
        assert len(ix._fact_table) > 100
        monkeypatch.setattr(GroupingMixin, "_facets_and_order", _facets_in_python)
        reference = _results(ix)
    finally:
        ix.close()
    for (key, a), (_, b) in zip(fast, reference, strict=True):
        assert a == b, key
    cut = [r for _, r in fast if not isinstance(r, list) and len(r.facets["narrator"]) == 50]
    assert cut  # narrator facets cut at MAX_FACET_VALUES


def test_a_long_lived_index_after_writes_answers_as_a_fresh_one(tmp_path, monkeypatch):
    """What a ``SearchIndex`` keeps for a generation (idf and length norms, facts, block
    heads, look-ups) is dropped or still right when another writer changes the index: its
    answers equal those of an instance opened after the writes."""
    ix = _index(tmp_path / "index", monkeypatch, codec_module.codec, False)
    try:
        _results(ix)
        other = SearchIndex(tmp_path / "index")
        rng = random.Random(3)
        other.replace_interview(2, _interview(2, rng))
        other.apply({i: _interview(i, rng) for i in range(400, 430)}, {})
        other.delete_interview(9)
        other.close()
        fresh = SearchIndex(tmp_path / "index")
        for (key, a), (_, b) in zip(_results(ix), _results(fresh), strict=True):
            assert a == b, key
        fresh.close()
    finally:
        ix.close()
