"""The numpy evaluator against whoosh's own matchers, on posting blocks in both forms: the
arrays ``codec.BlockCodec`` writes and the tuples of whoosh's default codec (an index written
before the codec, or by plain whoosh, must stay searchable and score the same)."""

from __future__ import annotations

import itertools
import pickle
import random
import sys
import threading
import zlib
from array import array

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage

from oralhist.search.codec import (
    ArrayBlockWriter,
    DeflatedValues,
    PackedValues,
    _compress_stored,
    codec,
)
from oralhist.search.evaluate import (
    SegmentEvaluator,
    _positions,
    _Values,
    decode_positions,
    member,
)
from oralhist.search.grouping import GroupingMixin, Groups, SpeakerNumbers
from oralhist.search.restriction import InterviewSet, KindSet, SegmentTable
from oralhist.search.schema import Language, build_schema, card_fields, card_of, index_fields

from .conftest import interview

COMMON = ["strike", "union", "mill", "picket", "line", "general", "mother", "factory", "work"]
WORDS = COMMON + [f"word{i}" for i in range(60)]


def _fields() -> list[dict]:
    """Three interviews of 700 segments (and their cards, recorded 1956-1958): the common
    words have thousands of postings (several 512-posting blocks), the rare ones a few
    (inlined in the term info)."""
    rng = random.Random(7)
    out: list[dict] = []
    for iid in range(1, 4):
        segments = [
            (
                "Kate Clark" if i % 2 else "Interviewer",
                " ".join(rng.choice(COMMON if rng.random() < 0.5 else WORDS) for _ in range(12)),
            )
            for i in range(700)
        ]
        docs = interview(iid, segments, year=1955 + iid)
        out += [index_fields(doc) for doc in docs]
        out.append(card_fields(card_of(docs[0])))
    return out


@pytest.fixture(scope="module", params=["arrays", "whoosh tuples"])
def searcher(request, tmp_path_factory):
    block_codec = codec() if request.param == "arrays" else W3Codec()
    ix = FileStorage(str(tmp_path_factory.mktemp("evaluate"))).create_index(build_schema("en"))
    writer = ix.writer(codec=block_codec)
    for fields in _fields():
        writer.add_document(**fields)
    writer.commit()
    writer = ix.writer(codec=block_codec)
    for docnum in (3, 4, 700, 1500, 2000):
        writer.delete_document(docnum)
    writer.commit(merge=False)
    with ix.searcher() as s:
        assert s.reader().has_deletions()
        yield s
    ix.close()


def _ours(s, q) -> dict[int, float]:
    evaluator = SegmentEvaluator(s, s, SegmentTable.load(s.reader()), Language("en"))
    return evaluator.matches(q).to_dict()


def _whoosh(s, q) -> dict[int, float]:
    m = q.matcher(s)
    found = {}
    while m.is_active():
        found[m.id()] = m.score()
        m.next()
    return found


def _reference(s, q) -> dict[int, float]:
    """Boolean nodes as set arithmetic over whoosh's term matchers. (whoosh's own
    ``AndNotMatcher`` is not a reference: on this archive it lets through a document that
    holds the excluded word.)"""
    if isinstance(q, wq.And):
        parts = [_reference(s, sub) for sub in q.subqueries]
        common = set.intersection(*(set(p) for p in parts))
        return {d: sum(p[d] for p in parts) for d in common}
    if isinstance(q, wq.Or):
        parts = [_reference(s, sub) for sub in q.subqueries]
        return {d: sum(p.get(d, 0.0) for p in parts) for d in set().union(*parts)}
    if isinstance(q, wq.AndNot):
        excluded = _reference(s, q.b)
        return {d: sc for d, sc in _reference(s, q.a).items() if d not in excluded}
    return _whoosh(s, q)


def T(word: str, field: str = "body") -> wq.Term:
    return wq.Term(field, word)


SCORED = {
    "common word": T("strike"),
    "rare word": T("word59"),
    "exact field": T("picket", "exact"),
    "two words": wq.And([T("strike"), T("union")]),
    "rare and common": wq.And([T("word3"), T("mother")]),
    "or": wq.Or([T("mill"), T("word7"), T("factory")]),
    "not": wq.AndNot(T("strike"), T("union")),
    "nested": wq.Or([wq.And([T("mill"), T("work")]), wq.AndNot(T("word1"), T("general"))]),
    "absent word": T("nowhere"),
    "years": wq.NumericRange("year", 1950, 1960),
    "word or years": wq.Or([T("general"), wq.NumericRange("year", 1957, 1957)]),
    "no years": wq.NumericRange("year", 1800, 1810),
}


@pytest.mark.parametrize("name", SCORED)
def test_matches_and_scores_are_whooshs(searcher, name):
    q = SCORED[name]
    ours, theirs = _ours(searcher, q), _reference(searcher, q)
    assert ours.keys() == theirs.keys()
    assert ours == pytest.approx(theirs, rel=1e-9)
    if name not in ("absent word", "no years"):
        assert ours, "the query should match something"
    if name not in ("not", "nested"):  # whoosh's own matchers for And and Or agree too
        assert ours == pytest.approx(_whoosh(searcher, q), rel=1e-9)


@pytest.mark.parametrize(
    "words", [["picket", "line"], ["general", "strike"], ["mother", "factory", "work"]]
)
@pytest.mark.parametrize("at_once_from", [1, 10**9], ids=["blocks at once", "one by one"])
def test_phrases_match_what_whoosh_matches(searcher, monkeypatch, words, at_once_from):
    """Positions read from blocks decoded together (their deflated values found from the
    blocks' layouts) or one by one (``pickle.loads``) alike."""
    from oralhist.search import evaluate

    monkeypatch.setattr(evaluate, "READ_AT_ONCE_FROM", at_once_from)
    q = wq.Phrase("exact", words)
    ours = _ours(searcher, q)
    assert ours.keys() == _whoosh(searcher, q).keys()
    assert ours and all(score > 0 for score in ours.values())


