"""JSON shapes of the records in the API, with field names from DESIGN.md's data section.

Each builds on the fields it shares with the archive export (``services/serialise.py``) and
adds ids, links and what the policy lets the viewer see. Every function takes the viewer when
what it may show depends on the policy.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from ...access import current_viewer, now, policy
from ...access.policy import Viewer
from ...models import (
    Collection,
    Document,
    IndexPoint,
    Interview,
    Person,
    Recording,
    Speaker,
    Transcript,
)
from ...services import consent, transcript_export, transcript_speakers
from ...services import passages as passage_service
from ...services import suggestions as suggestion_service
from ...services.serialise import (
    collection_fields,
    document_fields,
    index_point_fields,
    interview_fields,
    person_fields,
    recording_fields,
    speaker_fields,
    version_fields,
)
from ...urls import public_url


def collection_json(c: Collection) -> dict[str, Any]:
    return {"id": c.id, **collection_fields(c)}


def person_json(p: Person) -> dict[str, Any]:
    return {"id": p.id, **person_fields(p)}


def recording_json(r: Recording, viewer: Viewer) -> dict[str, Any]:
    """A recording's metadata, limited to the fields the policy lets ``viewer`` read
    (``policy.recording_fields``: those who may not listen get the catalogue's part line)."""
    at = now()
    allowed = policy.recording_fields(viewer, r.interview, at)
    data = {key: value for key, value in recording_fields(r).items() if key in allowed}
    if policy.can_listen(viewer, r.interview, at):
        data["audio_url"] = url_for("recordings.audio", recording_id=r.id)
    return data


def interview_json(i: Interview, viewer: Viewer) -> dict[str, Any]:
    """An interview's record; for everyone but archivists, anonymised participants appear as
    their label, without their person id, and their names are replaced in the text."""
    at = now()
    redactor = consent.redactor_for(viewer, i, at)
    fields = interview_fields(i, ("collection_id", i.collection_id))
    if redactor.person_labels:
        for key in ("title", "summary", "place"):
            if isinstance(fields.get(key), str):
                fields[key] = redactor.anonymise(fields[key])
        fields.update(consent.anonymised_record_text(i, redactor))
    return {
        "id": i.id,
        **fields,
        "effective_access_level": policy.effective_level(i, at),
        "access_statement": policy.level_sentence(i, at),
        "participants": [
            {"person_id": None, "name": redactor.person_labels[p.person_id], "role": p.role}
            if p.person_id in redactor.person_labels
            else {"person_id": p.person_id, "name": p.person.name, "role": p.role}
            for p in i.participants
        ],
        "recordings": [recording_json(r, viewer) for r in i.recordings],
        "duration_ms": i.duration_ms,
        "created_at": i.created_at.isoformat() if i.created_at else None,
        "can_read_transcript": policy.can_read_transcript(viewer, i, at),
        "can_listen": policy.can_listen(viewer, i, at),
        "url": url_for("catalogue.interview", interview_id=i.id, _external=False),
        "iiif_manifest": public_url("iiif.manifest", interview_id=i.id),
    }


def transcript_json(
    interview: Interview,
    transcript: Transcript,
    *,
    redactor: consent.Redactor,
    page: int = 1,
    per_page: int | None = None,
) -> dict[str, Any]:
    """The JSON shape of the current transcript: its segments a page at a time
    (``page``, ``per_page``, ``total`` as every API list; ``per_page`` None: all of them)."""
    total = transcript.segment_count
    size = per_page or max(total, 1)
    return {
        "page": page,
        "per_page": size,
        "total": total,
        "interview_id": interview.id,
        "version": transcript.version,
        "language": transcript.language,
        "source_format": transcript.source_format,
        "timed": transcript_export.is_timed(transcript),
        "segments": [
            {
                "id": r.id,
                "start_ms": r.start_ms,
                "end_ms": r.end_ms,
                "speaker": r.speaker or None,
                "speaker_id": r.speaker_id,
                "text": r.text,
                "note": r.note,
                "cue_id": r.cue_id,
                "cue_settings": r.cue_settings,
                "words": r.words_json,
            }
            for r in transcript_export.rows(
                transcript, start=(page - 1) * size, limit=size, full=True, redactor=redactor
            )
        ],
        "speakers": [
            speaker_json(s, n, redactor)
            for s, n in transcript_speakers.speakers_with_counts(interview)
        ],
        "index": [index_point_json(p, redactor) for p in transcript.index_points],
    }


def speaker_json(
    speaker: Speaker,
    segment_count: int | None = None,
    redactor: consent.Redactor = consent.NO_REDACTION,
) -> dict[str, Any]:
    data = {
        "id": speaker.id,
        **speaker_fields(speaker),
        "name": speaker.name,
        "person_id": speaker.person_id,
        "colour_index": speaker.colour_index,
    }
    if segment_count is not None:
        data["segment_count"] = segment_count
    if redactor.person_labels or redactor.anonymise:
        shown = redactor.name(speaker.person_id, speaker.name)
        if shown != speaker.name or speaker.person_id in redactor.person_labels:
            for key in ("label", "display_name", "name"):
                if key in data:
                    data[key] = shown
            if "person_id" in data:
                data["person_id"] = None
    return data


def index_point_json(
    point: IndexPoint, redactor: consent.Redactor = consent.NO_REDACTION
) -> dict[str, Any]:
    fields = index_point_fields(point)
    if redactor:
        fields["partial_transcript"] = redactor.point_text(
            point.start_ms, fields.get("partial_transcript")
        )
        for key in ("title", "synopsis"):
            if fields.get(key):
                fields[key] = redactor.anonymise(fields[key])
    return {
        "id": point.id,
        **fields,
        "hyperlinks": [{"url": u, "text": t} for u, t in (point.hyperlinks or [])],
        "gps": point.gps,
    }


def version_json(transcript: Transcript) -> dict[str, Any]:
    return {
        **version_fields(transcript),
        "is_current": transcript.is_current,
        "source_format": transcript.source_format,
        "segment_count": transcript.segment_count,
        "warnings": transcript.warnings or [],
        "created_by": transcript.created_by.display_name if transcript.created_by else None,
        "base_version": transcript.base_version,
        "changes": transcript.changes,
        "proposed": transcript.proposed,
        "provenance": transcript.provenance,
    }


def document_json(d: Document, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": d.id,
        **document_fields(d),
        "creators": [{"person_id": c.person_id, "name": c.person.name} for c in d.creators],
        "external_url": d.external_url or None,
        "file": None,
        "has_full_text": bool(d.full_text),
        "created_at": d.created_at.isoformat() if d.created_at else None,
        "url": url_for("documents.document", document_id=d.id),
    }
    if d.file_key:
        data["file"] = {
            "name": d.file_name,
            "size": d.file_size,
            "sha256": d.file_sha256,
            "mime": d.file_mime,
            "url": url_for("documents.file", document_id=d.id),
        }
    if full:
        data["full_text"] = d.full_text
    return data


def passage_json(p: passage_service.Passage) -> dict[str, Any]:
    i = p.interview
    data: dict[str, Any] = {
        "id": p.mention.id,
        "document_id": p.document.id,
        "document_title": p.document.title,
        "interview_id": i.id,
        "interview": {
            "id": i.id,
            "title": consent.shown_title(current_viewer(), i),
            "accession": i.accession,
        },
        "start_ms": p.start_ms,
        "end_ms": p.end_ms,
        "note": p.note if p.readable else None,
        "citation": p.citation,
        "permalink": p.permalink,
        "url": p.player_link,
        "transcript_readable": p.readable,
    }
    if p.readable:
        data["speakers"] = p.speakers
        data["segments"] = [
            {
                "id": s.id,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "speaker": s.speaker.name if s.speaker else None,
                "text": s.text,
            }
            for s in p.segments
        ]
        data["text"] = " ".join(s.text for s in p.segments)
    return data


def suggestion_json(s: suggestion_service.Suggestion) -> dict[str, Any]:
    return {
        "interview_id": s.interview.id,
        "interview": {
            "id": s.interview.id,
            "title": consent.shown_title(current_viewer(), s.interview),
        },
        "segment_id": s.segment_id,
        "start_ms": s.start_ms,
        "end_ms": s.end_ms,
        "speaker": s.speaker if s.readable else None,
        "snippet": s.snippet_html if s.readable else None,
        "reason": s.reason,
    }
