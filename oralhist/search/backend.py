"""The seam between the archive and its search engine: the ``SearchBackend`` protocol and the
one factory that picks the engine named by the ``SEARCH_BACKEND`` setting.

Services and views depend only on this protocol (through ``services.indexing.search_index``),
never on an engine's classes, so that another engine (a PostgreSQL full-text backend, issue 18)
plugs in here without touching them. Every backend takes the same plain inputs and gives the
same plain outputs:

- index documents are the dicts built by ``services.indexing`` (``interview_docs``: an
  interview's catalogue record, segments and index points, all carrying the interview's facts;
  ``document_doc``: one document), described in ``schema.index_fields``;
- the access scope is a ``SearchScope`` built by the access policy: a backend applies it inside
  every query, so totals, facets, snippets and suggestions never count what the scope may not
  read, and never decides access itself;
- results are ``SearchResults`` / ``InterviewGroup`` / ``DocumentHit`` / ``Moment``;
- the query syntax is the README's (``query.parse``), and a query the syntax refuses, an unknown
  filter, sort or page raise ``QueryError``; an engine that cannot serve raises
  ``IndexUnavailable`` (503) with a message saying what to run.

``tests/search/contract/`` is the behaviour every backend must pass, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import OralHistError
from .results import Moment, SearchResults
from .scope import SearchScope

DEFAULT_BACKEND = "whoosh"


class IndexUnavailable(OralHistError):
    """The search index is missing, damaged or busy; the message says what to do."""

    status = 503
    code = "search_unavailable"


class RebuildInProgress(IndexUnavailable):
    """A second rebuild was asked for while one runs."""

    code = "rebuild_in_progress"


class UnknownSearchBackend(RuntimeError):
    """``SEARCH_BACKEND`` names no registered engine (raised when the app is created)."""


@dataclass
class RebuildStats:
    interviews: int
    documents: int
    records: int
    words: int
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        return (
            f"{self.interviews} interviews and {self.documents} documents ({self.records:,}"
            f" records, {self.words:,} transcript words) in {self.seconds:.1f} s"
            f" ({self.words_per_second:,.0f} words/s)"
        )


@runtime_checkable
class SearchBackend(Protocol):
    """What the archive needs of a search engine."""

    # -------------------------------------------------------- lifecycle

    def exists(self) -> bool:
        """The engine's index is there (it may still be damaged: see ``check``)."""
        ...

    def create(self) -> None:
        """Create an empty index if there is none (safe to call again)."""
        ...

    def check(self) -> None:
        """Raise ``IndexUnavailable`` saying what to run if the index is missing or damaged."""
        ...

    def close(self) -> None:
        """Let go of open files and caches (the next call reopens them)."""
        ...

    def doc_count(self) -> int:
        """Searchable records (segments, catalogue records, index points, documents)."""
        ...

    # -------------------------------------------------------- writing

    def apply(
        self, interviews: Mapping[int, list[dict] | None], documents: Mapping[int, dict | None]
    ) -> None:
        """Replace many interviews' records (each list: all of one interview's documents) and
        documents at once; ``None`` deletes. Atomic: all are visible afterwards, or none."""
        ...

    def replace_interview(self, interview_id: int, docs: list[dict]) -> None:
        """Replace every record of one interview (an empty list deletes them)."""
        ...

    def delete_interview(self, interview_id: int) -> None: ...

    def replace_document(self, document_id: int, doc: dict | None) -> None:
        """Replace (``None``: delete) one document's record."""
        ...

    def rebuild(
        self,
        interview_docs: Iterable[list[dict]],
        document_docs: Iterable[dict],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> RebuildStats:
        """Build the whole index afresh from these documents and put it in place of the old
        one, which stays searchable meanwhile. ``progress(n)``: n more interviews or
        documents done."""
        ...

    # -------------------------------------------------------- searching

    def search(
        self,
        q: str,
        scope: SearchScope,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
        filters: Mapping[str, str] | None = None,
        moments_per_group: int = 3,
    ) -> SearchResults:
        """One page of results grouped by interview (a document is a group of its own), with
        totals, facets (collection, narrator, speaker, decade, language, kind), highlighted
        snippets and, when something was not found, a "did you mean", all under ``scope``."""
        ...

    def search_interview(self, interview_id: int, q: str, scope: SearchScope) -> list[Moment]:
        """Every moment of one interview matching ``q`` that ``scope`` may read, in time
        order (the in-page search's next/previous)."""
        ...

    def suggest(self, q: str, scope: SearchScope) -> str | None:
        """A corrected query whose misspelt words are replaced by words ``scope`` may read."""
        ...


@dataclass(frozen=True)
class Engine:
    """A registered backend: how to check that it can run here, and how to open it."""

    check: Callable[[Mapping[str, Any]], None]
    open: Callable[[Mapping[str, Any]], SearchBackend]
    #: Where this engine keeps its index, for people (``oralhist init`` prints it).
    where: Callable[[Mapping[str, Any]], str]


def _whoosh_check() -> None:
    from .whoosh_internals import check_whoosh

    check_whoosh()


def _whoosh_open(config: Mapping[str, Any]) -> SearchBackend:
    from .index import SearchIndex

    return SearchIndex(config["SEARCH_INDEX_DIR"], language=config.get("SEARCH_LANGUAGE", "en"))


def _postgres_check(config: Mapping[str, Any]) -> None:
    from .postgres import check_config

    check_config(config)


def _postgres_open(config: Mapping[str, Any]) -> SearchBackend:
    from .postgres import open_postgres

    return open_postgres(config)


def _postgres_where(config: Mapping[str, Any]) -> str:
    from .postgres import describe_location

    return describe_location(config)


ENGINES: dict[str, Engine] = {
    "whoosh": Engine(
        check=lambda config: _whoosh_check(),
        open=_whoosh_open,
        where=lambda config: f"the folder {config['SEARCH_INDEX_DIR']}",
    ),
    "postgresql": Engine(check=_postgres_check, open=_postgres_open, where=_postgres_where),
}


def engine(config: Mapping[str, Any]) -> Engine:
    """The engine ``config["SEARCH_BACKEND"]`` names (default ``whoosh``)."""
    name = config.get("SEARCH_BACKEND") or DEFAULT_BACKEND
    found = ENGINES.get(name)
    if found is None:
        raise UnknownSearchBackend(
            f"SEARCH_BACKEND is {name!r}; the search backends are: {', '.join(sorted(ENGINES))}."
        )
    return found


def check_backend(config: Mapping[str, Any]) -> None:
    """At start-up: the configured backend exists and can run here (for whoosh: the installed
    version is the one its fast paths are written for). Raises with a message saying what."""
    engine(config).check(config)


def index_location(config: Mapping[str, Any]) -> str:
    """Where the configured engine keeps its index, said for people: a folder for whoosh,
    a schema of a database (password hidden) for postgresql."""
    return engine(config).where(config)


def open_backend(config: Mapping[str, Any]) -> SearchBackend:
    """A new backend for this configuration (``SEARCH_BACKEND``, and its own settings:
    ``SEARCH_INDEX_DIR`` and ``SEARCH_LANGUAGE`` for whoosh; the database URL,
    ``SEARCH_PG_SCHEMA`` and ``SEARCH_LANGUAGE`` for postgresql)."""
    return engine(config).open(config)
