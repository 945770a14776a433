"""The Whoosh engine keeping its index right: rebuild and swap, other processes' changes
seen on the next query, writers in two processes, missing and damaged indexes. What every
backend must do (replacing, deleting, batches) is in ``contract/test_writing.py``."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from oralhist.search import IndexUnavailable, InterviewGroup, SearchIndex
from oralhist.search.storage import PreadFileStorage

from .conftest import ARCHIVIST, archive, document, interview


def interview_ids(results) -> set[int]:
    return {g.interview_id for g in results.groups if isinstance(g, InterviewGroup)}


def test_another_instance_sees_changes_on_its_next_query(fresh_index):
    other = SearchIndex(fresh_index.path)
    assert other.search("lighthouse", ARCHIVIST).total_groups == 0
    fresh_index.replace_interview(2, interview(2, [("Joe Novak", "The lighthouse.")]))
    assert interview_ids(other.search("lighthouse", ARCHIVIST)) == {2}
    other.close()


def test_rebuild_swaps_in_a_fresh_index(fresh_index):
    """Whoosh-specific: another process's open index sees the swap and no temporary folder
    is left (what a rebuild returns is the contract's, tests/search/contract/test_writing)."""
    other = SearchIndex(fresh_index.path)
    assert other.search("mill", ARCHIVIST).total_groups
    fresh_index.rebuild(
        [interview(30, [("New", "Only the windmill remains.")])],
        [document(9, "Windmill plan", "windmill")],
    )
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


def test_a_rebuild_never_reads_its_segments_through_a_map(tmp_path, monkeypatch):
    """The indexing processes copy each segment's files into one compound file when they
    finish: read through a memory map every page copied stayed resident, and the
    process's peak grew with the size of its segment (2 GB at 10,000 interviews). Here a
    read through the serving storage anywhere in the rebuild (the indexing processes inherit
    the patch) fails it."""

    def mapped(self, name, **kwargs):
        raise AssertionError(f"{name} read through the serving storage during a rebuild")

    monkeypatch.setattr(PreadFileStorage, "open_file", mapped)
    ix = SearchIndex(tmp_path / "index")
    texts = [("Kate Clark", f"The mill closed in the winter of 195{i}.") for i in range(40)]
    stats = ix.rebuild((interview(i, texts) for i in range(1, 30)), [])
    assert stats.interviews == 29
    monkeypatch.undo()
    assert ix.search("mill", ARCHIVIST).total_groups == 29


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps (Linux)")
def test_a_searching_process_maps_no_index_file(tmp_path):
    """Index files are read with ``pread``, not mapped: the pages a query reads stay in the
    page cache instead of the process's resident set (issue 18: 720 MB of a serving process
    at 10,000 interviews were mapped index pages)."""
    ix = SearchIndex(tmp_path / "index")
    texts = [("Kate Clark", f"The mill closed in the winter of 195{i}.") for i in range(40)]
    ix.rebuild((interview(i, texts) for i in range(1, 30)), [])
    assert ix.search("mill", ARCHIVIST).total_groups == 29
    assert ix.search('"the winter"', ARCHIVIST).total_moments == 29 * 40
    maps = Path("/proc/self/maps").read_text()
    assert str(tmp_path / "index") not in maps
    assert ix._searcher is not None  # the index is open while maps are read
    ix.close()
