"""Suggested passage links: where a document's distinctive words are spoken in the
interviews, for those who may link passages to accept or dismiss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import AccessDenied, QueryError, ValidationError
from ..extensions import db
from ..models import DismissedSuggestion, Document, Interview, Mention, Segment
from . import audit
from .fields import MAX_TIME_MS, record_id, whole_number
from .mentions import add_mention, interview_for_link

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just me more most my no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there
    these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours one two first new why left
    document pamphlet letter article minutes photograph copy sample""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
MAX_SUGGESTIONS = 25


@dataclass
class Suggestion:
    interview: Interview
    segment_id: int
    start_ms: int
    end_ms: int
    speaker: str
    snippet_html: str
    reason: str
    readable: bool = True


def distinctive_words(text: str, limit: int) -> list[str]:
    """Words worth searching for: not common, at least four letters, longest first."""
    seen: list[str] = []
    for match in _WORD.finditer(text or ""):
        word = match.group(0).strip("'’-").lower()
        if len(word) >= 4 and word not in STOPWORDS and word not in seen:
            seen.append(word)
    seen.sort(key=lambda w: -len(w))
    return seen[:limit]


def _phrase(text: str) -> str:
    words = [m.group(0) for m in _WORD.finditer(text or "")]
    return " ".join(words)


def suggestion_queries(document: Document) -> list[tuple[str, str]]:
    """(query, reason) pairs, most telling first."""
    queries: list[tuple[str, str]] = []
    title = _phrase(document.title)
    if len(title.split()) >= 2:
        queries.append((f'"{title}"', "the title, as a phrase"))
    for credit in document.creators:
        name = _phrase(credit.person.name)
        if name:
            queries.append(
                (f'"{name}"' if " " in name else name, f"a creator's name: {credit.person.name}")
            )
    title_words = distinctive_words(document.title, 4)
    if title_words:
        queries.append((" ".join(title_words), "words of the title: " + ", ".join(title_words)))
    description_words = [
        w for w in distinctive_words(document.description, 3) if w not in title_words
    ]
    if len(description_words) >= 2:
        queries.append(
            (
                " ".join(description_words),
                "words of the description: " + ", ".join(description_words),
            )
        )
    return queries


def suggestions(viewer: Viewer, document: Document, limit: int = MAX_SUGGESTIONS) -> list:
    """Passages that probably discuss ``document``, found in the transcripts with the search
    index under the viewer's own search scope (archivist-wide only for archivists), in
    interviews where the viewer may link passages; already linked and dismissed ones are
    skipped."""
    from . import indexing

    require(policy.can_see_suggestions(viewer), "Only contributors and archivists see suggestions.")
    scope = policy.search_scope(viewer, now())
    index = indexing.search_index()
    linked: dict[int, list[tuple[int, int]]] = {}
    for m in document.mentions:
        linked.setdefault(m.interview_id, []).append((m.start_ms, m.end_ms))
    dismissed = set(
        db.session.execute(
            select(DismissedSuggestion.interview_id, DismissedSuggestion.start_ms).where(
                DismissedSuggestion.document_id == document.id
            )
        ).all()
    )
    found: list[Suggestion] = []
    seen: set[int] = set()
    interviews: dict[int, Interview | None] = {}
    for query, reason in suggestion_queries(document):
        try:
            results = index.search(
                f"{query} kind:segment", scope, per_page=50, moments_per_group=10
            )
        except QueryError:
            continue
        for group in results.groups:
            moments = getattr(group, "moments", None)
            if not moments:
                continue
            iid = group.interview_id
            if iid not in interviews:
                interview = db.session.get(Interview, iid)
                ok = interview is not None and policy.can_take_suggestion(viewer, interview)
                interviews[iid] = interview if ok else None
            interview = interviews[iid]
            if interview is None:
                continue
            for moment in moments:
                if moment.segment_id is None or moment.start_ms is None:
                    continue
                if moment.segment_id in seen or (iid, moment.start_ms) in dismissed:
                    continue
                end = moment.end_ms if moment.end_ms is not None else moment.start_ms
                if any(s <= end and moment.start_ms <= e for s, e in linked.get(iid, ())):
                    continue
                seen.add(moment.segment_id)
                found.append(
                    Suggestion(
                        interview=interview,
                        segment_id=moment.segment_id,
                        start_ms=moment.start_ms,
                        end_ms=end,
                        speaker=moment.speaker,
                        snippet_html=moment.snippet_html,
                        reason=reason,
                        readable=policy.can_read_transcript(viewer, interview, now()),
                    )
                )
                if len(found) >= limit:
                    return found
    return found


def _segment_of(segment_id: Any) -> Segment:
    if isinstance(segment_id, bool) or not (
        isinstance(segment_id, int) or (isinstance(segment_id, str) and segment_id.isdigit())
    ):
        raise ValidationError(
            "segment_id must be the id of a transcript segment.",
            fields={"segment_id": "is required"},
        )
    number = record_id(segment_id)
    segment = db.session.get(Segment, number) if number is not None else None
    if segment is None or segment.start_ms is None:
        raise ValidationError(
            f"There is no timed segment {segment_id}.", fields={"segment_id": "unknown segment"}
        )
    return segment


def accept_suggestion(
    viewer: Viewer, document: Document, segment_id: Any, note: str = ""
) -> Mention:
    """Link the suggested segment's time range to ``document``."""
    segment = _segment_of(segment_id)
    interview = segment.transcript.interview
    if not policy.can_view_record(viewer, interview):
        raise ValidationError(f"There is no timed segment {segment_id}.")
    end = segment.end_ms if segment.end_ms is not None else segment.start_ms
    return add_mention(viewer, document, interview, segment.start_ms, end, note)


def dismiss_suggestion(
    viewer: Viewer, document: Document, interview_id: Any, start_ms: Any
) -> DismissedSuggestion:
    """Never suggest the passage at ``start_ms`` of that interview for ``document`` again."""
    if not policy.can_dismiss_suggestions(viewer):
        raise AccessDenied("Only archivists dismiss suggestions.")
    interview = interview_for_link(interview_id, viewer)
    # a form's milliseconds, not seconds; 10^30 is refused, not passed to the driver
    start = whole_number(start_ms, "start_ms", minimum=0, maximum=MAX_TIME_MS)
    existing = db.session.scalar(
        select(DismissedSuggestion).where(
            DismissedSuggestion.document_id == document.id,
            DismissedSuggestion.interview_id == interview.id,
            DismissedSuggestion.start_ms == start,
        )
    )
    if existing is not None:
        return existing
    dismissed = DismissedSuggestion(
        document_id=document.id,
        interview_id=interview.id,
        start_ms=start,
        dismissed_by_id=viewer.user_id,
    )
    db.session.add(dismissed)
    db.session.flush()
    audit.record(
        viewer,
        "suggestion.dismiss",
        "document",
        document.id,
        interview_id=interview.id,
        start_ms=start,
    )
    return dismissed
