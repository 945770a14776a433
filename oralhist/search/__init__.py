"""Search: the ``SearchBackend`` protocol (``backend``) and its Whoosh engine (``index`` and
the modules it uses: schema, queries, access restriction, snippets; every private whoosh
access in ``whoosh_internals``).

Pure: no Flask, no database. The app builds plain dicts (see ``schema.index_fields``) after
its database commit and a ``SearchScope`` from the access policy; everything else is here.
"""

from .backend import (
    IndexUnavailable,
    RebuildInProgress,
    RebuildStats,
    SearchBackend,
    check_backend,
    open_backend,
)
from .index import SearchIndex
from .results import DocumentHit, InterviewGroup, Moment, SearchResults
from .scope import SearchScope

__all__ = [
    "DocumentHit",
    "IndexUnavailable",
    "InterviewGroup",
    "Moment",
    "RebuildInProgress",
    "RebuildStats",
    "SearchBackend",
    "SearchIndex",
    "SearchResults",
    "SearchScope",
    "check_backend",
    "open_backend",
]
