"""The Whoosh engine's highlighter: its tokens are the index's."""

from __future__ import annotations


def test_snippet_tokens_fold_like_the_index():
    from oralhist.search.highlight import Highlighter
    from oralhist.search.schema import folding_analyzer

    text = "Hélène's STRIKE-leaders, 1956.03 Ærø naïve co*op Łódź"
    expected = [(t.text, t.startchar, t.endchar) for t in folding_analyzer()(text, chars=True)]
    from oralhist.search.schema import Language

    assert Highlighter(Language("en")).tokens(text) == expected