def test_deleted_documents_never_match(searcher):
    """Deleted docnums (a run and single ones) never match; their neighbours do."""
    q = wq.Or([T(w) for w in COMMON])
    ours = _ours(searcher, q).keys()
    assert not {3, 4, 700, 1500, 2000} & ours
    assert ours == _whoosh(searcher, q).keys()  # whoosh's matchers skip deleted documents
    assert len({2, 5, 699, 701, 1499, 1501, 1999, 2001} & ours) >= 4


# Blocks below codec.SMALL_BLOCK postings are minimised in Python, larger ones with numpy.
SIZES = [1, 3, 200]


@pytest.mark.parametrize("n", SIZES)
def test_block_ids_are_uint16_deltas_or_uint32_when_gaps_are_large(n):
    writer = ArrayBlockWriter.__new__(ArrayBlockWriter)
    writer._byteids = False
    writer._ids = array("I", [5 + 7 * i for i in range(n)])
    small = writer._mini_ids()
    assert (small.typecode, list(small)) == ("H", [5] + [7] * (n - 1))
    writer._ids = array("I", [5] + [70_005 + 3 * i for i in range(n)])
    large = writer._mini_ids()
    assert (large.typecode, list(large)) == ("I", [5, 70_000] + [3] * (n - 1))


@pytest.mark.parametrize("n", SIZES)
def test_weights_are_stored_once_when_uniform_and_as_bytes_when_frequencies(n):
    writer = ArrayBlockWriter.__new__(ArrayBlockWriter)
    writer._weights = array("f", [1.0] * n)
    assert writer._mini_weights() is None
    writer._weights = array("f", [2.0] * n)
    assert writer._mini_weights() == 2.0
    writer._weights = array("f", [1.0] * n + [3.0])
    assert writer._mini_weights() == array("B", [1] * n + [3])
    writer._weights = array("f", [1.0] * n + [300.0])
    assert writer._mini_weights() == array("f", [1.0] * n + [300.0])
    writer._weights = array("f", [1.0] * n + [2.5])
    assert writer._mini_weights() == array("f", [1.0] * n + [2.5])


def test_packed_values_are_a_sequence_of_bytes_that_pickles():
    values = [b"\x00\x01", b"", b"positions"]
    packed = PackedValues.pack(values)
    assert len(packed) == 3
    assert [packed[0], packed[1], packed[2], packed[-1]] == [*values, b"positions"]
    again = pickle.loads(pickle.dumps(packed, 5))
    assert list(again) == values


@pytest.mark.parametrize("with_moments", [False, True])
def test_grouping_by_runs_equals_grouping_by_sorting(with_moments):
    """``Groups.of`` groups runs of keys without sorting when the matches come in index order,
    and sorts otherwise: both give the same table."""
    rng = np.random.default_rng(3)
    # interviews 3, 5, 9 in index order, then two documents (negative keys)
    keys = np.array([3] * 4 + [5] * 1 + [9] * 6 + [-101, -150], dtype=np.int64)
    scores = rng.random(len(keys))
    moment = rng.random(len(keys)) > 0.3 if with_moments else None
    by_runs = Groups.of(keys, scores, moment)
    shuffle = rng.permutation(len(keys))
    by_sort = Groups.of(keys[shuffle], scores[shuffle], None if moment is None else moment[shuffle])
    assert by_runs.keys.tolist() == by_sort.keys.tolist() == [-150, -101, 3, 5, 9]
    assert by_runs.best.tolist() == by_sort.best.tolist()
    assert by_runs.moments.tolist() == by_sort.moments.tolist()
    assert by_runs.catalogue.tolist() == by_sort.catalogue.tolist()
    assert by_runs.row(9)[0] == scores[5:11].max()
    if moment is None:
        assert by_runs.moments.tolist() == [1, 1, 4, 1, 6]


@pytest.mark.parametrize(
    "names", [["kate clark"], ["interviewer", "kate clark"], ["nobody"], ["kate clark", "nobody"]]
)
def test_speaker_filters_match_their_postings(searcher, names):
    """An Or of speaker names is read from the speaker column, not from postings: the same
    documents either way (alone, and as a filter of words)."""
    speakers = wq.Or([wq.Term("speaker_key", n) for n in names])
    alone = _ours(searcher, speakers)
    assert alone.keys() == _whoosh(searcher, speakers).keys()
    assert set(alone.values()) <= {0.0}  # a filter, not a relevance signal
    narrowed = wq.And([T("strike"), speakers])
    assert _ours(searcher, narrowed).keys() == _whoosh(searcher, narrowed).keys()
    if names != ["nobody"]:
        assert alone


def test_numeric_ranges_narrow_candidates(searcher):
    """A numeric range after a term (an And's candidates): the cards of 1957-1958 only."""
    cards = wq.Term("kind", "card")
    q = wq.And([cards, wq.NumericRange("year", 1957, 1958)])
    ours = _ours(searcher, q)
    assert len(ours) == 2
    assert ours.keys() == _whoosh(searcher, q).keys()


def test_stored_records_are_zlib_streams_deflated_only_when_long():
    short, long = b"segment " * 10, b"a long segment text " * 100
    assert zlib.decompress(_compress_stored(short, 1)) == short
    assert len(_compress_stored(short, 1)) > len(short)  # stored as is, plus zlib's framing
    assert zlib.decompress(_compress_stored(long, 1)) == long
    assert len(_compress_stored(long, 1)) < len(long) / 4


