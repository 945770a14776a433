"""What the outside world may know of an interview: the one description behind OAI-PMH
(Dublin Core and MODS), schema.org JSON-LD and the IIIF manifest's metadata.

Everything is read through the shared serialisers (``services/serialise.py``) and the policy
(``oralhist/access``), never straight from the model, so their rules (anonymised names,
redactions, who may read the index) apply here too. The record is built for a viewer: the
harvesting endpoints use the anonymous viewer, so a restricted interview gives its catalogue
record only (title, names, summary, duration, access statement) and never its index,
transcript or passage notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import now, policy
from ..access.policy import Viewer
from ..extensions import db
from ..models import Interview, Mention, Participant
from ..urls import public_url
from . import transcript_versions
from .serialise import collection_fields, index_point_fields, interview_fields, person_fields


@dataclass(frozen=True)
class LinkedDocument:
    title: str
    url: str
    start_ms: int
    end_ms: int


@dataclass
class PublicRecord:
    """An interview's public description (see the module docstring)."""

    interview_id: int
    accession: str
    title: str
    summary: str
    date_recorded: str
    place: str
    language: str
    rights: str
    access_statement: str
    effective_level: str
    duration_ms: int
    permalink: str
    usage: str = ""
    funding: str = ""
    collection_slug: str | None = None
    collection_title: str | None = None
    #: (role, name) in the catalogue's order
    people: list[tuple[str, str]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    documents: list[LinkedDocument] = field(default_factory=list)
    #: the viewer may read the transcript (and so the index and passages' words)
    readable: bool = False
    listenable: bool = False

    def names(self, role: str) -> list[str]:
        return [name for r, name in self.people if r == role]


def participant_name(participant: Participant) -> str:
    """A participant's catalogue name (``public_record`` shows an anonymised one
    as its label)."""
    return person_fields(participant.person)["name"]


def public_record(interview: Interview, viewer: Viewer) -> PublicRecord:
    """``interview``'s description as ``viewer`` may see it. The caller has checked
    ``policy.can_view_record``."""
    from . import consent

    at = now()
    redactor = consent.redactor_for(viewer, interview, at)
    fields = interview_fields(interview, ("collection", None))
    for key in ("title", "summary", "place"):
        fields[key] = redactor.anonymise(fields[key])
    readable = policy.can_read_transcript(viewer, interview, at)
    collection = collection_fields(interview.collection) if interview.collection else None
    record = PublicRecord(
        interview_id=interview.id,
        accession=fields["accession"],
        title=fields["title"],
        summary=fields["summary"] or "",
        date_recorded=fields["date_recorded"] or "",
        place=fields["place"] or "",
        language=fields["language"] or "",
        rights=fields["rights_statement"] or "",
        access_statement=policy.level_sentence(interview, at),
        effective_level=policy.effective_level(interview, at),
        duration_ms=interview.duration_ms,
        permalink=public_url("catalogue.interview", interview_id=interview.id),
        collection_slug=collection["slug"] if collection else None,
        collection_title=collection["title"] if collection else None,
        people=[
            (p.role, redactor.name(p.person_id, participant_name(p)))
            for p in interview.participants
        ],
        readable=readable,
        listenable=policy.can_listen(viewer, interview, at),
    )
    # The catalogue's own subject headings and keywords first, then the index's terms.
    own = consent.anonymised_record_text(interview, redactor)
    record.usage, record.funding = own["usage"] or "", own["funding"] or ""
    record.subjects.extend(dict.fromkeys(own["subjects"]))
    record.keywords.extend(dict.fromkeys(own["keywords"]))
    if readable:
        transcript = transcript_versions.current_transcript(interview)
        for point in transcript.index_points if transcript is not None else ():
            values = index_point_fields(point)
            keywords = [redactor.anonymise(k) or k for k in values["keywords"]]
            subjects = [redactor.anonymise(s) or s for s in values["subjects"]]
            record.keywords.extend(k for k in keywords if k not in record.keywords)
            record.subjects.extend(s for s in subjects if s not in record.subjects)
    # Linked documents: the passage links the viewer may see listed (catalogue data), without
    # building each passage's excerpt (``passages.passage`` reads the segments).
    linked = db.session.scalars(
        select(Mention)
        .options(selectinload(Mention.document))
        .where(Mention.interview_id == interview.id)
        .order_by(Mention.start_ms, Mention.end_ms, Mention.id)
    )
    seen: set[int] = set()
    for mention in linked:
        if mention.document_id in seen:
            continue
        if not policy.passage_access(viewer, interview, mention.document, at).listed:
            continue
        seen.add(mention.document_id)
        record.documents.append(
            LinkedDocument(
                title=mention.document.title,
                url=public_url("documents.document", document_id=mention.document_id),
                start_ms=mention.start_ms,
                end_ms=mention.end_ms,
            )
        )
    return record
