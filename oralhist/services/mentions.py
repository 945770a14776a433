"""Passage links (mentions) between interviews and documents: the rules, look-ups and writing.

Reading passages and citations is ``services.passages``; suggested links are
``services.suggestions``.

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

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Document, Interview, Mention
from ..transcripts.timecode import format_timecode, parse_t_param, parse_timecode
from . import audit
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
            f"The passage ends ({hms(end_ms)}) before it starts ({hms(start_ms)}): "
            "give the earlier time first.",
            fields={"end_ms": "is before the start"},
        )
    duration = interview.duration_ms
    if duration and end_ms > duration:
        raise ValidationError(
            f"The passage ends at {hms(end_ms)}, after the end of the recording ({hms(duration)}).",
            fields={"end_ms": "is after the end of the recording"},
        )


def hms(ms: int) -> str:
    """``h:mm:ss`` (``0:41:10``) for messages and citations: interview time as the site shows
    it everywhere (the player, the transcript, search results)."""
    return format_timecode(max(0, ms), style="hms")


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


def interview_for_link(interview_id: Any, viewer: Viewer) -> Interview:
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
    interview = interview_for_link(data.get("interview_id"), viewer)
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