def _table() -> SegmentTable:
    """Runs of docnums: interview 1 (segments 0-2, catalogue record 3-4), interview 2
    (segments 5-8), a document (9), interview 4 (segments 10-11)."""
    runs = [(0, 3, 1, "s:open:0"), (3, 5, 1, "c:open"), (5, 9, 2, "s:open:0")]
    runs += [(9, 10, 0, "d:open"), (10, 12, 4, "s:restricted:0")]
    return SegmentTable(
        iids=np.zeros(0, dtype=np.uint32),
        kind_refs=np.zeros(0, dtype=np.uint8),
        kinds=[],
        speaker_refs=np.zeros(0, dtype=np.uint32),
        speakers=[],
        run_starts=[r[0] for r in runs],
        run_ends=[r[1] for r in runs],
        run_iids=[r[2] for r in runs],
        run_acls=[r[3] for r in runs],
    )


class _Tables:
    def __init__(self, table):
        self._table = table

    def table(self, reader):
        return self._table


@pytest.mark.parametrize(
    ("iids", "expected"),
    [
        ({1}, ([0], [5])),  # its two runs, joined
        ({1, 2}, ([0], [9])),
        ({1, 4}, ([0, 10], [5, 12])),
        ({3}, ([], [])),
    ],
)
def test_interview_sets_are_the_ranges_of_their_runs(iids, expected):
    assert InterviewSet(frozenset(iids), _Tables(_table()))._ranges(None) == expected


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ({"segment"}, ([0, 5, 10], [3, 9, 12])),
        ({"segment", "interview"}, ([0, 10], [9, 12])),
        ({"document"}, ([9], [10])),
        ({"index"}, ([], [])),
    ],
)
def test_kind_sets_are_the_ranges_of_their_runs(kinds, expected):
    assert KindSet(frozenset(kinds), _Tables(_table()))._ranges(None) == expected


def test_speaker_facet_adds_up_names_across_segments():
    """Two index segments number their speakers differently; the facet counts by name, drops
    segments without a speaker, and orders by count, then name."""
    numbers = SpeakerNumbers()
    first, second = _table(), _table()
    first.speakers = ["", "Kate Clark", "Interviewer"]
    second.speakers = ["Interviewer", "Joe Novak", "Kate Clark", ""]
    a, b = numbers.numbers(first), numbers.numbers(second)
    tallies = [a[[0, 1, 2]], b[[0, 1, 2, 3]]], [np.array([7, 2, 1]), np.array([1, 3, 4, 9])]
    assert numbers.top(*tallies, 10) == [("Kate Clark", 6), ("Joe Novak", 3), ("Interviewer", 2)]
    assert numbers.top(*tallies, 1) == [("Kate Clark", 6)]
    assert numbers.top([], [], 10) == []


def _block(values: list[bytes], form: str):
    if form == "PackedValues":
        return PackedValues.pack(values)
    if form == "DeflatedValues":
        return pickle.loads(pickle.dumps(DeflatedValues.of(values, 1), 5))
    return tuple(values)


BLOCK_FORMS = ["DeflatedValues", "PackedValues", "tuples of bytes"]


def _positions_value(poses: list[int]) -> bytes:
    """A value as ``schema.ExactText`` writes it (whoosh's ``Positions`` encoding)."""
    deltas = [poses[0], *(b - a for a, b in itertools.pairwise(poses))]
    return len(deltas).to_bytes(4, "big") + pickle.dumps(deltas, 2)


@pytest.mark.parametrize("form", BLOCK_FORMS)
def test_positions_are_decoded_with_numpy_as_pickle_reads_them(form):
    """Short gaps (one-byte deltas, the fast path), gaps of 256 and more (two- and
    four-byte opcodes: read with pickle), single positions and more than a pickle batch."""
    rng = random.Random(3)
    lists = [[0], [255], [256], [7, 8], [1, 300], [70_000, 70_001], list(range(0, 2_500, 2))]
    for _ in range(300):
        n = rng.choice([1, 1, 2, 3, 8, 40])
        gap = rng.choice([3, 40, 255, 1_000])
        lists.append(sorted(rng.sample(range(n * gap + 1), n)))
    values = [_positions_value(p) for p in lists]
    block = _block(values, form)
    wanted = np.array([*sorted(rng.sample(range(len(values)), 200)), len(values) - 1])
    wanted = np.unique(wanted)
    counts, flat = decode_positions(block, wanted)
    expected = [lists[i] for i in wanted.tolist()]
    assert counts.tolist() == [len(p) for p in expected]
    assert flat.tolist() == [p for ps in expected for p in ps]
    assert [_positions(values[i]) for i in wanted.tolist()] == expected  # the reference agrees


def test_positions_with_one_byte_gaps_are_decoded_without_pickle(monkeypatch):
    """Values whose gaps are all below 256 (nearly every transcript segment's) and with at
    most a pickle batch of positions (1,000; a count of 500 takes two of its four bytes) are
    read by the numpy path: the pickle reader is never called for them."""
    from oralhist.search import evaluate

    rng = random.Random(5)
    lists = [[0], [255], [7, 8], list(range(0, 1_000, 2)), list(range(3, 70_000, 200))]
    lists += [
        list(itertools.accumulate(rng.randint(1, 255) for _ in range(n))) for n in (1, 3, 300)
    ]
    values = [_positions_value(p) for p in lists]
    fallback = []
    monkeypatch.setattr(evaluate, "_positions", lambda v: fallback.append(v) or [])
    wanted = np.arange(len(values))
    counts, flat = decode_positions(PackedValues.pack(values), wanted)
    assert fallback == []
    assert counts.tolist() == [len(p) for p in lists]
    assert flat.tolist() == [p for ps in lists for p in ps]


