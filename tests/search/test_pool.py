"""The rebuild's posting pool and indexing processes (``oralhist.search.pool``): the index they
write is whoosh's own, posting for posting and byte for byte, however many runs the pool
spills; their temporary files go after a commit and after a cancel; a failed indexing process
fails the commit instead of leaving its documents out."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest
from whoosh import fields
from whoosh.fields import UnknownFieldError
from whoosh.reading import SegmentReader
from whoosh.writing import IndexingError
from whoosh.writing import PostingPool as WhooshPostingPool
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

import oralhist.search.rebuild as search_rebuild
from oralhist.search import SearchIndex, pool
from oralhist.search.codec import codec
from oralhist.search.schema import build_schema, card_fields, card_of, index_fields
from oralhist.search.storage import PreadFileStorage

from .conftest import ARCHIVIST, archive, interview

# A tiny limit: a run every few dozen postings.
TINY_MB = 0.02
COMMON = ["strike", "union", "mill", "the", "and", "picket", "wages", "mother"]


def generated_archive(interviews: int = 6, segments: int = 60):
    """The conftest archive plus generated interviews: a few words in most segments (so a
    term's postings span many runs and pieces), many in few."""
    rng = random.Random(7)
    rare = [f"w{n}x" for n in range(300)]
    extra = []
    for i in range(interviews):
        iid = 100 + i
        texts = []
        for _ in range(segments):
            words = rng.choices(COMMON, k=rng.randint(2, 6)) + rng.choices(rare, k=4)
            rng.shuffle(words)
            texts.append((f"Speaker {i % 3}", " ".join(words) + "."))
        extra.append(interview(iid, texts, narrators=(f"Narrator {i}",), year=1950 + i))
    interviews_, documents = archive()
    return interviews_ + extra, documents


def all_fields(interviews, documents) -> list[dict]:
    out = []
    for docs in interviews:
        out += [index_fields(d) for d in docs]
        out.append(card_fields(card_of(docs[0])))
    return out + [index_fields(d) for d in documents]


def new_index(path: Path):
    path.mkdir()
    return PreadFileStorage(path).create_index(build_schema("en"))


def postings(reader: SegmentReader, key=None) -> Counter:
    """Every posting of a segment: (field, term, doc, weight, value, field length); ``key``
    names a document by something other than its docnum."""
    out = Counter()
    for fieldname, tbytes in reader.all_terms():
        m = reader.postings(fieldname, tbytes)
        while m.is_active():
            docnum = m.id()
            doc = docnum if key is None else key(reader, docnum)
            length = reader.doc_field_length(docnum, fieldname)
            out[(fieldname, tbytes, doc, m.weight(), m.value(), length)] += 1
            m.next()
    return out


def segment_files(path: Path) -> dict[str, bytes]:
    """A one-segment index's files by extension (segment names are random)."""
    files = {}
    for f in path.iterdir():
        if f.suffix != ".toc" and f.is_file() and "WRITELOCK" not in f.name:
            files[f.name.split(".", 1)[1]] = f.read_bytes()
    return files


def write_one_segment(path: Path, writer_class, fields: list[dict], **kwargs):
    ix = new_index(path)
    writer = writer_class(ix, codec=codec(), compound=False, **kwargs)
    for f in fields:
        writer.add_document(**f)
    runs = len(writer.pool.runs)
    writer.commit()
    return ix, runs


def written_both_ways(tmp_path: Path, fields: list[dict], **kwargs):
    """(whoosh's segment, ours, our writer's spilled runs) of the same documents."""
    plain_ix, _ = write_one_segment(tmp_path / "plain", WhooshSegmentWriter, fields)
    fast_ix, runs = write_one_segment(tmp_path / "fast", pool.SegmentWriter, fields, **kwargs)
    return plain_ix, fast_ix, runs


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces and chunks of a few postings: every term of any size is split across both."""
    monkeypatch.setattr(pool, "PIECE_POSTINGS", 5)
    monkeypatch.setattr(pool, "CHUNK_POSTINGS", 16)


def test_a_segment_is_whooshs_byte_for_byte_however_many_runs(tmp_path, small_pieces):
    fields = all_fields(*generated_archive())
    plain_ix, fast_ix, runs = written_both_ways(tmp_path, fields, limitmb=TINY_MB)
    assert runs >= 10
    with plain_ix.reader() as plain, fast_ix.reader() as fast:
        expected = postings(plain)
        assert len(expected) > 5_000
        assert postings(fast) == expected
        assert list(fast.iter_docs()) == list(plain.iter_docs())
    plain_files = segment_files(tmp_path / "plain")
    assert {"pst", "trm", "_stored.col", "_exact_len.col"} <= set(plain_files)
    assert segment_files(tmp_path / "fast") == plain_files
    # Nothing left of the runs (nor of the writer's temporary storage).
    assert not [p for p in (tmp_path / "fast").rglob("*") if p.suffix in (".run", ".tmp")]


def test_boosts_custom_stored_values_and_any_field_order_are_whooshs_too(tmp_path, small_pieces):
    """Documents naming a boost or a custom stored value take whoosh's ``add_document``, and
    the same fields given in another order share one plan: the segment is still whoosh's,
    byte for byte, mixed with the usual records."""
    fields = all_fields(*generated_archive(interviews=2, segments=30))
    for i, f in enumerate(fields):
        if i % 5 == 1:
            f["_boost"] = 2.0
        elif i % 5 == 2 and "exact" in f:
            f["_exact_boost"] = 1.5
            f["_stored_stored"] = {"custom": i}
        elif i % 5 == 3:
            fields[i] = dict(reversed(list(f.items())))
    plain_ix, fast_ix, runs = written_both_ways(tmp_path, fields, limitmb=TINY_MB)
    assert runs >= 2
    with plain_ix.reader() as plain, fast_ix.reader() as fast:
        expected = postings(plain)
        assert {w for (_, _, _, w, _, _) in expected} > {1.0, 2.0}
        assert postings(fast) == expected
        assert list(fast.iter_docs()) == list(plain.iter_docs())
        assert {"custom": 2} in [d.get("stored") for _, d in fast.iter_docs()]
    assert segment_files(tmp_path / "fast") == segment_files(tmp_path / "plain")


def test_long_repetitive_and_accented_records_are_whooshs_byte_for_byte(tmp_path):
    """Past the analysis' precomputed values (a word seen once beyond position 1,024, a word
    seen 300 times), accented and non-ASCII words, a text given to ``body`` and ``exact`` as
    one object and as two equal ones: the segment is whoosh's own, byte for byte."""
    long_text = " ".join(f"w{i}x" for i in range(1_500)) + " strike" * 300 + " Hélène été"
    texts = [
        ("Kate Clark", long_text),
        ("Hélène Dubois", "Hélène said: the café, the CAFÉ, Straße and İstanbul. " * 40),
        ("Kate Clark", "the and of"),
        ("Kate Clark", ""),
    ]
    interviews, documents = archive()
    interviews = [*interviews, interview(300, texts)]
    fields = all_fields(interviews, documents)
    for f in fields[::2]:
        if "exact" in f:
            f["exact"] = "".join(f["exact"])  # equal to body's, not the same object
    plain_ix, fast_ix, _ = written_both_ways(tmp_path, fields)
    with plain_ix.reader() as plain, fast_ix.reader() as fast:
        expected = postings(plain)
        assert ("exact", b"w1400x") in {p[:2] for p in expected}
        assert ("body", b"strike", 300.0) in {(p[0], p[1], p[3]) for p in expected}
        assert postings(fast) == expected
        assert list(fast.iter_docs()) == list(plain.iter_docs())
    assert segment_files(tmp_path / "fast") == segment_files(tmp_path / "plain")


