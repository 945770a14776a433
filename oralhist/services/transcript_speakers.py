"""An interview's speakers: naming, linking to a person, merging, and reassigning a
segment. Speakers belong to the interview, not to a version (see ``services.transcripts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import Interview, Person, Segment, Speaker
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
    require(
        policy.can_edit_material(viewer, interview),
        "Only the interview's contributor (while it is a draft) and archivists import "
        "transcripts and tag speakers.",
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
    """Move every segment of ``source`` (in every version) to ``into`` and remove ``source``."""
    interview = source.interview
    require_edit(viewer, interview)
    if into.interview_id != source.interview_id:
        raise ValidationError("Speakers can only be merged within one interview.")
    if into.id == source.id:
        raise ValidationError("Choose another speaker to merge into.")
    if not into.person_id and source.person_id:
        into.person_id = source.person_id
    db.session.execute(
        update(Segment)
        .where(Segment.speaker_id == source.id)
        .values(speaker_id=into.id)
        .execution_options(synchronize_session="fetch")
    )
    label = source.label
    db.session.delete(source)
    db.session.flush()
    db.session.expire(interview, ["speakers"])
    audit.record(viewer, "speaker.merge", "interview", interview.id, merged=label, into=into.label)
    return into


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