def test_phrases_far_into_a_long_text_match():
    """Positions past 255 (multi-byte deltas) inside a block of one-byte ones."""
    from whoosh.filedb.filestore import RamStorage

    ix = RamStorage().create_index(build_schema("en"))
    writer = ix.writer(codec=codec())
    filler = " ".join(f"word{i % 50}" for i in range(600))
    texts = [f"picket line {filler}", f"{filler} picket line", f"{filler} line picket", filler]
    for iid, text in enumerate(texts, start=1):
        for fields in [index_fields(doc) for doc in interview(iid, [("Kate Clark", text)])]:
            writer.add_document(**fields)
    writer.commit()
    with ix.searcher() as s:
        q = wq.Phrase("exact", ["picket", "line"])
        ours = _ours(s, q)
        assert ours.keys() == _whoosh(s, q).keys()
        assert len(ours) == 2


def test_segment_tables_hold_each_column_once_and_find_the_runs(searcher):
    """The columns are numpy arrays over the column's own values (no second copy), and the
    runs (same interview and access token) are what grouping the records one by one finds."""
    reader = searcher.reader()
    table = SegmentTable.load(reader)
    iids, kinds, speakers = table.columns()
    assert iids is table.iids and kinds is table.kind_refs and speakers is table.speaker_refs
    assert iids.dtype == np.uint32 and kinds.dtype.itemsize == 1
    acls = [a.decode() for a in reader.column_reader("c_acl")]
    expected, at = [], 0
    for (iid, acl), group in itertools.groupby(zip(iids.tolist(), acls, strict=True)):
        n = len(list(group))
        expected.append((at, at + n, iid, acl))
        at += n
    found = list(zip(table.run_starts, table.run_ends, table.run_iids, table.run_acls, strict=True))
    assert found == expected
    assert len(found) > 6  # three interviews' segments, cards and catalogue records


@pytest.mark.parametrize("form", BLOCK_FORMS)
@pytest.mark.parametrize("wanted_blocks", [(0, 1, 2), (0, 2), (1,), (2,)])
def test_positions_of_postings_across_blocks_are_decoded_at_once(form, wanted_blocks):
    """A posting list's values, block by block, after an access mask dropped some
    postings: the positions of the postings asked for, in order, across the blocks (some
    blocks holding none of them); deflated blocks holding none are never inflated."""
    rng = random.Random(5)
    lists = [sorted(rng.sample(range(rng.choice([30, 400])), rng.randint(1, 6))) for _ in range(90)]
    values = [_positions_value(p) for p in lists]
    spans = [(0, 40), (40, 41), (41, 90)]
    kept = _Values()
    kept.parts = [_block(values[a:b], form) for a, b in spans]
    kept.keep(np.array([i % 3 != 0 for i in range(90)]))  # what an access mask left
    left = [i for i in range(90) if i % 3 != 0]
    in_wanted = [any(a <= i < b for a, b in (spans[k] for k in wanted_blocks)) for i in left]
    mask = np.array([rng.random() < 0.5 and w for w, _ in zip(in_wanted, left, strict=True)])
    mask[in_wanted.index(True)] = True  # at least one posting
    if 1 in wanted_blocks:
        mask[left.index(40)] = True  # the one-posting block (40 % 3 != 0: kept)
    counts, flat = kept.positions(mask)
    expected = [lists[i] for i, m in zip(left, mask.tolist(), strict=True) if m]
    assert counts.tolist() == [len(p) for p in expected]
    assert flat.tolist() == [p for ps in expected for p in ps]
    if form == "DeflatedValues":
        inflated = [k for k, part in enumerate(kept.parts) if part._packed is not None]
        assert inflated == sorted(wanted_blocks)


def test_deflated_values_read_as_packed_values_do():
    values = [b"\x00\x01", b"", b"positions", bytes(range(256)) * 3]
    deflated = DeflatedValues.of(values, 1)
    again = pickle.loads(pickle.dumps(deflated, 5))
    assert again._packed is None and len(again) == 4  # the count without inflating
    assert [again[0], again[1], again[2], again[3], again[-1]] == [*values, values[3]]
    assert list(again) == values
    assert len(deflated.deflated) < len(b"".join(values))


def test_exact_blocks_read_ids_and_weights_without_inflating_positions(searcher):
    """The codec's ``exact`` blocks are not compressed whole: their ids and weights are read
    while the positions stay deflated (a prefix's words need no positions)."""
    if not isinstance(searcher.reader().codec(), type(codec())):
        pytest.skip("whoosh's own codec compresses its blocks whole")
    from oralhist.search import whoosh_internals as wi

    reader = searcher.reader()
    end, table = SegmentTable.load(reader).postings(reader, "exact", "strike")
    heads = table[:, :5].tolist()
    n, _, compression, _, _ = heads[0]
    raw = next(wi.block_data(wi.postings_file(reader), heads[:1], end))
    data = wi.block_payload(raw, compression)
    assert (n, compression) == (512, 0) and len(data[0]) == 512
    assert isinstance(data[2], DeflatedValues) and data[2]._packed is None
    evaluator = SegmentEvaluator(
        searcher, searcher, SegmentTable.load(searcher.reader()), Language("en")
    )
    ids, weights, vals = evaluator.postings("exact", "strike", values=True)
    assert len(ids) == len(weights) > 512
    assert all(isinstance(p, DeflatedValues) and p._packed is None for p in vals.parts)


