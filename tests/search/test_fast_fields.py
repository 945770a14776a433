"""The schema's fast ``index()`` gives exactly what whoosh's analyzer chain would, and the
highlighter's ASCII fast path marks exactly what the general path does."""

from __future__ import annotations

import pytest
from whoosh import fields

from oralhist.search import schema as schema_module
from oralhist.search.highlight import Highlighter
from oralhist.search.query import Marks
from oralhist.search.schema import (
    Language,
    SpeakerKey,
    build_schema,
    fold,
    folding_analyzer,
)

TEXTS = [
    "Hélène's café — ÉCOLE d'été, naïve Straße İstanbul ǅemal x*y a.b.c 3.14 the THE",
    "",
    "   ",
    "the and of",
    "Über über ÜBER straße STRASSE",
    "We went out on strike in 1956, the general strike, and the union organised it.",
    "Well, my mother worked at the mill; the mill, the MILL. Trains, training, trained.",
]


@pytest.mark.parametrize("language", ["en", "fr", None])
def test_fast_fields_index_like_whoosh(language):
    schema = build_schema(language)
    reference = {
        "body": fields.TEXT(analyzer=Language(language).analyzer(), phrase=False),
        "exact": fields.TEXT(analyzer=folding_analyzer(), phrase=True),
    }
    for text in TEXTS:
        for name, field in reference.items():
            assert sorted(schema[name].index(text)) == sorted(field.index(text)), (name, text)


@pytest.mark.parametrize("name", ["kate clark", "", " padded ", "a, b", "clark,kate", "o'neil"])
def test_speaker_key_indexes_like_whoosh(name):
    reference = fields.KEYWORD(commas=True, scorable=True)
    assert sorted(SpeakerKey().index(name)) == sorted(reference.index(name))


def test_fold_matches_the_analyzer():
    for text in TEXTS:
        assert fold(text) == " ".join(t.text for t in folding_analyzer()(text))


def _general_spans(highlighter, text, marks):
    """The general (non-ASCII) path, as before the fast path."""
    tokens = highlighter.tokens(text)
    found = [
        (s, e)
        for w, s, e in tokens
        if w in marks.words or (marks.stems and Language("en").body_form(w) in marks.stems)
    ]
    for phrase in marks.phrases:
        n = len(phrase)
        for i in range(len(tokens) - n + 1):
            if all(phrase[k] is None or tokens[i + k][0] == phrase[k] for k in range(n)):
                found.append((tokens[i][1], tokens[i + n - 1][2]))
    merged = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def test_highlighter_fast_path_marks_the_same():
    highlighter = Highlighter(Language("en"))
    marks_list = [
        Marks(stems={"strike", "union", "mill"}),
        Marks(words={"train", "trained", "trains", "helene", "ecole"}),
        Marks(phrases=[(None, "general", "strike")], stems={"mother"}),
        Marks(phrases=[("the", "mill")]),
    ]
    for marks in marks_list:
        for text in TEXTS:
            assert highlighter.spans(text, marks) == _general_spans(highlighter, text, marks)


# Past the precomputed values: a word seen once beyond position 1,024, a word seen 300 times
# (a frequency of two bytes' worth), in a text long enough for both.
LONG = " ".join(f"w{i}" for i in range(1_500)) + " strike" * 300 + " Hélène the end"


@pytest.mark.parametrize("language", ["en", None])
def test_fast_fields_share_one_analysis_of_a_text(language):
    """``body`` and ``exact`` of one text object share its analysis, in either order, and a
    different text (equal or not) is analysed afresh: interleaved calls give whoosh's terms."""
    schema = build_schema(language)
    reference = {
        "body": fields.TEXT(analyzer=Language(language).analyzer(), phrase=False),
        "exact": fields.TEXT(analyzer=folding_analyzer(), phrase=True),
    }
    texts = [*TEXTS, LONG, "".join(LONG), TEXTS[5]]
    for order in (("body", "exact"), ("exact", "body")):
        for text in texts:
            for name in order:
                got = sorted(schema[name].index(text))
                assert got == sorted(reference[name].index(text)), (name, text[:40])
    long_exact = dict((t, v) for t, _, _, v in schema["exact"].index(LONG))
    assert (
        long_exact[b"w1400"]
        == dict((t, v) for t, _, _, v in reference["exact"].index(LONG))[b"w1400"]
    )
    assert dict((t, n) for t, n, _, _ in schema["body"].index(LONG))[b"strike"] == 300


def test_a_shared_analysis_is_let_go(monkeypatch):
    """Once both fields have a text's analysis, or when the text is long, none is kept (a
    huge cue's positions would otherwise stay in a serving process's memory)."""
    schema = build_schema("en")
    reference = fields.TEXT(analyzer=folding_analyzer(), phrase=True)
    text = TEXTS[5]
    schema["body"].index(text)
    assert schema_module._FastText._last[0] is text
    schema["exact"].index(text)
    assert schema_module._FastText._last[0] is None
    monkeypatch.setattr(schema_module, "SHARED_ANALYSIS_CHARS", 100)
    schema["body"].index(LONG)
    assert schema_module._FastText._last[0] is None
    assert sorted(schema["exact"].index(LONG)) == sorted(reference.index(LONG))
