"""Keeping a backend's index right: creating it, replacing and deleting interviews and
documents, batches, and a full rebuild, through the ``SearchBackend`` protocol."""

from __future__ import annotations

import pytest

from oralhist.search import InterviewGroup

from ..conftest import ARCHIVIST, RESEARCHER, document, interview


def interview_ids(results) -> set[int]:
    return {g.interview_id for g in results.groups if isinstance(g, InterviewGroup)}


def test_create_is_idempotent_and_exists(new_backend):
    ix = new_backend(create=False)
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


def test_rebuild_replaces_everything_and_counts_what_it_did(fresh_index):
    calls = []
    stats = fresh_index.rebuild(
        [interview(30, [("New", "Only the windmill remains.")])],
        [document(9, "Windmill plan", "windmill")],
        progress=calls.append,
    )
    assert (stats.interviews, stats.documents, stats.records) == (1, 1, 3)
    assert stats.words == 4 and stats.words_per_second > 0
    assert calls == [1, 1]
    assert fresh_index.search("mill", ARCHIVIST).total_groups == 0  # the old content is gone
    assert fresh_index.search("windmill", ARCHIVIST).total_groups == 2
    fresh_index.check()
