"""Alignment and machine transcription as use cases: start the job, gather what the engine
needs, store its result as a *proposed* transcript version, preview it against the current one.

A proposed version is never current by itself: the contributor (or an archivist) accepts it
through the ordinary restore (``transcript_versions.restore_version``), which clears the flag.
Its provenance records who asked, when, the engine and model with their versions, the settings,
which level was reached (word times, or why not) and every stretch left unaligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select

from .. import jobs
from ..access import policy, require
from ..access.policy import Viewer
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import IndexPoint, Interview, Recording, Segment, Transcript, User
from ..models.transcript import POSITION_GAP
from ..transcripts.timecode import format_timecode
from . import audit, catalogue, consent, notify, transcript_versions
from .transcript_export import pack_words, unpack_words

#: The job kinds (the deposit lane starts them by these names).
ALIGN = "align"
TRANSCRIBE = "transcribe"
#: What a machine draft says about itself on the page.
WHISPER_ADVICE = (
    "A machine draft from PocketSphinx: expect many errors; words in [[double brackets?]] are "
    "low-confidence. For a better draft, transcribe with Whisper elsewhere and import its JSON."
)


@dataclass(frozen=True)
class PartSpec:
    """A recording part as the worker needs it, read before the long computation."""

    recording_id: int
    storage_key: str
    offset_ms: int
    duration_ms: int


@dataclass(frozen=True)
class AlignInput:
    interview_id: int
    base_version: int
    language: str
    texts: list[str]
    starts: list[int | None]
    parts: list[PartSpec]


def parts_of(interview: Interview) -> list[PartSpec]:
    """The interview's recordings, in order, one after another on its timeline."""
    offset = 0
    parts = []
    for rec in sorted(interview.recordings, key=lambda r: r.position):
        parts.append(PartSpec(rec.id, rec.storage_key, offset, rec.duration_ms or 0))
        offset += rec.duration_ms or 0
    return parts


def _require_start(viewer: Viewer, interview: Interview) -> None:
    require(
        policy.can_edit_material(viewer, interview),
        "Only the interview's contributor (while it is a draft) and archivists start an "
        "alignment or a transcription.",
    )


def check_alignable(interview: Interview) -> Transcript:
    """The current transcript, or a 422 saying what is missing."""
    transcript = interview.current_transcript
    if transcript is None or not transcript.segments:
        raise ValidationError(
            "This interview has no transcript to align: import one first (or transcribe a "
            "recording).",
            fields={"transcript": "missing"},
        )
    if not interview.recordings:
        raise ValidationError(
            "This interview has no recording to align the transcript to: upload one first.",
            fields={"recordings": "missing"},
        )
    return transcript


def start_alignment(viewer: Viewer, interview: Interview, user: User | None, params=None):
    """Queue the ``align`` job (one exclusive job per interview: a second is a 409)."""
    _require_start(viewer, interview)
    check_alignable(interview)
    job = jobs.enqueue(ALIGN, interview=interview, user=user, params=params or {})
    audit.record(viewer, "transcript.align", "interview", interview.id, job=job.id)
    return job


def start_transcription(viewer: Viewer, recording: Recording, user: User | None, params=None):
    """Queue the ``transcribe`` job for one recording part (exclusive per interview too: it
    makes a version of the interview's transcript)."""
    _require_start(viewer, recording.interview)
    job = jobs.enqueue(TRANSCRIBE, recording=recording, user=user, params=params or {})
    audit.record(viewer, "transcript.transcribe", "interview", recording.interview_id, job=job.id)
    return job


def align_input(interview_id: int) -> AlignInput:
    """Everything the alignment reads from the database (read once; then the worker lets go
    of the database for the long computation)."""
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        raise NotFound(f"Interview {interview_id} does not exist.")
    transcript = check_alignable(interview)
    return AlignInput(
        interview.id,
        transcript.version,
        transcript.language or interview.language or "en",
        [s.text for s in transcript.segments],
        [s.start_ms for s in transcript.segments],
        parts_of(interview),
    )


