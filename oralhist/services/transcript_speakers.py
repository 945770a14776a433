"""An interview's speakers: naming, linking to a person, merging, and reassigning a
segment. Speakers belong to the interview, not to a version (see ``services.transcripts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Interview, Person, Segment, Speaker, SpeakerMerge
from . import audit
from .fields import record_id
from .transcript_editing import save_edits
from .transcript_versions import current_transcript


def speakers_with_counts(interview: Interview) -> list[tuple[Speaker, int]]:
    """The interview's speakers with their number of segments in the current version."""
    current = current_transcript(interview)
    counts: dict[int, int] = {}
    if current is not None:
        counts = dict(
            db.session.execute(
                select(Segment.speaker_id, func.count())
                .where(current.holds(Segment), Segment.speaker_id.is_not(None))
                .group_by(Segment.speaker_id)
            ).all()
        )
    speakers = db.session.scalars(
        select(Speaker).where(Speaker.interview_id == interview.id).order_by(Speaker.id)
    )
    return [(s, counts.get(s.id, 0)) for s in speakers]


def get_speaker(interview: Interview, speaker_id: int) -> Speaker:
    number = record_id(speaker_id)
    speaker = db.session.get(Speaker, number) if number is not None else None
    if speaker is None or speaker.interview_id != interview.id:
        raise NotFound(f"Interview {interview.id} has no speaker {speaker_id}.")
    return speaker


def require_edit(viewer: Viewer, interview: Interview) -> None:
    """Importing transcripts and tagging, renaming and merging speakers: the material's
    editors, so only archivists while anything is withheld (``policy.can_edit_record``: the
    contributor sees anonymised speakers as labels and would save the label as the name)."""
    require(
        policy.can_edit_material(viewer, interview),
        lambda: policy.edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists import "
            "transcripts and tag speakers.",
        ),
    )


def require_read(viewer: Viewer, interview: Interview) -> None:
    require(
        policy.can_read_transcript(viewer, interview, now()),
        "You do not have access to this transcript.",
    )


def update_speaker(viewer: Viewer, speaker: Speaker, data: Mapping[str, Any]) -> Speaker:
    """Rename (``display_name``; empty shows the label) and/or link to a Person
    (``person_id``; null unlinks)."""
    interview = speaker.interview
    require_edit(viewer, interview)
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if "display_name" in data:
        name = data["display_name"] if data["display_name"] is not None else ""
        if not isinstance(name, str):
            errors["display_name"] = "must be text"
        elif len(" ".join(name.split())) > 255:
            errors["display_name"] = "must be at most 255 characters"
        else:
            changes["display_name"] = " ".join(name.split())
    if "person_id" in data:
        raw = data["person_id"]
        if raw in (None, ""):
            changes["person_id"] = None
        elif isinstance(raw, bool) or not str(raw).isdigit():
            errors["person_id"] = "must be a person's id"
        elif record_id(raw) is None or db.session.get(Person, record_id(raw)) is None:
            errors["person_id"] = f"there is no person {raw}"
        else:
            changes["person_id"] = int(raw)
    if errors:
        raise ValidationError(
            "The speaker was not changed: "
            + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in errors.items())
            + ".",
            fields=errors,
        )
    for key, value in changes.items():
        setattr(speaker, key, value)
    db.session.flush()
    db.session.expire(speaker, ["person"])
    return speaker


def merge_speakers(viewer: Viewer, source: Speaker, into: Speaker) -> Speaker:
    """Move every segment of ``source`` (in every version) to ``into`` and remove ``source``
    (:func:`merge`, for callers that want the speaker merged into)."""
    return merge(viewer, source, into).into


def merge(viewer: Viewer, source: Speaker, into: Speaker) -> SpeakerMerge:
    """Move every segment of ``source`` (in every version) to ``into`` and remove ``source``;
    the returned record keeps what :func:`undo_merge` needs to put it back."""
    interview = source.interview
    require_edit(viewer, interview)
    if into.interview_id != source.interview_id:
        raise ValidationError("Speakers can only be merged within one interview.")
    if into.id == source.id:
        raise ValidationError("Choose another speaker to merge into.")
    took_person = bool(not into.person_id and source.person_id)
    if took_person:
        into.person_id = source.person_id
    moved = list(db.session.scalars(select(Segment.id).where(Segment.speaker_id == source.id)))
    db.session.execute(
        update(Segment)
        .where(Segment.speaker_id == source.id)
        .values(speaker_id=into.id)
        .execution_options(synchronize_session="fetch")
    )
    record = SpeakerMerge(
        interview_id=interview.id,
        into_id=into.id,
        source_label=source.label,
        source_display_name=source.display_name or "",
        source_person_id=source.person_id,
        took_person=took_person,
        segment_ids=moved,
        merged_by_id=viewer.user_id,
    )
    db.session.add(record)
    label = source.label
    db.session.delete(source)
    db.session.flush()
    db.session.expire(interview, ["speakers"])
    audit.record(
        viewer,
        "speaker.merge",
        "interview",
        interview.id,
        merged=label,
        into=into.label,
        merge_id=record.id,
        segments=len(moved),
    )
    return record