def test_a_field_with_term_vectors_is_whooshs_too(tmp_path):
    """A schema with term vectors (not the archive's) takes whoosh's ``add_document`` for
    documents naming that field; the segment is whoosh's own, byte for byte."""
    schema = fields.Schema(
        title=fields.TEXT(vector=True, stored=True), body=fields.TEXT(), n=fields.NUMERIC()
    )
    docs = [
        {"title": f"strike {i} mill", "body": "the union and the mill " * (i % 4), "n": i}
        for i in range(60)
    ] + [{"body": "no title here", "n": 99}]

    def write(path: Path, writer_class):
        path.mkdir()
        ix = PreadFileStorage(path).create_index(schema)
        writer = writer_class(ix, codec=codec(), compound=False)
        for d in docs:
            writer.add_document(**d)
        writer.commit()
        return ix

    plain_ix = write(tmp_path / "plain", WhooshSegmentWriter)
    fast_ix = write(tmp_path / "fast", pool.SegmentWriter)
    with plain_ix.reader() as plain, fast_ix.reader() as fast:
        assert fast.has_vector(0, "title")
        assert list(fast.vector_as("weight", 3, "title")) == list(
            plain.vector_as("weight", 3, "title")
        )
        assert postings(fast) == postings(plain)
    assert segment_files(tmp_path / "fast") == segment_files(tmp_path / "plain")


