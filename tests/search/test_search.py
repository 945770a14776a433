"""Searching: grouping by interview, moments with their times, snippets, facets, filters,
stemming and accents, phrases, prefixes, fuzzy words, sorting, paging, "did you mean"."""

from __future__ import annotations

import pytest

from oralhist.search import DocumentHit, InterviewGroup, SearchIndex

from .conftest import ARCHIVIST, RESEARCHER, archive, interview


def groups_by_id(results) -> dict[int, InterviewGroup]:
    return {g.interview_id: g for g in results.groups if isinstance(g, InterviewGroup)}


def all_snippets(results) -> str:
    parts = []
    for g in results.groups:
        if isinstance(g, DocumentHit):
            parts.append(g.snippet_html)
        else:
            parts.extend(m.snippet_html for m in g.moments)
    return "\n".join(parts)


def test_results_are_grouped_by_interview_with_timed_moments(built_index):
    results = built_index.search("strike", RESEARCHER)
    groups = groups_by_id(results)
    assert set(groups) >= {1, 2}
    kate = groups[1]
    assert kate.title == "Kate Clark on the cotton mill"
    assert kate.accession == "OH-1957-001"
    assert kate.collection_title == "Labour Lives"
    assert kate.narrators == ["Kate Clark"]
    assert kate.year == 1957
    assert kate.total_moments == 2  # "Was there a strike?" and "The general strike ..."
    assert [m.start_ms for m in kate.moments] == [20_000, 30_000]  # time order
    assert {m.speaker for m in kate.moments} == {"Interviewer", "Kate Clark"}
    assert all(m.kind == "segment" and m.interview_id == 1 for m in kate.moments)
    assert kate.moments[1].segment_id == 1003
    assert kate.moments[1].end_ms == 39_999
    assert results.total_moments == sum(
        g.total_moments for g in results.groups if isinstance(g, InterviewGroup)
    )


def test_moments_per_group_limits_moments_not_the_count(built_index):
    results = built_index.search("strike", RESEARCHER, moments_per_group=1)
    kate = groups_by_id(results)[1]
    assert len(kate.moments) == 1
    assert kate.total_moments == 2


def test_documents_are_results_of_their_own(built_index):
    results = built_index.search('"general strike"', RESEARCHER)
    docs = [g for g in results.groups if isinstance(g, DocumentHit)]
    assert [d.document_id for d in docs] == [1]
    assert docs[0].title == "Strike pamphlet 1957"
    assert "<mark>general strike</mark>" in docs[0].snippet_html


def test_snippets_escape_html_and_mark_matches(built_index):
    results = built_index.search("fool", ARCHIVIST)
    (moment,) = groups_by_id(results)[1].moments
    assert "<script>" not in moment.snippet_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in moment.snippet_html
    assert "<mark>fool</mark>" in moment.snippet_html


def test_stemming_finds_other_forms(built_index):
    results = built_index.search("organising", RESEARCHER)
    groups = groups_by_id(results)
    assert set(groups) >= {1, 2}  # "organising" (1) and "organised" (2)
    assert "<mark>organised</mark>" in all_snippets(results)


def test_stemming_is_configurable(tmp_path):
    ix = SearchIndex(tmp_path / "unstemmed", language=None)
    interviews, documents = archive()
    ix.rebuild(interviews, documents)
    assert set(groups_by_id(ix.search("organising", RESEARCHER))) == {1}
    with pytest.raises(ValueError, match="stemmer"):
        SearchIndex(tmp_path / "x", language="tlh")


def test_accents_and_case_fold(built_index):
    results = built_index.search("andre", RESEARCHER)
    assert 1 in groups_by_id(results)
    assert "<mark>André</mark>" in all_snippets(results)
    assert 3 in groups_by_id(built_index.search("HELENE", RESEARCHER))  # catalogue
    assert 3 in groups_by_id(built_index.search("greve", RESEARCHER))  # "grève"


def test_exact_phrase(built_index):
    results = built_index.search('"cotton mill"', RESEARCHER)
    assert set(groups_by_id(results)) == {1}
    assert "<mark>cotton mill</mark>" in all_snippets(results)
    # Phrases are not stemmed: "organised the union" is not "organising the union".
    assert not built_index.search('"organised the union"', RESEARCHER).total_groups
    assert built_index.search('"organising the union"', RESEARCHER).total_groups == 1
    # Word order matters.
    assert not built_index.search('"mill cotton"', RESEARCHER).total_groups


