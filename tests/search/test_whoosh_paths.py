"""The Whoosh backend's faster paths give exactly what the paths before them gave (issue 18):
the same generated archive (``test_pg_tally``'s: shared stems and prefixes, a prefix with more
words than ``MAX_EXPANSIONS``, every access variation) indexed with posting blocks in today's
form (positions deflated on their own, ``codec.DeflatedValues``) and in the form before it
(each ``exact`` block compressed whole, ``PackedValues`` inside), and searched through every
path; every result (totals, groups and their order, scores, moments, snippets, facets,
notices, suggestions) must be equal."""

from __future__ import annotations

import random

import pytest

from oralhist.search import SearchIndex
from oralhist.search import codec as codec_module
from oralhist.search import index as index_module
from oralhist.search import whoosh_internals as wi
from oralhist.search.codec import ArrayBlockWriter, BlockCodec, PackedValues

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