def test_an_unknown_field_is_refused_and_the_next_document_written(tmp_path):
    fields = all_fields(*archive())
    ix = new_index(tmp_path / "index")
    writer = pool.SegmentWriter(ix, codec=codec())
    writer.add_document(**fields[0])
    for _ in range(2):  # the refusal is not remembered as a plan
        with pytest.raises(UnknownFieldError, match="no_such_field"):
            writer.add_document(**fields[1], no_such_field="x")
    for f in fields[1:]:
        writer.add_document(**f)
    writer.commit()
    with ix.reader() as reader:
        assert [d for _, d in reader.iter_docs()] == [
            d for _, d in _plain_docs(tmp_path / "plain", fields)
        ]


def _plain_docs(path: Path, fields: list[dict]) -> list:
    ix, _ = write_one_segment(path, WhooshSegmentWriter, fields)
    with ix.reader() as reader:
        return list(reader.iter_docs())


def test_the_rebuild_indexes_what_whooshs_writer_does(tmp_path, monkeypatch, small_pieces):
    monkeypatch.setattr(search_rebuild, "REBUILD_LIMITMB", TINY_MB)
    monkeypatch.setattr(pool, "JOB_DOCS", 40)  # work for both processes
    interviews, documents = generated_archive()
    ix = SearchIndex(tmp_path / "index")
    ix.rebuild(interviews, documents)
    assert ix.search("strike", ARCHIVIST).total_groups

    plain_ix = new_index(tmp_path / "plain")
    writer = plain_ix.writer(procs=2, multisegment=True, limitmb=TINY_MB, codec=codec())
    for f in all_fields(interviews, documents):
        writer.add_document(**f)
    writer.commit()

    def identity(reader, docnum):  # the two writers deal documents to processes differently
        return repr(reader.stored_fields(docnum))

    def every_posting(storage_ix) -> Counter:
        total = Counter()
        with storage_ix.reader() as reader:
            for leaf, _ in reader.leaf_readers():
                total += postings(leaf, identity)
        return total

    fast_ix = PreadFileStorage(tmp_path / "index").open_index()
    assert len(fast_ix._segments()) == 2
    assert every_posting(fast_ix) == every_posting(plain_ix)
    fast_ix.close()
    plain_ix.close()
    ix.close()
    leftovers = [p for p in tmp_path.rglob("*") if p.suffix in (".run", ".tmp", ".doclist")]
    assert leftovers == []


def test_the_rebuild_stores_what_whooshs_writer_does(tmp_path, monkeypatch):
    """Every document of a rebuild, with its stored fields, column values and field lengths,
    is one whoosh's own two-process writer writes (documents are dealt to the processes
    differently, so they are compared as a whole)."""
    monkeypatch.setattr(search_rebuild, "REBUILD_LIMITMB", TINY_MB)
    monkeypatch.setattr(pool, "JOB_DOCS", 40)
    interviews, documents = generated_archive()
    ix = SearchIndex(tmp_path / "index")
    ix.rebuild(interviews, documents)
    ix.close()
    plain_ix = new_index(tmp_path / "plain")
    writer = plain_ix.writer(procs=2, multisegment=True, limitmb=TINY_MB, codec=codec())
    for f in all_fields(interviews, documents):
        writer.add_document(**f)
    writer.commit()
    schema = build_schema("en")
    columns = [name for name, field in schema.items() if field.column_type]
    scored = [name for name, field in schema.items() if field.scorable]

    def documents_of(storage_ix) -> Counter:
        out = Counter()
        with storage_ix.reader() as reader:
            for leaf, _ in reader.leaf_readers():
                readers = {c: leaf.column_reader(c) for c in columns}
                for docnum, stored in leaf.iter_docs():
                    values = tuple(readers[c][docnum] for c in columns)
                    lengths = tuple(leaf.doc_field_length(docnum, f) for f in scored)
                    out[(repr(stored), values, lengths)] += 1
        return out

    fast_ix = PreadFileStorage(tmp_path / "index").open_index()
    expected = documents_of(plain_ix)
    assert sum(expected.values()) == len(all_fields(interviews, documents))
    assert documents_of(fast_ix) == expected
    fast_ix.close()
    plain_ix.close()


