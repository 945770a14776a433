"""Searching the archive: the one place that joins the access policy and the search index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..access import now, policy
from ..access.policy import Viewer
from ..errors import QueryError
from ..search import SearchResults
from . import indexing
from .fields import MAX_PAGE, whole_number_problem

FACETS = ("collection", "narrator", "speaker", "decade", "language", "kind")
SORTS = ("relevance", "date")
MAX_QUERY = 500


def search_args(args: Mapping[str, Any], *, max_per_page: int = 50) -> dict[str, Any]:
    """Validated search arguments from a query string (page, per_page, sort, facet filters)."""
    q = str(args.get("q", "")).strip()
    if len(q) > MAX_QUERY:
        raise QueryError(f"The query is too long ({len(q)} characters; at most {MAX_QUERY}).")
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"sort is one of {', '.join(SORTS)}.")
    numbers = {}
    for name, default, maximum in (("page", 1, MAX_PAGE), ("per_page", 20, max_per_page)):
        raw = args.get(name) or str(default)
        problem = whole_number_problem(raw, 1, maximum)
        if problem:
            raise QueryError(f"{name} {problem}.")
        numbers[name] = int(raw)
    filters = {name: str(args[name]) for name in FACETS if args.get(name)}
    return {"q": q, "sort": sort, "filters": filters, **numbers}


def search(viewer: Viewer, q: str, **options: Any) -> SearchResults:
    """Search everything ``viewer`` may read: the policy's scope is applied inside the query,
    so totals, facets, snippets and suggestions never count what the viewer may not read."""
    scope = policy.search_scope(viewer, now())
    index = indexing.search_index()
    results = index.search(q, scope, **options)
    if results.total_groups == 0 and results.suggestion is None:
        results.suggestion = index.suggest(q, scope)
    return results


def search_interview(viewer: Viewer, interview, q: str) -> list:
    """Every matching moment inside one interview, for the in-page search (next/previous)."""
    if not policy.can_read_transcript(viewer, interview, now()):
        return []
    return indexing.search_index().search_interview(
        interview.id, q, policy.search_scope(viewer, now())
    )
