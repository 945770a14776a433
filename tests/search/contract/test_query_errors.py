"""Every malformed query and search parameter is a ``QueryError`` (400) saying what to change,
whatever the backend; any input is results or a ``QueryError``, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oralhist.errors import QueryError
from oralhist.search import query as q

from ..conftest import ARCHIVIST


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