def test_postings_come_out_in_whooshs_order_whatever_order_they_went_in(tmp_path):
    """Within a run the pool sorts a term's postings as whoosh sorts tuples (docnum, weight,
    value), duplicates included; added as a writer adds them, any number of runs gives the
    same order."""
    rng = random.Random(3)
    store = PreadFileStorage(tmp_path).create().temp_storage("t.tmp")
    shuffled = [
        (rng.choice("ab"), rng.choice([b"x", b"y", b"z"]), rng.randrange(50), rng.random(), b"v")
        for _ in range(2_000)
    ]
    unordered = pool.PostingPool(store, None, limitmb=1)
    for item in shuffled:
        unordered.add(item)
    assert list(unordered.iter_postings()) == sorted(shuffled)

    # As a writer adds them: docnum by docnum, a term at most once a document.
    in_order = sorted({p[:3]: p for p in shuffled}.values(), key=lambda p: p[2])
    reference = WhooshPostingPool(store, None, limitmb=1)
    spilled = pool.PostingPool(store, None, limitmb=0.002)
    for item in in_order:
        reference.add(item)
        spilled.add(item)
    assert len(spilled.runs) > 5
    assert list(spilled.iter_postings()) == list(reference.iter_postings())
    assert spilled.fieldnames == {"a", "b"}
    assert [p for p in store.list() if p.endswith(".run")] == []


def test_postings_out_of_order_across_runs_are_refused(tmp_path):
    store = PreadFileStorage(tmp_path).create().temp_storage("t.tmp")
    p = pool.PostingPool(store, None, limitmb=1)
    p.add(("a", b"x", 5, 1.0, None))
    p.save()
    p.add(("a", b"x", 2, 1.0, None))
    with pytest.raises(ValueError, match="out of docnum order"):
        list(p.iter_postings())
    p.cleanup()
    assert store.list() == []


def test_cleanup_removes_runs_of_an_unfinished_merge(tmp_path):
    store = PreadFileStorage(tmp_path).create().temp_storage("t.tmp")
    p = pool.PostingPool(store, None, limitmb=0.002)
    for docnum in range(500):
        p.add(("a", b"w%d" % (docnum % 7), docnum, 1.0, b"v"))
    assert len(p.runs) > 2
    merged = p.iter_postings()
    next(merged)
    p.cleanup()
    assert store.list() == []
    merged.close()


def test_a_cancelled_writer_leaves_no_runs(tmp_path):
    ix = new_index(tmp_path / "index")
    writer = pool.SegmentWriter(ix, codec=codec(), limitmb=TINY_MB)
    for f in all_fields(*generated_archive(interviews=2)):
        writer.add_document(**f)
    temp = Path(writer.temp_storage().folder)
    assert list(temp.glob("*.run"))
    writer.cancel()
    assert not temp.exists()
    assert ix.doc_count_all() == 0


def test_cancelling_the_rebuild_writer_stops_its_processes(tmp_path):
    """whoosh's cancel left them waiting for jobs (and the parent waiting for them at exit)."""
    ix = new_index(tmp_path / "index")
    writer = pool.MultiSegmentWriter(
        ix, procs=2, batchsize=20, limitmb=TINY_MB, multisegment=True, codec=codec()
    )
    temp = Path(writer.temp_storage().folder)
    fields = all_fields(*generated_archive(interviews=3))
    for f in fields:
        writer.add_document(**f)
    deadline = time.monotonic() + 30
    while not list(temp.glob("*.run")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(temp.glob("*.run")), "the indexing processes spilled no run"
    writer.cancel()
    assert [t.is_alive() for t in writer.tasks] == [False, False]
    assert [t.exitcode for t in writer.tasks] == [0, 0]
    assert not temp.exists()
    assert ix.doc_count_all() == 0
    # The lock is free again.
    ix.writer().cancel()


def test_a_failed_indexing_process_fails_the_commit(tmp_path):
    ix = new_index(tmp_path / "index")
    writer = pool.MultiSegmentWriter(ix, procs=2, batchsize=10, multisegment=True, codec=codec())
    for f in all_fields(*archive()):
        writer.add_document(**f)
    writer.add_document(no_such_field="boom")  # fails in the indexing process that gets it
    with pytest.raises(IndexingError, match="failed"):
        writer.commit()
    assert ix.doc_count_all() == 0
    assert not Path(writer.temp_storage().folder).exists()
    ix.writer().cancel()