@pytest.mark.parametrize(
    ("haystack", "needles"),
    [(10, 5_000), (5_000, 10), (3_000, 300_000), (300_000, 3_000), (100_000, 100_000)],
)
def test_member_finds_what_isin_finds_by_binary_search_or_by_flags(haystack, needles):
    """``member`` picks a flag array or binary searches by the sizes: both answer alike,
    for sorted needles and unsorted ones, negative ones and ones past the haystack."""
    rng = np.random.default_rng(haystack + needles)
    hay = np.unique(rng.integers(0, 2_000_000, haystack))
    wanted = np.unique(np.concatenate((rng.integers(0, 2_000_000, needles), hay[::3])))
    for case in (wanted, rng.permutation(wanted), np.concatenate(([-5], wanted, [3_000_000]))):
        assert (member(hay, case) == np.isin(case, hay)).all()
        assert member(hay, case).any()


def test_top_hits_pick_the_best_moments_of_the_wanted_interviews_only():
    """Interview keys below, between and above the wanted ones, and documents' negative
    keys (the flag array's edges)."""
    keys = np.array([-9, -3, 1, 1, 1, 4, 4, 7, 9, 9, 12, 40], dtype=np.int64)
    scores = np.array([9.0, 8, 1, 3, 2, 5, 6, 7, 1, 2, 4, 3])
    docs = np.arange(len(keys), dtype=np.int64)
    moment = np.ones(len(keys), dtype=bool)
    moment[4] = False  # a catalogue record of interview 1
    found = GroupingMixin._top_hits([(100, docs, keys, scores, moment)], [1, 9, 12], 2)
    assert found == {1: [(3.0, 103), (1.0, 102)], 9: [(2.0, 109), (1.0, 108)], 12: [(4.0, 110)]}
    assert GroupingMixin._top_hits([(0, docs, keys, scores, None)], [40], 3) == {40: [(3.0, 11)]}


@pytest.mark.parametrize("window", [70, 1_000, 1 << 20])
def test_posting_lists_read_alike_whatever_the_read_window(searcher, monkeypatch, window):
    """Blocks longer than the window, heads across its end, whole lists in one read."""
    from oralhist.search import whoosh_internals as wi

    expected = {name: _reference(searcher, q) for name, q in SCORED.items()}
    phrase = wq.Phrase("exact", ["picket", "line"])
    expected_phrase = _whoosh(searcher, phrase).keys()
    monkeypatch.setattr(wi, "READ_WINDOW", window)
    for name, q in SCORED.items():
        assert _ours(searcher, q) == pytest.approx(expected[name], rel=1e-9), name
    assert _ours(searcher, phrase).keys() == expected_phrase


