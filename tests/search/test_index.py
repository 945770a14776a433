"""Keeping the index right: replacing and deleting, batches, rebuild and swap, other
processes' changes seen on the next query, writers in two processes, missing and damaged
indexes."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from oralhist.search import IndexUnavailable, InterviewGroup, SearchIndex

from .conftest import ARCHIVIST, RESEARCHER, archive, document, interview


def interview_ids(results) -> set[int]:
    return {g.interview_id for g in results.groups if isinstance(g, InterviewGroup)}


def test_create_is_idempotent_and_exists(tmp_path):
    ix = SearchIndex(tmp_path / "new" / "index")
    assert not ix.exists()
    ix.create()
    ix.create()
    assert ix.exists()
    ix.check()
    assert ix.doc_count() == 0
    assert ix.search("anything", ARCHIVIST).total_groups == 0


def test_replace_interview_replaces_every_record(fresh_index):
    fresh_index.replace_interview(
        2, interview(2, [("Joe Novak", "Now it is all about the lighthouse.")], year=1980)
    )
    assert interview_ids(fresh_index.search("lighthouse", RESEARCHER)) == {2}
    assert 2 not in interview_ids(fresh_index.search("dockers", RESEARCHER))
    (group,) = fresh_index.search("lighthouse", RESEARCHER).groups
    assert group.year == 1980  # the card follows


def test_interview_filters_follow_a_changed_card(fresh_index):
    """A filter's interviews are kept for the index's generation, and only for it."""
    docs = [("Joe Novak", "Now it is all about the lighthouse.")]
    fresh_index.replace_interview(2, interview(2, docs, year=1980))
    assert interview_ids(fresh_index.search("lighthouse year:1980", RESEARCHER)) == {2}
    assert interview_ids(fresh_index.search("lighthouse year:1980", RESEARCHER)) == {2}
    fresh_index.replace_interview(2, interview(2, docs, year=1990))
    assert interview_ids(fresh_index.search("lighthouse year:1980", RESEARCHER)) == set()
    assert interview_ids(fresh_index.search("lighthouse year:1990", RESEARCHER)) == {2}


def test_replace_interview_changes_access(fresh_index):
    docs = interview(2, [("Joe Novak", "The lighthouse keeper.")], access_level="restricted")
    fresh_index.replace_interview(2, docs)
    assert fresh_index.search("lighthouse", RESEARCHER).total_moments == 0
    assert fresh_index.search("lighthouse", ARCHIVIST).total_moments == 1


def test_delete_interview_and_document(fresh_index):
    fresh_index.delete_interview(1)
    assert 1 not in interview_ids(fresh_index.search("mill", ARCHIVIST))
    assert fresh_index.search("kate", ARCHIVIST).total_groups == 0
    fresh_index.replace_document(1, None)
    assert fresh_index.search("pamphlet", ARCHIVIST).total_groups == 0
    # Deleted records do not come back through filters or kind: either.
    assert fresh_index.search("kind:interview", ARCHIVIST).total_groups == 8
    assert fresh_index.search("kind:document", ARCHIVIST).total_groups == 1


def test_replace_document(fresh_index):
    fresh_index.replace_document(1, document(1, "Revised pamphlet", "A lockout notice."))
    results = fresh_index.search("lockout", RESEARCHER)
    assert [g.title for g in results.groups] == ["Revised pamphlet"]
    assert fresh_index.search('"general strike" kind:document', RESEARCHER).total_groups == 0


def test_apply_is_one_batch(fresh_index):
    fresh_index.apply(
        {
            2: interview(2, [("Joe Novak", "Quayside memories.")]),
            3: None,
            20: interview(20, [("New Voice", "Quayside again.")]),
        },
        {1: None, 3: document(3, "Quayside map", "quayside")},
    )
    assert interview_ids(fresh_index.search("quayside", ARCHIVIST)) == {2, 20}
    assert fresh_index.search("quayside", ARCHIVIST).total_groups == 3
    assert fresh_index.search("greve", ARCHIVIST).total_groups == 0
    assert fresh_index.search("pamphlet", ARCHIVIST).total_groups == 0


def test_a_document_of_the_wrong_interview_is_refused(fresh_index):
    with pytest.raises(ValueError):
        fresh_index.replace_interview(2, interview(3, [("A", "b")]))


def test_another_instance_sees_changes_on_its_next_query(fresh_index):
    other = SearchIndex(fresh_index.path)
    assert other.search("lighthouse", ARCHIVIST).total_groups == 0
    fresh_index.replace_interview(2, interview(2, [("Joe Novak", "The lighthouse.")]))
    assert interview_ids(other.search("lighthouse", ARCHIVIST)) == {2}
    other.close()


def test_rebuild_swaps_in_a_fresh_index(fresh_index):
    other = SearchIndex(fresh_index.path)
    assert other.search("mill", ARCHIVIST).total_groups
    calls = []
    stats = fresh_index.rebuild(
        [interview(30, [("New", "Only the windmill remains.")])],
        [document(9, "Windmill plan", "windmill")],
        progress=calls.append,
    )
    assert (stats.interviews, stats.documents, stats.records) == (1, 1, 3)
    assert stats.words == 4 and stats.words_per_second > 0
    assert calls == [1, 1]
    assert other.search("mill", ARCHIVIST).total_groups == 0  # the old index is gone
    assert other.search("windmill", ARCHIVIST).total_groups == 2
    leftovers = [p for p in fresh_index.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    other.close()


def test_rebuild_replaces_a_damaged_index(tmp_path):
    path = tmp_path / "index"
    path.mkdir()
    (path / "_MAIN_1.toc").write_bytes(b"garbage")
    ix = SearchIndex(path)
    with pytest.raises(IndexUnavailable):
        ix.check()
    ix.rebuild([interview(1, [("A", "repaired")])], [])
    ix.check()
    assert ix.search("repaired", ARCHIVIST).total_groups == 1


def test_check_reports_a_missing_index(tmp_path):
    ix = SearchIndex(tmp_path / "nowhere")
    with pytest.raises(IndexUnavailable) as raised:
        ix.check()
    assert raised.value.status == 503
    assert "oralhist reindex" in raised.value.message
    with pytest.raises(IndexUnavailable):
        ix.search("strike", ARCHIVIST)
    with pytest.raises(IndexUnavailable):
        ix.replace_interview(1, interview(1, [("A", "b")]))


@pytest.mark.parametrize("damage", ["toc", "segment"])
def test_check_reports_a_damaged_index(fresh_index, damage):
    fresh_index.close()
    files = list(Path(fresh_index.path).iterdir())
    if damage == "toc":
        (toc,) = [f for f in files if f.suffix == ".toc"]
        toc.write_bytes(b"\x00" * 40)
    else:
        for f in files:
            if f.suffix == ".seg":
                f.unlink()
    ix = SearchIndex(fresh_index.path)
    with pytest.raises(IndexUnavailable) as raised:
        ix.check()
    assert "oralhist reindex" in raised.value.message
    with pytest.raises(IndexUnavailable):
        ix.search("strike", ARCHIVIST)


def test_a_held_write_lock_is_index_unavailable_not_lock_error(fresh_index):
    from whoosh import index as windex

    ix = windex.open_dir(str(fresh_index.path))
    writer = ix.writer()
    try:
        impatient = SearchIndex(fresh_index.path, writer_timeout=0.2)
        with pytest.raises(IndexUnavailable, match="busy"):
            impatient.replace_interview(2, interview(2, [("A", "blocked")]))
    finally:
        writer.cancel()
        ix.close()
    fresh_index.replace_interview(2, interview(2, [("A", "unblocked")]))
    assert fresh_index.search("unblocked", ARCHIVIST).total_groups == 1


def _write_batch(path: str, first: int, start, done) -> None:
    ix = SearchIndex(path, writer_timeout=60.0)
    start.wait(30)
    for iid in range(first, first + 5):
        ix.replace_interview(iid, interview(iid, [("W", f"concurrent batch{first} entry{iid}")]))
    done.put((first, os.getpid()))


def test_two_processes_writing_at_once_both_land(fresh_index):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    done = ctx.Queue()
    workers = [
        ctx.Process(target=_write_batch, args=(str(fresh_index.path), first, start, done))
        for first in (100, 200)
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert sorted(done.get(timeout=5)[0] for _ in workers) == [100, 200]
    found = interview_ids(fresh_index.search("concurrent", ARCHIVIST, per_page=50))
    assert found == set(range(100, 105)) | set(range(200, 205))


def test_rebuild_waits_for_nobody_and_keeps_the_old_index_searchable(tmp_path):
    ix = SearchIndex(tmp_path / "index")
    interviews, documents = archive()
    ix.rebuild(interviews, documents)
    reader = SearchIndex(ix.path)
    seen = []

    def slow_interviews():
        for docs in interviews:
            seen.append(reader.search("strike", ARCHIVIST).total_groups)
            yield docs

    ix.rebuild(slow_interviews(), documents)
    assert seen and all(n == seen[0] > 0 for n in seen)
    reader.close()


def test_rebuild_removes_what_a_killed_rebuild_left(tmp_path):
    ix = SearchIndex(tmp_path / "index")
    dead = tmp_path / ".index.rebuild-999999999-abcd1234"
    dead.mkdir()
    (dead / "MAIN.tmp").mkdir()
    ix.rebuild([interview(1, [("A", "fresh")])], [])
    assert not dead.exists()
    assert ix.search("fresh", ARCHIVIST).total_groups == 1