def configured_models() -> dict[str, str]:
    """``ALIGN_MODELS``: language code -> PocketSphinx model folder (English ships)."""
    return dict(current_app.config.get("ALIGN_MODELS") or {})


def _next_version(interview_id: int) -> int:
    catalogue.lock_interview(interview_id)
    return (
        db.session.scalar(
            select(func.max(Transcript.version)).where(Transcript.interview_id == interview_id)
        )
        or 0
    ) + 1


def save_aligned(
    data: AlignInput, result, provenance: dict[str, Any], user_id: int | None
) -> Transcript:
    """Store an alignment result as a proposed version: the base version's segments (speaker,
    text, cue, note) with the new times and words. Flushes; the caller commits."""
    base = db.session.scalar(
        select(Transcript).where(
            Transcript.interview_id == data.interview_id, Transcript.version == data.base_version
        )
    )
    if base is None:
        raise NotFound(f"Transcript version {data.base_version} no longer exists.")
    version = _next_version(data.interview_id)
    base_points = list(base.index_points)
    # Versions share rows (services.transcript_versions): the new version holds only its own.
    transcript_versions.retire_open_rows(data.interview_id, version - 1)
    transcript = Transcript(
        interview_id=data.interview_id,
        version=version,
        is_current=False,
        proposed=True,
        language=base.language,
        source_format="aligned",
        source_filename=f"aligned from version {base.version}",
        segment_count=len(base.segments),
        warnings=[],
        created_by_id=user_id,
        provenance=provenance,
    )
    db.session.add(transcript)
    db.session.flush()
    rows = []
    for position, (segment, out) in enumerate(zip(base.segments, result.segments, strict=True)):
        rows.append(
            {
                "transcript_id": transcript.id,
                "position": position * POSITION_GAP,
                "start_ms": out.start_ms,
                "end_ms": out.end_ms,
                "speaker_id": segment.speaker_id,
                "text": segment.text,
                "cue_id": segment.cue_id,
                "cue_settings": segment.cue_settings,
                "note": segment.note,
                "words": pack_words(out.words),
            }
        )
    if rows:
        db.session.execute(insert(Segment), rows)
    # the base version's index, unchanged (its times are the base's: alignment moves segments)
    for position, point in enumerate(base_points):
        db.session.add(
            IndexPoint(
                transcript_id=transcript.id,
                position=position * POSITION_GAP,
                start_ms=point.start_ms,
                title=point.title,
                partial_transcript=point.partial_transcript,
                synopsis=point.synopsis,
                keywords=list(point.keywords or []),
                subjects=list(point.subjects or []),
                hyperlinks=list(point.hyperlinks or []),
                gps=point.gps,
            )
        )
    db.session.flush()
    _tell_contributor(data.interview_id, transcript, user_id, "An aligned transcript")
    return transcript


def save_transcribed(
    interview_id: int, recording_id: int, result, provenance: dict[str, Any], user_id: int | None
) -> Transcript:
    """Store a machine draft as a proposed version (one segment per pause-separated run)."""
    from ..align.pipeline import draft_text

    language = provenance.get("language") or "en"
    version = _next_version(interview_id)
    transcript_versions.retire_open_rows(interview_id, version - 1)
    transcript = Transcript(
        interview_id=interview_id,
        version=version,
        is_current=False,
        proposed=True,
        language=language,
        source_format="machine",
        source_filename=f"machine draft of recording {recording_id}",
        segment_count=len(result.segments),
        warnings=[],
        created_by_id=user_id,
        provenance=provenance,
    )
    db.session.add(transcript)
    db.session.flush()
    rows = [
        {
            "transcript_id": transcript.id,
            "position": position * POSITION_GAP,
            "start_ms": out.start_ms,
            "end_ms": out.end_ms,
            "speaker_id": None,
            "text": draft_text(out.words),
            "words": pack_words(out.words),
        }
        for position, out in enumerate(result.segments)
    ]
    if rows:
        db.session.execute(insert(Segment), rows)
    db.session.flush()
    _tell_contributor(interview_id, transcript, user_id, "A machine transcript")
    return transcript