def test_or_and_not(built_index):
    both = groups_by_id(built_index.search("cotton OR harbour", RESEARCHER))
    assert set(both) >= {1, 2}
    # NOT excludes moments (records), not whole interviews.
    for query in ("strike -general", "strike NOT general"):
        groups = groups_by_id(built_index.search(query, RESEARCHER))
        assert set(groups) == {1, 2}
        assert groups[1].total_moments == 1
        assert "general" not in groups[1].moments[0].snippet_html
    assert set(groups_by_id(built_index.search("mill -cotton -union", RESEARCHER))) == {1}
    # AND by default: both words in the same record.
    assert set(groups_by_id(built_index.search("strike dockers", RESEARCHER))) == {2}


def test_prefix_and_wildcard(built_index):
    assert set(groups_by_id(built_index.search("dock*", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search("harb?ur", RESEARCHER))) == {2}


def test_prefix_expansion_is_capped_with_a_notice(tmp_path):
    words = " ".join(f"trai{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(100))
    ix = SearchIndex(tmp_path / "many")
    ix.rebuild([interview(1, [("A", words)])], [])
    results = ix.search("trai*", ARCHIVIST)
    assert results.total_groups == 1
    assert any("64" in n and "trai*" in n for n in results.notices)
    assert not ix.search("traia*", ARCHIVIST).notices


def test_fuzzy(built_index):
    assert set(groups_by_id(built_index.search("dockrs~", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search("harbr~2", RESEARCHER))) == {2}
    assert not built_index.search("harbr~", RESEARCHER).total_groups


def test_field_filters_in_the_query(built_index):
    assert set(groups_by_id(built_index.search("speaker:novak strike", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search('speaker:"kate clark" strike', RESEARCHER))) == {1}
    assert set(groups_by_id(built_index.search("narrator:novak", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search("collection:harbour-voices", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search("strike year:1970..1979", RESEARCHER))) == {2}
    assert set(groups_by_id(built_index.search("strike year:1957", RESEARCHER))) == {1}
    kinds = built_index.search("strike kind:document", RESEARCHER)
    assert [type(g) for g in kinds.groups] == [DocumentHit]
    index_points = built_index.search("union kind:index", RESEARCHER)
    (group,) = index_points.groups
    assert [m.kind for m in group.moments] == ["index"]
    assert group.moments[0].start_ms == 10_000


def test_catalogue_records_match(built_index):
    results = built_index.search("dubois", RESEARCHER)  # a person named in the catalogue
    group = groups_by_id(results)[1]
    assert group.catalogue_match
    assert group.moments == [] and group.total_moments == 0


def test_facets_count_result_cards(built_index):
    results = built_index.search("strike", RESEARCHER)
    facets = results.facets
    assert set(facets) == {"collection", "narrator", "speaker", "decade", "language", "kind"}
    assert dict(facets["collection"]) == {"labour-lives": 1, "harbour-voices": 1}
    assert dict(facets["narrator"]) == {"Kate Clark": 1, "Joe Novak": 1}
    assert dict(facets["speaker"]) == {"Interviewer": 1, "Kate Clark": 1, "Joe Novak": 1}
    assert dict(facets["decade"]) == {"1950": 2, "1970": 1}  # Kate, the pamphlet; Joe
    assert dict(facets["language"]) == {"en": 2}
    assert dict(facets["kind"]) == {"segment": 3, "document": 1}
    assert results.total_groups == 3
    assert results.total_moments == 3


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"collection": "harbour-voices"}, {2}),
        ({"narrator": "Kate Clark"}, {1}),
        ({"speaker": "Joe Novak"}, {2}),
        ({"decade": "1950"}, {1, "doc:1"}),
        ({"language": "en"}, {1, 2}),
        ({"kind": "document"}, {"doc:1"}),
        ({"collection": "labour-lives", "speaker": "Interviewer"}, {1}),
    ],
)
def test_filters_narrow(built_index, filters, expected):
    results = built_index.search("strike", RESEARCHER, filters=filters)
    found = {
        g.interview_id if isinstance(g, InterviewGroup) else f"doc:{g.document_id}"
        for g in results.groups
    }
    assert found == expected
    assert results.total_groups == len(expected)


def test_sort_by_date_and_paging(built_index):
    by_date = built_index.search("strike OR greve", RESEARCHER, sort="date")
    years = [g.year for g in by_date.groups if isinstance(g, InterviewGroup)]
    assert years == sorted(years)
    first = built_index.search("strike OR greve", RESEARCHER, sort="date", per_page=2)
    second = built_index.search("strike OR greve", RESEARCHER, sort="date", per_page=2, page=2)
    assert first.total_groups == second.total_groups == len(by_date.groups)
    assert len(first.groups) == 2
    assert [_key(g) for g in first.groups + second.groups] == [_key(g) for g in by_date.groups]
    assert first.pages == 2


def _key(group):
    return group.interview_id if isinstance(group, InterviewGroup) else -group.document_id


def test_relevance_puts_best_group_first(built_index):
    results = built_index.search("harbour", RESEARCHER)
    assert _key(results.groups[0]) == 2
    scores = [g.score for g in results.groups]
    assert scores == sorted(scores, reverse=True)


def test_did_you_mean(built_index):
    results = built_index.search("dokers", RESEARCHER)
    assert results.total_groups == 0
    assert results.suggestion == "dockers"
    assert built_index.suggest("harbor shift", RESEARCHER) == "harbour shift"
    # Corrected only if the corrected query finds something.
    assert built_index.suggest("harbor cotton", RESEARCHER) is None
    assert built_index.search("harbour", RESEARCHER).suggestion is None


def test_untimed_moments(tmp_path):
    ix = SearchIndex(tmp_path / "untimed")
    ix.rebuild([interview(1, [("A", "a strike"), ("B", "another strike")], step_ms=0)], [])
    (group,) = ix.search("strike", ARCHIVIST).groups
    assert [m.start_ms for m in group.moments] == [None, None]


def test_search_inside_one_interview_in_time_order(built_index):
    moments = built_index.search_interview(1, "strike OR mill OR union", RESEARCHER)
    assert [m.start_ms for m in moments] == sorted(m.start_ms for m in moments)
    assert {m.interview_id for m in moments} == {1}
    assert len(moments) == 5  # 4 segments and the index point
    assert [m.kind for m in moments].count("index") == 1
    assert all("<mark>" in m.snippet_html for m in moments)
    assert built_index.search_interview(2, "cotton", RESEARCHER) == []


def test_doc_count(built_index):
    # 9 catalogue records, 15 segments, 2 index points, 2 documents (cards are not counted)
    assert built_index.doc_count() == 9 + 15 + 2 + 2


def test_snippet_tokens_fold_like_the_index():
    from oralhist.search.highlight import Highlighter
    from oralhist.search.schema import folding_analyzer

    text = "Hélène's STRIKE-leaders, 1956.03 Ærø naïve co*op Łódź"
    expected = [(t.text, t.startchar, t.endchar) for t in folding_analyzer()(text, chars=True)]
    from oralhist.search.schema import Language

    assert Highlighter(Language("en")).tokens(text) == expected


def _marks(*words: str):
    from oralhist.search.query import Marks
    from oralhist.search.schema import Language

    language = Language("en")
    return Marks(stems={language.body_form(w) for w in words}, words=set(words))


def test_a_snippet_of_a_huge_segment_is_cut_around_the_match():
    """A 24 MB single-cue text: the snippet is a window around the match, marked and
    escaped, and only a bounded prefix of the text is ever tokenized."""
    from oralhist.search import highlight
    from oralhist.search.schema import Language

    filler = "the branch meeting went on & on about nothing in particular " * 400_000
    text = filler[:50_000] + "then the <pamphlet> arrived " + filler[50_000:]
    assert len(text) > 24_000_000
    highlighter = highlight.Highlighter(Language("en"))
    seen: list[int] = []
    real_spans = highlighter.spans

    def counting_spans(piece, marks):
        seen.append(len(piece))
        return real_spans(piece, marks)

    highlighter.spans = counting_spans
    snippet = highlighter.snippet(text, _marks("pamphlet"))
    assert "&lt;<mark>pamphlet</mark>&gt; arrived" in snippet
    assert snippet.startswith("\u2026") and snippet.endswith("\u2026")
    assert len(snippet) < highlight.SNIPPET_CHARS * 2
    assert sum(seen) <= highlight.MAX_SCAN + 2 * highlight.SNIPPET_CHARS + 1_000


def test_a_match_beyond_the_scan_shows_the_opening_unmarked():
    from oralhist.search import highlight
    from oralhist.search.schema import Language

    text = "word " * (highlight.MAX_SCAN // 5 + 10) + "pamphlet"
    snippet = highlight.Highlighter(Language("en")).snippet(text, _marks("pamphlet"))
    assert snippet.startswith("word word") and snippet.endswith("\u2026")
    assert "<mark>" not in snippet


def test_short_and_long_texts_give_the_same_snippet_around_a_match():
    from oralhist.search import highlight
    from oralhist.search.schema import Language

    highlighter = highlight.Highlighter(Language("en"))
    head = "Hélène spoke first about the works and the long strike of that winter " * 30
    tail = " and the committee met again in March to vote on the next step forward" * 100
    text = head + "the organisers handed out leaflets" + tail
    assert len(text) > highlight.LONG_TEXT
    snippet = highlighter.snippet(text, _marks("organising"))
    assert "<mark>organisers</mark> handed out leaflets" in snippet
    assert snippet.startswith("\u2026") and snippet.endswith("\u2026")
