"""The Whoosh engine's highlighter: its tokens are the index's."""

from __future__ import annotations


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
