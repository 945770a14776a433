"""The query language: each operator, and every malformed query answered by a QueryError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oralhist.errors import QueryError
from oralhist.search import query as q

from .conftest import ARCHIVIST


def test_words_are_anded():
    tree = q.parse("union strike")
    assert isinstance(tree, q.AllOf)
    assert [w.text for w in tree.include] == ["union", "strike"]


def test_phrase_or_not_and_minus():
    tree = q.parse('"general strike" union OR picket NOT pamphlet -leaflet')
    assert isinstance(tree.include[0], q.Phrase)
    assert isinstance(tree.include[1], q.AnyOf)
    assert [w.text for w in tree.include[1].items] == ["union", "picket"]
    assert [w.text for w in tree.exclude] == ["pamphlet", "leaflet"]


def test_prefix_wildcard_fuzzy():
    tree = q.parse("organi* wom?n schneidr~ schnder~2")
    prefix, wildcard, fuzzy1, fuzzy2 = tree.include
    assert isinstance(prefix, q.Pattern) and prefix.text == "organi*"
    assert isinstance(wildcard, q.Pattern)
    assert (fuzzy1.text, fuzzy1.distance) == ("schneidr", 1)
    assert (fuzzy2.text, fuzzy2.distance) == ("schnder", 2)


def test_fields():
    tree = q.parse(
        'speaker:clark narrator:"kate clark" collection:labour-lives kind:document year:1956'
    )
    speaker, narrator, collection, kind, year = tree.include
    assert (speaker.name, speaker.value) == ("speaker", "clark")
    assert (narrator.name, narrator.value) == ("narrator", "kate clark")
    assert (collection.name, collection.value) == ("collection", "labour-lives")
    assert (kind.name, kind.value) == ("kind", "document")
    assert (year.low, year.high) == (1956, 1956)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("1956..1960", 1956, 1960), ("..1960", None, 1960), ("1956..", 1956, None)],
)
def test_year_ranges(text, low, high):
    year = q.parse(f"year:{text}").include[0]
    assert (year.low, year.high) == (low, high)


def test_brackets_group():
    tree = q.parse("(strike OR walkout) mill")
    assert isinstance(tree.include[0], q.AllOf)
    assert isinstance(tree.include[0].include[0], q.AnyOf)


def test_unknown_field_is_plain_text():
    tree = q.parse("10:30")
    assert isinstance(tree.include[0], q.Word)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"general strike', "quotation mark"),
        ('speaker:"kate', "quotation mark"),
        ("OR", "OR needs a word"),
        ("strike OR", "OR needs a word"),
        ("OR strike", "OR needs a word"),
        ("strike OR OR mill", "OR needs a word"),
        ("strike OR -mill", "OR needs a word"),
        ("AND", "AND needs a word"),
        ("NOT", "NOT (or -) needs a word"),
        ("strike NOT", "NOT (or -) needs a word"),
        ("-strike", "at least one word to look for"),
        ("NOT strike -mill", "at least one word to look for"),
        ("*", "at least 3 letters"),
        ("or*", "at least 3 letters"),
        ("?ark", "at least 3 letters"),
        ("~", "fuzzy"),
        ("strike~3", "fuzzy"),
        ("strike~x", "fuzzy"),
        ("year:abc", "year:"),
        ("year:1960..1956", "starts after it ends"),
        ("year:..", "year:"),
        ("kind:tape", "kind:"),
        ("speaker:", "needs a value"),
        ('""', "empty pair of quotation marks"),
        ("(strike", "not closed"),
        ("strike)", "has no opening"),
        ("((((((((((strike))))))))))", "nested too deeply"),
        ("", "nothing to search for"),
        ("   ", "nothing to search for"),
        ("x" * 501, "too long"),
        (" ".join(["word"] * 41), "too many words"),
    ],
)
def test_malformed_queries_say_what_to_change(built_index, query, message):
    with pytest.raises(QueryError) as raised:
        q.parse(query)
    assert message in raised.value.message
    assert raised.value.status == 400
    with pytest.raises(QueryError):
        built_index.search(query, ARCHIVIST)


def test_punctuation_only_query_is_a_query_error(built_index):
    with pytest.raises(QueryError, match="letters or digits"):
        built_index.search("!!! ...", ARCHIVIST)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "title"}, "sort"),
        ({"page": 0}, "page"),
        ({"per_page": 1000}, "per_page"),
        ({"filters": {"colour": "red"}}, "Unknown filter"),
        ({"filters": {"decade": "fifties"}}, "decade"),
        ({"filters": {"kind": "tape"}}, "kind"),
    ],
)
def test_bad_search_parameters(built_index, kwargs, message):
    with pytest.raises(QueryError, match=message):
        built_index.search("strike", ARCHIVIST, **kwargs)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        alphabet=st.sampled_from(list('abcé "()*?~:-.OR NOTAND year kind speaker 19..56')),
        max_size=60,
    )
)
def test_any_input_is_results_or_query_error(built_index, text):
    try:
        results = built_index.search(text, ARCHIVIST)
    except QueryError as error:
        assert error.message
    else:
        assert results.total_groups >= 0