def _run_at_once(target, n: int) -> None:
    """``target`` in ``n`` threads at once, switching between them as often as Python can
    (a race shows in a few runs instead of thousands)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=target) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)


@pytest.mark.parametrize("kept", [1, 5, 200_000])
def test_block_heads_kept_per_segment_read_alike_cold_warm_and_evicted(searcher, monkeypatch, kept):
    """One segment table across queries, twice over: heads read, kept, evicted (``kept``
    block heads at most, beyond the last term read) and read again; absent terms too."""
    from oralhist.search import restriction

    monkeypatch.setattr(restriction, "POSTING_HEADS_KEPT", kept)
    table = SegmentTable.load(searcher.reader())
    evaluator = SegmentEvaluator(searcher, searcher, table, Language("en"))
    phrase = wq.Phrase("exact", ["picket", "line"])
    for _ in range(2):
        for name, q in SCORED.items():
            found = evaluator.matches(q).to_dict()
            assert found == pytest.approx(_reference(searcher, q), rel=1e-9), name
        assert evaluator.matches(phrase).to_dict().keys() == _whoosh(searcher, phrase).keys()
    assert table.heads_kept == sum(
        len(v[1]) if v[0] is not None and v != restriction._MISSING else 1
        for v in table.posting_heads.values()
    )
    if kept < 200_000:
        last = next(reversed(table.posting_heads.values()))
        assert table.heads_kept <= max(kept, restriction._heads_in(last))
    else:
        assert ("body", "nowhere") in table.posting_heads  # an absent term, kept as such


@pytest.mark.parametrize("n", [1, 3, 100, 512])
@pytest.mark.parametrize("large_gaps", [False, True], ids=["H ids", "I ids"])
def test_usual_blocks_read_from_their_bytes_as_pickle_reads_them(n, large_gaps):
    """``ids_and_frequencies`` reads ``H``/``I`` ids with ``B`` frequencies or no weights
    (short and long byte strings), and declines every other form, which ``loads`` reads."""
    from oralhist.search.codec import ids_and_frequencies

    rng = random.Random(n)
    writer = ArrayBlockWriter.__new__(ArrayBlockWriter)
    writer._byteids = False
    start = 100_000 if large_gaps else 5
    writer._ids = array(
        "I", itertools.accumulate([start] + [rng.randint(1, 40) for _ in range(n - 1)])
    )
    ids = writer._mini_ids()
    for weights in (
        array("f", [float(rng.randint(1, 9)) for _ in range(n)]),  # frequencies: B
        array("f", [1.0] * n),  # None
        array("f", [2.0] * n),  # one float: declined
        array("f", [0.5 + i for i in range(n)]),  # floats: declined (n > 1)
    ):
        writer._weights = weights
        block = (ids, writer._mini_weights(), DeflatedValues.of([b"\x00"] * n, 1))
        raw = memoryview(pickle.dumps(block, 5))
        found = ids_and_frequencies(raw)
        stored = pickle.loads(raw)
        if found is None:
            assert isinstance(stored[1], float) or getattr(stored[1], "typecode", "B") == "f"
            continue
        assert found[0].tolist() == list(stored[0])
        if stored[1] is None:
            assert found[1] is None
        else:
            assert found[1].tolist() == list(stored[1])
    assert ids_and_frequencies(memoryview(pickle.dumps((tuple(ids), None, None), 2))) is None


def _decoded(buf, starts, stops, counts):
    """(id deltas, frequencies) of the blocks, or ``None`` when their layouts are not found."""
    from oralhist.search.codec import block_layouts, decode_blocks

    layout = block_layouts(buf, starts, stops, counts)
    return None if layout is None else decode_blocks(buf, starts, counts, layout)


def _usual_block(rng: random.Random, n: int, large_gaps: bool, weights: str) -> bytes:
    """A block's pickled data as ``ArrayBlockWriter`` writes it: ``n`` postings, ``H`` or
    ``I`` ids, and frequencies (``B``), no weights, one float (whole or not) or float
    weights."""
    writer = ArrayBlockWriter.__new__(ArrayBlockWriter)
    writer._byteids = False
    start = 100_000 if large_gaps else 5
    writer._ids = array(
        "I", itertools.accumulate([start] + [rng.randint(1, 40) for _ in range(n - 1)])
    )
    writer._weights = {
        "B": array("f", [float(rng.randint(1, 9)) for _ in range(n)]),
        "none": array("f", [1.0] * n),
        "float": array("f", [2.0] * n),
        "half": array("f", [2.5] * n),
        "floats": array("f", [0.5 + i for i in range(n)]),
    }[weights]
    block = (writer._mini_ids(), writer._mini_weights(), DeflatedValues.of([b"\x00"] * n, 1))
    return pickle.dumps(block, 5)


@pytest.mark.parametrize("seed", range(6))
def test_many_usual_blocks_read_at_once_as_one_by_one(seed):
    """``decode_blocks`` of ``block_layouts`` reads a run of blocks (``H`` and ``I`` ids
    mixed, short and long byte strings, frequencies, none, or one whole float, other bytes
    between them) as ``pickle.loads`` reads each; one block of any other form, or cut short,
    and the layouts decline the whole run (the caller reads them one by one)."""
    from oralhist.search.codec import (
        block_layouts,
        deflated_values,
        ids_and_frequencies,
    )

    rng = random.Random(seed)
    blocks = [
        _usual_block(
            rng,
            rng.choice([1, 3, 47, 85, 300, 512]),
            rng.random() < 0.3,
            rng.choice(["B", "none", "float"]),
        )
        for _ in range(rng.randint(1, 40))
    ]
    buf, starts, stops = bytearray(), [], []
    for raw in blocks:
        buf += bytes(rng.randint(0, 30))  # a block's head, or another term's bytes
        starts.append(len(buf))
        buf += raw
        stops.append(len(buf))
    counts = np.array([len(pickle.loads(raw)[0]) for raw in blocks], dtype=np.int64)
    args = (np.frombuffer(bytes(buf), np.uint8), np.array(starts), np.array(stops), counts)
    deltas, weights = _decoded(*args)
    stored = [pickle.loads(raw) for raw in blocks]
    assert deltas.tolist() == [i for ids, _, _ in stored for i in ids]
    assert weights.tolist() == [
        int(f) for ids, w, _ in stored for f in (w if isinstance(w, array) else [w or 1] * len(ids))
    ]
    assert weights.dtype == np.uint8 and deltas.dtype == np.int64
    # Their positions, still deflated, as ``loads`` gives them.
    layout = block_layouts(*args)
    values = deflated_values(args[0], args[1], counts, layout)
    assert [(v.count, v.deflated) for v in values] == [(v.count, v.deflated) for _, _, v in stored]
    # Any other form anywhere declines them all, as does a block cut short.
    odd = rng.randrange(len(blocks))
    for other in ("half", "floats"):
        raw = _usual_block(rng, 60, False, other)
        assert ids_and_frequencies(raw) is None
        again = bytearray(buf[: starts[odd]]) + raw
        moved = len(again) - stops[odd]
        again += buf[stops[odd] :]
        new_stops = np.array(stops) + np.where(np.arange(len(stops)) >= odd, moved, 0)
        new_starts = np.array(starts) + np.where(np.arange(len(starts)) > odd, moved, 0)
        new_counts = counts.copy()
        new_counts[odd] = 60
        found = _decoded(np.frombuffer(bytes(again), np.uint8), new_starts, new_stops, new_counts)
        assert found is None
    # Cut short inside its ids, or inside its fixed bytes.
    for cut in (blocks[odd].index(b"\x94t\x94R\x94") - 1, 50):
        short = np.array(stops)
        short[odd] = starts[odd] + cut
        assert _decoded(args[0], args[1], short, counts) is None
    wrong = counts.copy()
    wrong[odd] += 1
    assert _decoded(args[0], args[1], args[2], wrong) is None


def test_block_heads_and_speaker_filters_kept_alike_by_threads_at_once(searcher, monkeypatch):
    """A serving process's threads share a segment table (gthread workers): its caches of
    block heads and speaker filters, evicting at every turn, neither fail nor disagree
    when eight threads look up and evict at once (each with its own reader, as each
    request has)."""
    from oralhist.search import restriction

    monkeypatch.setattr(restriction, "POSTING_HEADS_KEPT", 1)
    reader = searcher.reader()
    terms = sorted({t.decode() for t in reader.lexicon("body")})[:40]
    table = SegmentTable.load(reader)
    serial = {t: restriction._heads_in(table.postings(reader, "body", t)) for t in terms}
    speakers = [frozenset({k}) for k in sorted({t.decode() for t in reader.lexicon("speaker_key")})]
    expected_docs = {k: table.speaker_docs(k, lambda name: {name}).tolist() for k in speakers}
    failures: list = []
    start = threading.Barrier(8)

    def run() -> None:
        with searcher._ix.searcher() as own:
            mine = own.reader()
            start.wait()
            try:
                for _ in range(60):
                    for t in terms:
                        got = restriction._heads_in(table.postings(mine, "body", t))
                        assert got == serial[t], t
                    for k in speakers * 2:
                        assert (
                            table.speaker_docs(k, lambda name: {name}).tolist()
                            == (expected_docs[k])
                        )
            except Exception as error:  # reported below, whatever it is
                failures.append(repr(error))

    _run_at_once(run, 8)
    assert failures == []
    assert table.heads_kept == sum(restriction._heads_in(v) for v in table.posting_heads.values())


OR_OF_WORDS = {
    "common and rare words": wq.Or([T("mill"), T("word7"), T("factory"), T("strike")]),
    "with an absent word": wq.Or([T("nowhere"), T("union"), T("word59")]),
    "exact field": wq.Or([T("picket", "exact"), T("line", "exact"), T("mill", "exact")]),
    "under an access mask": wq.Or([T("mill"), T("strike"), T("word3")]),
}


@pytest.mark.parametrize("name", OR_OF_WORDS)
@pytest.mark.parametrize("at_once_from", [1, 10**9])
def test_words_read_together_score_as_each_word_on_its_own(
    searcher, monkeypatch, name, at_once_from
):
    """An Or of words (a prefix's expansion) read and decoded together (``words_or``,
    ``codec.decode_blocks``) gives the same docnums and the same scores, bit for bit, as
    each word's ``term`` and ``_or``; so do a word's blocks read at once or one by one;
    cold (the blocks' layouts found and kept with their heads) and warm (kept)."""
    from oralhist.search import evaluate, restriction

    q = OR_OF_WORDS[name]
    monkeypatch.setattr(evaluate, "READ_AT_ONCE_FROM", at_once_from)
    table = SegmentTable.load(searcher.reader())
    together = SegmentEvaluator(searcher, searcher, table, Language("en"))
    alone = SegmentEvaluator(
        searcher, searcher, SegmentTable.load(searcher.reader()), Language("en")
    )
    if name == "under an access mask":  # docnums allowed in runs of 300, as interviews are
        n = searcher.reader().doc_count_all()
        mask = bytearray((d // 300) % 2 for d in range(n))
        together._set_allowed(mask)
        alone._set_allowed(mask)
    cold, warm = together.matches(q), together.matches(q)
    laid_out = [
        v[1]
        for v in table.posting_heads.values()
        if v[0] is not None and v is not restriction._MISSING
    ]
    monkeypatch.setattr(SegmentEvaluator, "words_or", lambda self, words: None)
    monkeypatch.setattr(evaluate, "READ_AT_ONCE_FROM", 10**9)
    expected = alone.matches(q)
    assert len(expected) and expected.ids.tolist() == cold.ids.tolist() == warm.ids.tolist()
    assert expected.scores.tolist() == cold.scores.tolist() == warm.scores.tolist()
    if isinstance(searcher.reader().codec(), type(codec())):
        # the codec's blocks are decoded together: their layouts are kept
        assert any((t[:, 5] >= 0).any() for t in laid_out)
        assert all(((t[:, 5] >= 0) | (t[:, 5] == -1)).all() for t in laid_out)


def _summed_in_order(parts) -> dict[int, float]:
    """Each docnum's scores added one after another in the parts' order (as ``bincount``)."""
    sums: dict[int, float] = {}
    for ids, scores in parts:
        for d, score in zip(ids.tolist(), scores.tolist(), strict=True):
            sums[d] = sums[d] + score if d in sums else score
    return sums


@pytest.mark.parametrize("span", [60, 10**6], ids=["dense", "sparse"])
def test_union_adds_each_docnums_scores_in_the_parts_order(span):
    from oralhist.search import evaluate

    rng = np.random.default_rng(span)
    parts = []
    for _ in range(5):  # docnum 7 in every part: five scores to add
        ids = np.union1d(rng.choice(span, size=40, replace=False), [7]).astype(np.int64)
        parts.append((ids, rng.random(len(ids)) * 10))
    got = evaluate._union(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), len(parts)
    )
    expected = _summed_in_order(parts)
    assert got.ids.tolist() == sorted(expected)
    assert got.scores.tolist() == [expected[d] for d in sorted(expected)]


@pytest.mark.parametrize(
    ("span", "top_weight", "words", "masked"),
    [
        (5000, 7, 64, False),  # a 32-bit key: 13 + 6 + 3 bits
        (5000, 7, 64, True),
        (2**24, 7, 64, False),  # 64-bit: 24 + 6 + 3 bits, one too many
        (2**27, 7, 64, False),  # 64-bit: the docnums' span
        (5000, 200, 64, True),  # 64-bit: a frequency of 200
        (5000, 3, 300, False),  # 64-bit: 300 words
        (5000, 1, 2, "all"),  # everything outside the mask
    ],
)
def test_scored_union_scores_each_word_as_bm25_then_adds_them_in_order(
    span, top_weight, words, masked
):
    """``_scored_union`` (a prefix's words scored after one sort of packed keys) gives the
    docnums and, bit for bit, the scores of scoring each word as ``_bm25`` does, then
    adding each docnum's scores in the words' order; whatever the key's width."""
    from oralhist.search import evaluate

    rng = np.random.default_rng(span + words)
    base = 1000  # docnums from a segment's middle: the 32-bit key counts from the smallest
    lengths = rng.integers(0, 256, base + span).astype(np.uint8)
    norm = rng.random(256) * 2
    tops = rng.random(words) * 5
    allowed = None
    if masked == "all":
        allowed = np.zeros(base + span, dtype=bool)
    elif masked:
        allowed = np.asarray([(d // 300) % 2 == 0 for d in range(base + span)])
    parts = []
    for k in range(words):
        size = int(rng.integers(1, 60))
        ids = np.sort(rng.choice(span, size=size, replace=False)).astype(np.int64) + base
        if k < 3:  # three words on one docnum
            ids = np.union1d(ids, [base + 10])
        weights = rng.integers(1, top_weight + 1, len(ids)).astype(np.uint8)
        weights[0] = top_weight
        parts.append((k, ids, weights))
    got = evaluate._scored_union(
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        [len(p[1]) for p in parts],
        tops,
        allowed,
        lengths,
        norm,
    )
    scored = []
    for k, ids, weights in parts:
        if allowed is not None:
            keep = allowed[ids]
            ids, weights = ids[keep], weights[keep]
        scored.append((ids, tops[k] * weights / (weights + norm[lengths[ids]])))
    expected = _summed_in_order(scored)
    assert got.ids.tolist() == sorted(expected)
    assert got.scores.tolist() == [expected[d] for d in sorted(expected)]
    if masked == "all":
        assert len(got) == 0
    elif not masked:
        assert base + 10 in got.ids.tolist()  # the docnum of three words
    else:
        assert len(got)


def test_an_or_with_a_words_postings_inline_is_read_word_by_word(searcher, monkeypatch):
    """Postings inline in a term info (a codec with an ``inlinelimit`` over 1: whoosh 2.7.5
    cannot write them, but a reader may meet them) make ``words_or`` decline; the Or is then
    each word's ``term``, with the same docnums and scores."""
    table = SegmentTable.load(searcher.reader())
    evaluator = SegmentEvaluator(searcher, searcher, table, Language("en"))
    q = wq.Or([T("1956"), T("mill"), T("strike")])
    together = evaluator.matches(q).to_dict()
    m = searcher.reader().postings("body", "1956")
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    inline = (ids, weights, None)
    postings = table.postings

    def with_inline(reader, fieldname, text):
        return (None, inline) if text == "1956" else postings(reader, fieldname, text)

    monkeypatch.setattr(table, "postings", with_inline)
    assert evaluator.words_or(q.subqueries) is None
    assert together and evaluator.matches(q).to_dict() == together


@pytest.mark.parametrize("seed", range(5))
def test_blocks_outside_the_access_ranges_are_skipped_as_the_mask_says(seed):
    """The blocks chosen from the ranges a mask was made of (two binary searches for all
    blocks) are the blocks holding some of the mask (a byte search a block) for one set of
    ranges; for two (a restriction narrowed by a filter) they hold at least those."""
    from oralhist.search.evaluate import _narrow

    rng = np.random.default_rng(seed)
    n = 50_000
    maxes = np.unique(rng.integers(0, n, 300))
    table = np.zeros((len(maxes), 5), dtype=np.int64)
    table[:, 1] = maxes

    def ranges(k):
        cuts = np.unique(rng.integers(0, n, 2 * k))
        return cuts[0::2][: len(cuts) // 2].tolist(), cuts[1::2].tolist()

    evaluator = SegmentEvaluator.__new__(SegmentEvaluator)
    sets = [ranges(40), ranges(5)]
    for count in (1, 2):
        mask = None
        for starts, ends in sets[:count]:
            mask = _narrow(mask, starts, ends, n)
        evaluator._set_allowed(mask)
        by_bytes = set(evaluator._chosen_blocks(table, None).tolist())
        evaluator._set_allowed(mask, [(np.asarray(s), np.asarray(e)) for s, e in sets[:count]])
        by_ranges = set(evaluator._chosen_blocks(table, None).tolist())
        assert by_bytes and by_bytes <= by_ranges
        if count == 1:
            assert by_ranges == by_bytes
            assert len(by_bytes) < len(maxes)  # some blocks hold none of the mask


def test_layouts_found_by_threads_at_once_give_the_same_results(searcher, monkeypatch):
    """Eight threads evaluate Ors of words and phrases over one fresh segment table at once
    (blocks read at once from the first block): each block's layout is found and stored
    while the others read the same table, and every result is the one a thread alone got."""
    from oralhist.search import evaluate

    monkeypatch.setattr(evaluate, "READ_AT_ONCE_FROM", 1)
    queries = [*OR_OF_WORDS.values(), wq.Phrase("exact", ["picket", "line"])]
    alone = SegmentEvaluator(
        searcher, searcher, SegmentTable.load(searcher.reader()), Language("en")
    )
    expected = [alone.matches(q).to_dict() for q in queries]
    assert all(expected)
    for _ in range(3):
        table = SegmentTable.load(searcher.reader())  # no layout known yet
        failures: list = []
        start = threading.Barrier(8)

        def run(table=table, failures=failures, start=start) -> None:
            with searcher._ix.searcher() as own:
                evaluator = SegmentEvaluator(own, own, table, Language("en"))
                start.wait()
                try:
                    for _ in range(5):
                        for q, want in zip(queries, expected, strict=True):
                            assert evaluator.matches(q).to_dict() == want
                except Exception as error:  # reported below, whatever it is
                    failures.append(repr(error))

        _run_at_once(run, 8)
        assert failures == []
