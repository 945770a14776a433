"""The query language: each operator (the parser every backend shares). Malformed queries
and search parameters, through a backend, are in ``contract/test_query_errors.py``."""

from __future__ import annotations

import pytest

from oralhist.search import query as q


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
