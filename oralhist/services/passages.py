"""Reading passage links (mentions): the passage a viewer may see, its citation and
its links into the player (``permalink``, ``player_link``, built by ``urls.moment_url``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import func, select

from ..access import now, policy
from ..access.policy import Viewer
from ..extensions import db
from ..models import Document, Interview, Mention, Segment
from ..urls import moment_url
from . import consent
from .documents import format_partial_date
from .mentions import hms


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
            transcript.holds(Segment),
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


def citation_text(
    interview: Interview, start_ms: int, end_ms: int, redactor: consent.Redactor | None = None
) -> str:
    """ "Interview with Thomas Whitfield by Ruth Adler, 12 March 2026, 00:41:10–00:43:05,
    Voices of the 1956 Crisis (sample), OH-SAMPLE-001": what is missing is left out.
    ``redactor`` None: as the public sees it (anonymised names as their labels)."""
    if redactor is None:
        redactor = consent.public_redactor(interview)
    narrators = " and ".join(
        redactor.name(p.id, p.name) for p in interview.people_in_role("interviewee")
    )
    interviewers = " and ".join(
        redactor.name(p.id, p.name) for p in interview.people_in_role("interviewer")
    )
    if narrators and interviewers:
        head = f"Interview with {narrators} by {interviewers}"
    elif narrators:
        head = f"Interview with {narrators}"
    elif interviewers:
        head = f"{redactor.anonymise(interview.title)}, interview by {interviewers}"
    else:
        head = redactor.anonymise(interview.title) or ""
    parts = [head, format_partial_date(interview.date_recorded)]
    parts.append(f"{hms(start_ms)}–{hms(end_ms)}")
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


def _shown(segment: Segment, redactor: consent.Redactor) -> SimpleNamespace:
    """A segment as a reader who may not see a redacted passage or a name sees it."""
    text, _words, _masked = redactor.segment(segment.text, segment.start_ms, segment.end_ms)
    speaker = None
    if segment.speaker is not None:
        speaker = SimpleNamespace(
            name=redactor.name(segment.speaker.person_id, segment.speaker.name)
        )
    return SimpleNamespace(
        id=segment.id,
        start_ms=segment.start_ms,
        end_ms=segment.end_ms,
        speaker=speaker,
        text=text,
    )


def passage(viewer: Viewer, mention: Mention) -> Passage:
    """The passage for display: note, words, speakers and segment highlight only when the
    viewer may read the interview's transcript (``policy.passage_access``); the catalogue
    line, time and citation always."""
    interview = mention.interview
    at = now()
    readable = policy.passage_access(viewer, interview, mention.document, at).words
    redactor = consent.redactor_for(viewer, interview, at)
    segments = overlapping_segments(interview, mention.start_ms, mention.end_ms) if readable else []
    if redactor:
        segments = [_shown(seg, redactor) for seg in segments]
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
        note=(redactor.anonymise(mention.note) or "") if readable else "",
        can_edit=policy.can_link_passages(viewer, interview),
        level_sentence=policy.level_sentence(interview, at),
        segments=segments,
        speakers=speakers,
        citation=citation_text(interview, mention.start_ms, mention.end_ms, redactor),
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
