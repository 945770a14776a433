"""The one Whoosh adapter: schema, indexing, queries, access restriction, snippets.

Pure: no Flask, no database. The app builds plain dicts (see ``schema.index_fields``) after
its database commit and a ``SearchScope`` from the access policy; everything else is here.
"""

from .index import IndexUnavailable, RebuildInProgress, RebuildStats, SearchIndex
from .results import DocumentHit, InterviewGroup, Moment, SearchResults
from .scope import SearchScope

__all__ = [
    "DocumentHit",
    "IndexUnavailable",
    "InterviewGroup",
    "Moment",
    "RebuildInProgress",
    "RebuildStats",
    "SearchIndex",
    "SearchResults",
    "SearchScope",
]
