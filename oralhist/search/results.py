"""What a search returns: plain dataclasses the web layer and the API render."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Moment:
    """One matching passage: a transcript segment or an OHMS index point.

    ``snippet_html`` is safe to insert: the stored text HTML-escaped, matches in ``<mark>``.
    ``start_ms`` is ``None`` for untimed transcripts.
    """

    kind: str
    interview_id: int
    segment_id: int | None
    start_ms: int | None
    end_ms: int | None
    speaker: str
    snippet_html: str


@dataclass
class InterviewGroup:
    """A result card: one interview, its best matching moments, and how many there are."""

    interview_id: int
    accession: str
    title: str
    collection_title: str
    year: int | None
    narrators: list[str]
    score: float
    moments: list[Moment]
    total_moments: int
    catalogue_match: bool


@dataclass
class DocumentHit:
    document_id: int
    title: str
    snippet_html: str
    score: float


@dataclass
class SearchResults:
    query: str
    total_groups: int
    total_moments: int
    groups: list[InterviewGroup | DocumentHit]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    per_page: int
    suggestion: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_groups // self.per_page))
