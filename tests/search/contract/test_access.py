"""The leak test: a word said only in an interview a user may not read never reaches that user,
not in hits, snippets, totals, facets nor "did you mean", whatever the query form; it does
for an archivist and for a granted user. Catalogue records follow their own rule."""

from __future__ import annotations

import dataclasses

import pytest

from oralhist.search import InterviewGroup, SearchScope

from ..conftest import ANONYMOUS, ARCHIVIST, RESEARCHER, TODAY

# marker word -> (interview id, who hid it)
HIDDEN = {
    "zanzibarite": 10,  # restricted
    "quorblatt": 11,  # closed
    "flimflammery": 12,  # a draft (owned by the researcher)
    "vexillarium": 13,  # embargoed until 2040
    "grommetry": 14,  # somebody else's draft
}
SPEAKERS = {10: "Ada Secret", 11: "Bo Closed", 12: "Cy Draft", 13: "Di Embargo", 14: "Ed Other"}


def forms(marker: str) -> list[str]:
    """The marker as every query form: word, phrase, prefix, wildcard, fuzzy, OR, field."""
    return [
        marker,
        marker.upper(),
        f'"{marker}"',
        marker[:5] + "*",
        marker[:4] + "?" + marker[5:],
        marker[:-1] + "~",  # one letter missing
        marker[:-2] + "~2",
        f"{marker} OR strike",
        f"speaker:{SPEAKERS[HIDDEN[marker]].split()[1].lower()} {marker}",
    ]


def leaked(results, marker: str, iid: int) -> list[str]:
    """Everything in ``results`` that gives the hidden words away."""
    problems = []
    for g in results.groups:
        if isinstance(g, InterviewGroup) and g.interview_id == iid and g.total_moments:
            problems.append(f"{g.total_moments} moments of interview {iid}")
        snippets = [m.snippet_html for m in getattr(g, "moments", [])]
        snippets.append(getattr(g, "snippet_html", ""))
        if any(marker in s.lower() for s in snippets):
            problems.append("marker in a snippet")
    speaker = SPEAKERS[iid]
    if speaker in dict(results.facets["speaker"]):
        problems.append("speaker facet")
    if results.suggestion and marker[:5] in results.suggestion.lower():
        problems.append(f"suggestion {results.suggestion!r}")
    return problems


def expected_moments(iid: int, query: str) -> int:
    """Interview 10 also has an index point with its marker (index points have no speaker)."""
    return 2 if iid == 10 and not query.startswith("speaker:") else 1


def visible_moments(results, iid: int) -> int:
    return sum(
        g.total_moments
        for g in results.groups
        if isinstance(g, InterviewGroup) and g.interview_id == iid
    )


@pytest.mark.parametrize("scope", [ANONYMOUS, RESEARCHER], ids=["anonymous", "researcher"])
@pytest.mark.parametrize("marker", list(HIDDEN))
def test_hidden_words_never_reach_a_user_without_access(built_index, scope, marker):
    iid = HIDDEN[marker]
    baseline = built_index.search("strike", scope)
    for query in forms(marker):
        results = built_index.search(query, scope)
        assert leaked(results, marker, iid) == [], query
        assert visible_moments(results, iid) == 0, query
        if query.endswith("OR strike"):
            # Totals and facets are exactly those of the visible part.
            assert results.total_groups == baseline.total_groups
            assert results.total_moments == baseline.total_moments
            assert results.facets == baseline.facets
        elif not query.startswith("speaker:"):
            assert results.total_moments == 0, query
    assert built_index.search_interview(iid, marker, scope) == []
    # A near miss is not corrected towards the hidden word.
    assert built_index.search(marker[:-1] + "x", scope).suggestion is None
    assert built_index.suggest(marker[:-1] + "x", scope) is None


@pytest.mark.parametrize("marker", list(HIDDEN))
def test_an_archivist_finds_every_form(built_index, marker):
    iid = HIDDEN[marker]
    for query in forms(marker):
        results = built_index.search(query, ARCHIVIST)
        assert visible_moments(results, iid) == expected_moments(iid, query), query
        assert SPEAKERS[iid] in dict(results.facets["speaker"]), query
    assert built_index.search(marker[:-1] + "x", ARCHIVIST).suggestion == marker
    assert len(built_index.search_interview(iid, marker, ARCHIVIST)) == expected_moments(iid, "")


@pytest.mark.parametrize("marker", list(HIDDEN))
def test_a_grant_opens_exactly_that_interview(built_index, marker):
    iid = HIDDEN[marker]
    granted = dataclasses.replace(RESEARCHER, granted_interview_ids=frozenset({iid}))
    for query in forms(marker):
        results = built_index.search(query, granted)
        assert visible_moments(results, iid) == expected_moments(iid, query), query
        assert "<mark>" in results.groups[0].moments[0].snippet_html or query.endswith("strike")
    others = [m for m, i in HIDDEN.items() if i != iid]
    for other in others:
        assert visible_moments(built_index.search(other, granted), HIDDEN[other]) == 0


def test_an_embargo_that_has_ended_no_longer_hides(built_index):
    assert visible_moments(built_index.search("oldembargoword", ANONYMOUS), 15) == 1
    before = dataclasses.replace(ANONYMOUS, today=20191231)
    assert visible_moments(built_index.search("oldembargoword", before), 15) == 0


def test_a_published_restricted_interview_is_found_by_its_catalogue_record(built_index):
    results = built_index.search('"ada secret"', ANONYMOUS)
    (group,) = results.groups
    assert group.interview_id == 10
    assert group.catalogue_match and group.moments == [] and group.total_moments == 0
    assert group.title == "A restricted interview"
    assert dict(results.facets["kind"]) == {"interview": 1}


def test_draft_catalogue_records_only_for_their_owner(built_index):
    # "winter" is in the draft's title and in its words: its owner finds the record only.
    own = built_index.search("winter", RESEARCHER)
    (group,) = own.groups
    assert group.interview_id == 12 and group.catalogue_match and group.total_moments == 0
    assert built_index.search("winter", ANONYMOUS).total_groups == 0
    someone = dataclasses.replace(RESEARCHER, owner_user_id=5)
    assert built_index.search("winter", someone).total_groups == 0
    assert built_index.search('"someone else"', RESEARCHER).total_groups == 0


def test_restricted_documents(built_index):
    assert built_index.search("hushhushword", RESEARCHER).total_groups == 0
    assert built_index.search("hushhush*", RESEARCHER).total_groups == 0
    assert built_index.search("hushhushwor", RESEARCHER).suggestion is None
    reader = dataclasses.replace(RESEARCHER, document_levels=frozenset({"restricted"}))
    assert built_index.search("hushhushword", reader).total_groups == 1
    assert built_index.search("hushhushword", ARCHIVIST).total_groups == 1


def test_facet_counts_ignore_hidden_interviews(built_index):
    anonymous = built_index.search("papers OR cellar OR meeting OR winter", ANONYMOUS)
    assert anonymous.total_groups == 1  # only the ended embargo's "papers"
    assert dict(anonymous.facets["narrator"]) == {"Fay Past": 1}
    everything = built_index.search("papers OR cellar OR meeting OR winter", ARCHIVIST)
    assert everything.total_groups == 5


def test_scope_defaults_are_the_anonymous_public():
    scope = SearchScope()
    assert not scope.everything and scope.levels == {"open"} and scope.today == 0
    assert TODAY > 0
