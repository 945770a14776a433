"""What every search engine does the same way, whatever it runs on: the request's checks
(sort, page, filters), whether a query needs "did you mean" at all, the walk that builds a
suggestion, and the shape of a shown interview group.

Engine-neutral: no Whoosh, no SQL. ``index.py`` / ``suggest.py`` (Whoosh) and ``postgres.py``
both use it, so the two backends cannot drift apart on what the contract suite checks (issue
18 item 2: these were written twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..errors import QueryError
from .query import AllOf, AnyOf, Word, parse, positive_words
from .results import InterviewGroup, Moment

SORTS = ("relevance", "date")
FILTERS = ("collection", "narrator", "speaker", "decade", "language", "kind")
MAX_PER_PAGE = 100
#: Values a facet lists at the most (the most frequent; ties by name).
MAX_FACET_VALUES = 50


def check_request(sort: str, page: object, per_page: object) -> None:
    """Refuse a sort, page or page size the search cannot serve, saying what it takes."""
    if sort not in SORTS:
        raise QueryError(f"sort is one of {', '.join(SORTS)}, not {sort!r}.")
    if not isinstance(page, int) or page < 1:
        raise QueryError("page starts at 1.")
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page is between 1 and {MAX_PER_PAGE}.")


def check_filter_name(name: str) -> None:
    """Refuse a filter no engine knows."""
    if name not in FILTERS:
        raise QueryError(f"Unknown filter {name!r}: use one of {', '.join(FILTERS)}.")


def requires_every_word(node) -> bool:
    """True when every positive word must occur in a match (no OR anywhere above it): then a
    query with results has no word the scope cannot see, and "did you mean" has nothing to do."""
    if isinstance(node, AnyOf):
        return False
    if isinstance(node, AllOf):
        return all(requires_every_word(n) for n in node.include)
    return True


def interview_group(
    key: int,
    card: Mapping,
    *,
    score: float,
    total_moments: int,
    catalogue_match: bool,
    moments: Iterable[Moment],
) -> InterviewGroup:
    """One shown interview: its card's facts and its best moments in time order (untimed
    moments last)."""
    shown = sorted(moments, key=lambda m: (m.start_ms is None, m.start_ms or 0))
    return InterviewGroup(
        interview_id=key,
        accession=card["accession"],
        title=card["title"],
        collection_title=card["collection_title"],
        year=card["year"],
        narrators=list(card["narrators"]),
        score=score,
        moments=shown,
        total_moments=total_moments,
        catalogue_match=catalogue_match,
    )


def suggest_query(
    q: str,
    tree,
    *,
    fold: Callable[[str], list[str]],
    visible: Callable[[str], bool],
    near: Callable[[str, int], list[str]],
    finds: Callable[[object], bool],
) -> str | None:
    """ "Did you mean": ``q`` with each positive word the scope cannot see replaced by the
    best close word it can, if the corrected query then finds something.

    The engine supplies: ``fold(text)`` (its analysis: the folded words of a text),
    ``visible(word)`` (a folded word occurs in a record the scope may read), ``near(word,
    distance)`` (the vocabulary's other words within ``distance`` edits, best first: most
    frequent, then by name) and ``finds(tree)`` (the corrected query, parsed, has a result
    under the scope and the search's filters). Words shorter than three letters and numbers
    are not corrected; words of five letters or more may be two edits away.
    """
    replacements: list[tuple[Word, str]] = []
    for word in positive_words(tree):
        folded = fold(word.text)
        if len(folded) != 1 or visible(folded[0]):
            continue
        original = folded[0]
        if len(original) < 3 or original.isdigit():
            continue
        for distance in (1, 2) if len(original) > 4 else (1,):
            ranked = [t for t in near(original, distance) if t != original]
            choice = next((t for t in ranked[:10] if visible(t)), None)
            if choice:
                replacements.append((word, choice))
                break
    if not replacements:
        return None
    suggestion = q
    for word, choice in sorted(replacements, key=lambda r: -r[0].start):
        suggestion = suggestion[: word.start] + choice + suggestion[word.end :]
    try:
        corrected = parse(suggestion)
        return suggestion if finds(corrected) else None
    except QueryError:
        return None