def _tell_contributor(interview_id: int, transcript: Transcript, user_id, what: str) -> None:
    """In the app and by mail: the contributor (and whoever started the job) may check it."""
    interview = db.session.get(Interview, interview_id)
    people = {}
    for uid in (interview.created_by_id, user_id):
        if uid is not None and (user := db.session.get(User, uid)) is not None:
            people[user.id] = user
    path, absolute = notify.link(
        "alignment.preview", interview_id=interview_id, version=transcript.version
    )
    message = f"{what} of “{interview.title}” is ready to check (version {transcript.version})."
    for user in people.values():
        notify.notify(
            user,
            message,
            path,
            subject=f"Proposed transcript ready: {interview.title}",
            body=f"{message}\n\nPreview it, compare it with the current transcript and accept "
            f"it here:\n{absolute}\n",
        )


# --- preview and diff ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    position: int
    text: str
    speaker: str | None
    start_ms: int | None
    end_ms: int | None
    before_start_ms: int | None
    before_end_ms: int | None
    before_text: str | None
    aligned: bool
    words: list

    @property
    def changed(self) -> bool:
        return (
            self.before_text != self.text
            or self.before_start_ms != self.start_ms
            or self.before_end_ms != self.end_ms
        )

    @property
    def timecode(self) -> str:
        return format_timecode(self.start_ms, style="hms") if self.start_ms is not None else ""


def proposed_version(viewer: Viewer, interview: Interview, version: int) -> Transcript:
    """A machine-made version for its editors (it is unchecked: not shown to readers)."""
    require(
        policy.can_edit_material(viewer, interview),
        "Only the interview's editors see a proposed transcript before it is accepted.",
    )
    transcript = db.session.scalar(
        select(Transcript).where(
            Transcript.interview_id == interview.id, Transcript.version == version
        )
    )
    if transcript is None or transcript.provenance is None:
        raise NotFound(f"Interview {interview.id} has no machine-made version {version}.")
    return transcript


def preview(
    interview: Interview, proposed: Transcript, *, redactor: consent.Redactor
) -> list[PreviewRow]:
    """The proposed version's segments beside the current version's (by position): which
    are aligned, which unaligned (with their approximate range) and what changed; both read
    through ``redactor`` (``consent.redactor_for``: a contributor reviewing a machine
    version sees redacted passages as placeholders and anonymised names as labels)."""
    current = interview.current_transcript
    before: Sequence[Segment] = current.segments if current is not None else []
    flagged = {
        p for u in (proposed.provenance or {}).get("unaligned", []) for p in u.get("segments", [])
    }
    rows = []
    for segment in proposed.segments:
        old = before[segment.position] if segment.position < len(before) else None
        text, words, _masked = redactor.segment(
            segment.text, segment.start_ms, segment.end_ms, segment.words
        )
        old_text = (
            redactor.segment(old.text, old.start_ms, old.end_ms)[0] if old is not None else None
        )
        speaker = segment.speaker
        rows.append(
            PreviewRow(
                segment.position,
                text,
                redactor.name(speaker.person_id, speaker.name) if speaker else None,
                segment.start_ms,
                segment.end_ms,
                old.start_ms if old else None,
                old.end_ms if old else None,
                old_text,
                segment.position not in flagged,
                [w.__dict__ if hasattr(w, "__dict__") else w for w in unpack_words(words)],
            )
        )
    return rows


def preview_json(
    interview: Interview, proposed: Transcript, *, redactor: consent.Redactor
) -> dict[str, Any]:
    rows = preview(interview, proposed, redactor=redactor)
    return {
        "version": proposed.version,
        "proposed": proposed.proposed,
        "is_current": proposed.is_current,
        "provenance": proposed.provenance,
        "against_version": interview.current_transcript.version
        if interview.current_transcript
        else None,
        "segments": [
            {
                "position": r.position,
                "text": r.text,
                "start_ms": r.start_ms,
                "end_ms": r.end_ms,
                "aligned": r.aligned,
                "changed": r.changed,
                "before": {
                    "text": r.before_text,
                    "start_ms": r.before_start_ms,
                    "end_ms": r.before_end_ms,
                },
            }
            for r in rows
        ],
    }
