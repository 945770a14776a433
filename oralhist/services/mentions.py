"""Passage links (mentions) between interviews and documents, suggestions, and citations.

A mention is a time range (``start_ms``..``end_ms``) of an interview that discusses a
document. It is anchored to time, not to segment ids, so it survives a transcript
re-import: the passage's words are the current transcript's segments overlapping the range.

**The rules live in the policy** (``oralhist.access.policy``): the link rule
(``link_refusal``: a document no stricter than the interview), who links (``can_link_passages``),
who sees suggestions (``can_see_suggestions``, ``can_take_suggestion``), and what a viewer
sees of a passage (``passage_access``: the link itself where both the document and the
interview's record are visible; its note, excerpt and speakers only where the transcript is
readable).

**Permanent links.** ``permalink`` opens the player on the passage:
``/interviews/<id>?t=<start seconds>&end=<end seconds>`` (seconds with up to three
decimals). ``player_link`` opens it at the passage start with the first segment
highlighted: ``/interviews/<id>?t=<start seconds>&hl=<segment id>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import AccessDenied, Conflict, NotFound, QueryError, ValidationError
from ..extensions import db
from ..models import DismissedSuggestion, Document, Interview, Mention, Segment
from ..transcripts.timecode import format_timecode, parse_t_param, parse_timecode
from ..urls import moment_url
from . import audit
from .documents import format_partial_date
from .fields import MAX_TIME_MS, record_id, whole_number

MAX_NOTE = 5000


# --- the rules -----------------------------------------------------------------------------


def link_refusal(document: Document, interview: Interview) -> str | None:
    """Why ``document`` may not be linked from ``interview`` (the policy's link rule)."""
    return policy.link_refusal(document, interview)


def parse_time(value: Any, name: str) -> int:
    """A time given as milliseconds (int), or as text: ``hh:mm:ss(.mmm)``, ``mm:ss`` or
    seconds, at most ``MAX_TIME_MS`` (100 hours). Raises ``ValidationError`` naming the field."""
    ms = _parse_time(value, name)
    if ms > MAX_TIME_MS:
        problem = f"must be at most {MAX_TIME_MS} ms (100 hours)"
        raise ValidationError(f"{name} {problem}.", fields={name: problem})
    return ms


def _parse_time(value: Any, name: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(f"{name} is required.", fields={name: "is required"})
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(
                f"{name} must not be negative.", fields={name: "must not be negative"}
            )
        return value
    if isinstance(value, str):
        text = value.strip()
        if name.endswith("_ms") and text.isdigit():
            # milliseconds, as the field's name says (whole_number refuses 10^30 and beyond)
            return whole_number(text, name, minimum=0, maximum=MAX_TIME_MS)
        if text.startswith("-"):
            raise ValidationError(
                f"{name} must not be negative.", fields={name: "must not be negative"}
            )
        for parser in (parse_timecode, parse_t_param):
            try:
                return parser(text)
            except ValueError:
                continue
    raise ValidationError(
        f"{name} must be a time such as 00:41:10 (hh:mm:ss) or a number of seconds.",
        fields={name: "must be a time such as 00:41:10"},
    )


def check_range(interview: Interview, start_ms: int, end_ms: int) -> None:
    """A range inside the recording: not negative, not reversed, not past the end."""
    if start_ms < 0 or end_ms < 0:
        raise ValidationError("A passage cannot start or end before 00:00:00.")
    if end_ms < start_ms:
        raise ValidationError(
            f"The passage ends ({_hms(end_ms)}) before it starts ({_hms(start_ms)}): "
            "give the earlier time first.",
            fields={"end_ms": "is before the start"},
        )
    duration = interview.duration_ms
    if duration and end_ms > duration:
        raise ValidationError(
            f"The passage ends at {_hms(end_ms)}, after the end of the recording "
            f"({_hms(duration)}).",
            fields={"end_ms": "is after the end of the recording"},
        )


# --- lookups -------------------------------------------------------------------------------


def get_mention(mention_id: int, viewer: Viewer) -> Mention:
    """The mention, if the viewer may see both its document and its interview's record."""
    mention = db.session.get(Mention, mention_id)
    if (
        mention is None
        or not policy.passage_access(viewer, mention.interview, mention.document, now()).listed
    ):
        raise NotFound(f"There is no passage link {mention_id}.")
    return mention


def _interview_for_link(interview_id: Any, viewer: Viewer) -> Interview:
    if isinstance(interview_id, bool) or not (
        isinstance(interview_id, int) or (isinstance(interview_id, str) and interview_id.isdigit())
    ):
        raise ValidationError(
            "interview_id must be the id of an interview.", fields={"interview_id": "is required"}
        )
    number = record_id(interview_id)
    interview = db.session.get(Interview, number) if number is not None else None
    if interview is None or not policy.can_view_record(viewer, interview):
        raise ValidationError(
            f"There is no interview {interview_id}.", fields={"interview_id": "unknown interview"}
        )
    return interview


def _document_for_link(document_id: Any, viewer: Viewer) -> Document:
    if isinstance(document_id, bool) or not (
        isinstance(document_id, int) or (isinstance(document_id, str) and document_id.isdigit())
    ):
        raise ValidationError("Choose the document to link.", fields={"document_id": "is required"})
    number = record_id(document_id)
    document = db.session.get(Document, number) if number is not None else None
    if document is None or not policy.can_view_document(viewer, document):
        raise ValidationError(
            f"There is no document {document_id}.", fields={"document_id": "unknown document"}
        )
    return document


# --- writing -------------------------------------------------------------------------------


def add_mention(
    viewer: Viewer,
    document: Document,
    interview: Interview,
    start_ms: int,
    end_ms: int,
    note: str = "",
) -> Mention:
    """Link the passage ``start_ms``..``end_ms`` of ``interview`` to ``document``."""
    require(
        policy.can_link_passages(viewer, interview),
        "Only archivists, and the contributor of this interview, link passages.",
    )
    if not policy.can_view_document(viewer, document):
        raise NotFound(f"There is no document {document.id}.")
    start_ms = parse_time(start_ms, "start_ms")
    end_ms = parse_time(end_ms, "end_ms")
    check_range(interview, start_ms, end_ms)
    note = _clean_note(note)
    refusal = link_refusal(document, interview)
    if refusal:
        raise ValidationError(refusal, fields={"document_id": "is stricter than the interview"})
    duplicate = db.session.scalar(
        select(Mention).where(
            Mention.document_id == document.id,
            Mention.interview_id == interview.id,
            Mention.start_ms == start_ms,
            Mention.end_ms == end_ms,
        )
    )
    if duplicate is not None:
        raise Conflict("This passage is already linked to this document.", mention_id=duplicate.id)
    mention = Mention(
        document=document,
        interview_id=interview.id,
        start_ms=start_ms,
        end_ms=end_ms,
        note=note,
        created_by_id=viewer.user_id,
    )
    db.session.add(mention)
    db.session.flush()
    audit.record(
        viewer,
        "mention.create",
        "mention",
        mention.id,
        document_id=document.id,
        interview_id=interview.id,
    )
    return mention


def create_from_data(viewer: Viewer, document: Document, data: Mapping[str, Any]) -> Mention:
    """The API's ``POST /documents/<id>/mentions`` body: interview_id, start_ms, end_ms, note."""
    if not isinstance(data, Mapping):
        raise ValidationError("The request body must be a JSON object.")
    interview = _interview_for_link(data.get("interview_id"), viewer)
    return add_mention(
        viewer,
        document,
        interview,
        data.get("start_ms"),
        data.get("end_ms"),
        data.get("note") or "",
    )


def link_from_form(viewer: Viewer, interview: Interview, form: Mapping[str, Any]) -> Mention:
    """The interview page's "Link a passage" form: document_id, start, end (hh:mm:ss), note."""
    require(
        policy.can_link_passages(viewer, interview),
        "Only archivists, and the contributor of this interview, link passages.",
    )
    errors: dict[str, str] = {}
    messages: list[str] = []
    times: dict[str, int] = {}
    for name, label in (("start", "Start"), ("end", "End")):
        try:
            times[name] = parse_time(form.get(name) or form.get(f"{name}_ms"), label)
        except ValidationError as exc:
            errors[name] = (exc.details.get("fields") or {}).get(label, exc.message)
            messages.append(exc.message)
    document = None
    try:
        document = _document_for_link(form.get("document_id"), viewer)
    except ValidationError as exc:
        errors["document_id"] = (exc.details.get("fields") or {}).get("document_id", exc.message)
        messages.append(exc.message)
    if errors or document is None:
        raise ValidationError(" ".join(messages), fields=errors)
    return add_mention(
        viewer, document, interview, times["start"], times["end"], form.get("note") or ""
    )


def update_mention(viewer: Viewer, mention: Mention, data: Mapping[str, Any]) -> Mention:
    """Change a link's ``note`` and/or range (``start_ms``/``end_ms``, or ``start``/``end``
    as hh:mm:ss)."""
    require(
        policy.can_link_passages(viewer, mention.interview),
        "Only archivists, and the contributor of this interview, change passage links.",
    )
    if not isinstance(data, Mapping):
        raise ValidationError("The request body must be a JSON object.")
    start, end = mention.start_ms, mention.end_ms
    for key in ("start_ms", "start"):
        if key in data:
            start = parse_time(data[key], key)
    for key in ("end_ms", "end"):
        if key in data:
            end = parse_time(data[key], key)
    check_range(mention.interview, start, end)
    if "note" in data:
        mention.note = _clean_note(data["note"])
    mention.start_ms, mention.end_ms = start, end
    db.session.flush()
    audit.record(viewer, "mention.update", "mention", mention.id)
    return mention


def delete_mention(viewer: Viewer, mention: Mention) -> None:
    require(
        policy.can_link_passages(viewer, mention.interview),
        "Only archivists, and the contributor of this interview, remove passage links.",
    )
    audit.record(
        viewer,
        "mention.delete",
        "mention",
        mention.id,
        document_id=mention.document_id,
        interview_id=mention.interview_id,
    )
    db.session.delete(mention)
    db.session.flush()


def _clean_note(note: Any) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ValidationError("note must be text.", fields={"note": "must be text"})
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            f"The note is too long ({len(note)} characters; at most {MAX_NOTE}).",
            fields={"note": "is too long"},
        )
    return note


# --- reading passages ----------------------------------------------------------------------


@dataclass
class Passage:
    """A mention as a page shows it, under the access policy."""

    mention: Mention
    document: Document
    interview: Interview
    #: the viewer may read the interview's words: the note, the excerpt and its speakers
    readable: bool
    #: the link's note, or "" when the viewer may not read the interview (policy)
    note: str = ""
    #: the viewer may edit or remove this link
    can_edit: bool = False
    #: the interview's access sentence (why the words are not shown)
    level_sentence: str = ""
    segments: list[Segment] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    citation: str = ""
    permalink: str = ""
    player_link: str = ""

    @property
    def start_ms(self) -> int:
        return self.mention.start_ms

    @property
    def end_ms(self) -> int:
        return self.mention.end_ms


def overlapping_segments(interview: Interview, start_ms: int, end_ms: int) -> list[Segment]:
    """The current transcript's timed segments that overlap ``start_ms``..``end_ms``
    (segments that only touch the range at one end are left out)."""
    transcript = interview.current_transcript
    if transcript is None:
        return []
    seg_end = func.coalesce(Segment.end_ms, Segment.start_ms)
    rows = db.session.scalars(
        select(Segment)
        .where(
            Segment.transcript_id == transcript.id,
            Segment.start_ms.is_not(None),
            Segment.start_ms <= end_ms,
            seg_end >= start_ms,
        )
        .order_by(Segment.position)
    ).all()
    result = []
    for seg in rows:
        s, e = seg.start_ms, seg.end_ms if seg.end_ms is not None else seg.start_ms
        if start_ms < end_ms and s < e and (e == start_ms or s == end_ms):
            continue
        result.append(seg)
    return result


def _hms(ms: int) -> str:
    return format_timecode(max(0, ms), style="vtt")[:-4] if ms < 360_000_000 else str(ms)


def citation_text(interview: Interview, start_ms: int, end_ms: int) -> str:
    """ "Interview with Thomas Whitfield by Ruth Adler, 12 March 2026, 00:41:10–00:43:05,
    Voices of the 1956 Crisis (sample), OH-SAMPLE-001": what is missing is left out."""
    narrators = " and ".join(p.name for p in interview.people_in_role("interviewee"))
    interviewers = " and ".join(p.name for p in interview.people_in_role("interviewer"))
    if narrators and interviewers:
        head = f"Interview with {narrators} by {interviewers}"
    elif narrators:
        head = f"Interview with {narrators}"
    elif interviewers:
        head = f"{interview.title}, interview by {interviewers}"
    else:
        head = interview.title
    parts = [head, format_partial_date(interview.date_recorded)]
    parts.append(f"{_hms(start_ms)}–{_hms(end_ms)}")
    if interview.collection is not None:
        parts.append(interview.collection.title)
    parts.append(interview.accession)
    return ", ".join(p for p in parts if p)


def permalink(interview: Interview, start_ms: int, end_ms: int, *, external: bool = True) -> str:
    """The passage's citation link (``external``: at the archive's public address)."""
    return moment_url(interview.id, start_ms, end_ms=end_ms, external=external)


def player_link(interview: Interview, start_ms: int, first_segment: Segment | None) -> str:
    """The player at the passage start, its first segment highlighted."""
    segment_id = first_segment.id if first_segment is not None else None
    return moment_url(interview.id, start_ms, segment_id=segment_id)


def passage(viewer: Viewer, mention: Mention) -> Passage:
    """The passage for display: note, words, speakers and segment highlight only when the
    viewer may read the interview's transcript (``policy.passage_access``); the catalogue
    line, time and citation always."""
    interview = mention.interview
    at = now()
    readable = policy.passage_access(viewer, interview, mention.document, at).words
    segments = overlapping_segments(interview, mention.start_ms, mention.end_ms) if readable else []
    speakers: list[str] = []
    for seg in segments:
        name = seg.speaker.name if seg.speaker else ""
        if name and name not in speakers:
            speakers.append(name)
    return Passage(
        mention=mention,
        document=mention.document,
        interview=interview,
        readable=readable,
        note=mention.note if readable else "",
        can_edit=policy.can_link_passages(viewer, interview),
        level_sentence=policy.level_sentence(interview, at),
        segments=segments,
        speakers=speakers,
        citation=citation_text(interview, mention.start_ms, mention.end_ms),
        permalink=permalink(interview, mention.start_ms, mention.end_ms),
        player_link=player_link(interview, mention.start_ms, segments[0] if segments else None),
    )


def passages_for_document(viewer: Viewer, document: Document) -> list[Passage]:
    """Every passage that discusses ``document``, across the interviews the viewer may see
    (drafts they may not see are left out entirely), by interview then time."""
    mentions = db.session.scalars(
        select(Mention)
        .join(Interview, Interview.id == Mention.interview_id)
        .where(Mention.document_id == document.id)
        .order_by(func.lower(Interview.title), Interview.id, Mention.start_ms, Mention.id)
    ).all()
    at = now()
    return [
        passage(viewer, m)
        for m in mentions
        if policy.passage_access(viewer, m.interview, document, at).listed
    ]


def passages_for_interview(viewer: Viewer, interview: Interview) -> list[Passage]:
    """The interview's passage links to documents the viewer may see, in time order."""
    if not policy.can_view_record(viewer, interview):
        return []
    mentions = db.session.scalars(
        select(Mention)
        .where(Mention.interview_id == interview.id)
        .order_by(Mention.start_ms, Mention.end_ms, Mention.id)
    ).all()
    at = now()
    return [
        passage(viewer, m)
        for m in mentions
        if policy.passage_access(viewer, interview, m.document, at).listed
    ]


def documents_with_passages(passages: list[Passage]) -> list[tuple[Document, list[Passage]]]:
    """Group an interview's passages by document, documents in order of first passage."""
    grouped: dict[int, tuple[Document, list[Passage]]] = {}
    for p in passages:
        grouped.setdefault(p.document.id, (p.document, []))[1].append(p)
    return list(grouped.values())


# --- suggestions ---------------------------------------------------------------------------

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
    interview = _interview_for_link(interview_id, viewer)
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