def undoable_merges(interview: Interview, limit: int = 10) -> list[SpeakerMerge]:
    """The interview's latest merges that can still be undone, newest first."""
    return list(
        db.session.scalars(
            select(SpeakerMerge)
            .where(
                SpeakerMerge.interview_id == interview.id,
                SpeakerMerge.undone_at.is_(None),
                SpeakerMerge.into_id.is_not(None),
            )
            .order_by(SpeakerMerge.id.desc())
            .limit(limit)
        )
    )


def merge_counts(source: Speaker) -> tuple[int, int]:
    """(segments in the current version, in every version) of ``source``: what a merge
    would move, for the confirmation."""
    current = current_transcript(source.interview)
    every = db.session.scalar(
        select(func.count()).select_from(Segment).where(Segment.speaker_id == source.id)
    )
    now_count = 0
    if current is not None:
        now_count = db.session.scalar(
            select(func.count())
            .select_from(Segment)
            .where(Segment.speaker_id == source.id, current.holds(Segment))
        )
    return now_count or 0, every or 0


def get_merge(interview: Interview, merge_id: int) -> SpeakerMerge:
    number = record_id(merge_id)
    record = db.session.get(SpeakerMerge, number) if number is not None else None
    if record is None or record.interview_id != interview.id:
        raise NotFound(f"Interview {interview.id} has no speaker merge {merge_id}.")
    return record


def undo_merge(viewer: Viewer, record: SpeakerMerge) -> Speaker:
    """Put a merge back: the source speaker again (label, name, person), with the segments
    that moved and still belong to the speaker they moved to (a segment reassigned since
    keeps its new speaker). Refused once undone, or when either speaker's place is taken."""
    interview = db.session.get(Interview, record.interview_id)
    require_edit(viewer, interview)
    if record.undone_at is not None:
        raise Conflict(f"This merge of {record.source_label} was undone already.")
    into = record.into
    if into is None:
        raise Conflict(
            f"The speaker {record.source_label} was merged into is gone (merged or removed "
            "since): this merge cannot be undone."
        )
    taken = db.session.scalar(
        select(Speaker.id).where(
            Speaker.interview_id == interview.id, Speaker.label == record.source_label
        )
    )
    if taken is not None:
        raise Conflict(
            f"There is a speaker labelled {record.source_label} again (a later import): "
            "this merge cannot be undone; reassign the segments instead."
        )
    restored = Speaker(
        interview_id=interview.id,
        label=record.source_label,
        display_name=record.source_display_name,
        person_id=record.source_person_id,
    )
    db.session.add(restored)
    db.session.flush()
    if record.segment_ids:
        db.session.execute(
            update(Segment)
            .where(Segment.id.in_(record.segment_ids), Segment.speaker_id == into.id)
            .values(speaker_id=restored.id)
            .execution_options(synchronize_session="fetch")
        )
    if record.took_person and into.person_id == record.source_person_id:
        into.person_id = None
    record.undone_at = now()
    db.session.flush()
    db.session.expire(interview, ["speakers"])
    audit.record(
        viewer,
        "speaker.merge_undo",
        "interview",
        interview.id,
        restored=restored.label,
        merge_id=record.id,
    )
    return restored


def get_segment(segment_id: int, viewer: Viewer) -> Segment:
    """The segment, if its interview's record is visible to the viewer (else not found)."""
    segment = db.session.get(Segment, segment_id)
    if segment is None or not policy.can_view_record(viewer, segment.transcript.interview):
        raise NotFound(f"There is no segment {segment_id}.")
    return segment


def reassign_segment(viewer: Viewer, segment: Segment, speaker_id: int | None) -> Segment:
    """Give one segment another of the interview's speakers (None: no speaker). Saved like
    any edit, as a new transcript version (``services.transcript_editing``); the segment
    keeps its id."""
    interview = segment.transcript.interview
    require_edit(viewer, interview)
    number = record_id(speaker_id) if speaker_id is not None else None
    if speaker_id is not None and number is None:
        raise ValidationError(
            f"Speaker {speaker_id} is not one of this interview's speakers.",
            fields={"speaker_id": "not a speaker of this interview"},
        )
    save_edits(
        viewer, interview, [{"op": "update", "segment_id": segment.id, "speaker_id": number}]
    )
    found = db.session.get(Segment, segment.id, populate_existing=True)
    if found is None:  # cannot happen: an edited segment keeps its id
        raise NotFound(f"There is no segment {segment.id}.")
    return found
