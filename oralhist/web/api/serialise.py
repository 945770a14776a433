"""JSON shapes of the records, with field names from DESIGN.md's data section.

Every function takes the viewer when what it may show depends on the policy.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from ...access import now, policy
from ...access.policy import Viewer
from ...models import Collection, Interview, Person, Recording


def collection_json(c: Collection) -> dict[str, Any]:
    return {"id": c.id, "slug": c.slug, "title": c.title, "description": c.description}


def person_json(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "sort_name": p.sort_name,
        "dates": p.dates,
        "biography": p.biography,
    }


def recording_json(r: Recording, viewer: Viewer) -> dict[str, Any]:
    """A recording's metadata, limited to the fields the policy lets ``viewer`` read
    (``policy.recording_fields``: those who may not listen get the catalogue's part line)."""
    at = now()
    data = {
        "id": r.id,
        "interview_id": r.interview_id,
        "position": r.position,
        "label": r.label,
        "original_filename": r.original_filename,
        "duration_ms": r.duration_ms,
        "format": r.format,
        "mime": r.mime,
        "codec": r.codec,
        "sample_rate": r.sample_rate,
        "channels": r.channels,
        "bitrate": r.bitrate,
        "size": r.size,
        "sha256": r.sha256,
        "browser_playable": r.browser_playable,
        "uploaded_at": r.uploaded_at.isoformat() if r.uploaded_at else None,
        "tags": dict(r.tags or {}),
    }
    allowed = policy.recording_fields(viewer, r.interview, at)
    data = {key: value for key, value in data.items() if key in allowed}
    if policy.can_listen(viewer, r.interview, at):
        data["audio_url"] = url_for("recordings.audio", recording_id=r.id)
    return data


def interview_json(i: Interview, viewer: Viewer) -> dict[str, Any]:
    at = now()
    return {
        "id": i.id,
        "accession": i.accession,
        "title": i.title,
        "collection_id": i.collection_id,
        "summary": i.summary,
        "date_recorded": i.date_recorded or None,
        "place": i.place,
        "language": i.language,
        "rights_statement": i.rights_statement,
        "access_level": i.access_level,
        "effective_access_level": policy.effective_level(i, at),
        "access_statement": policy.level_sentence(i, at),
        "embargo_until": i.embargo_until.isoformat() if i.embargo_until else None,
        "status": i.status,
        "participants": [
            {"person_id": p.person_id, "name": p.person.name, "role": p.role}
            for p in i.participants
        ],
        "recordings": [recording_json(r, viewer) for r in i.recordings],
        "duration_ms": i.duration_ms,
        "created_at": i.created_at.isoformat() if i.created_at else None,
        "can_read_transcript": policy.can_read_transcript(viewer, i, at),
        "can_listen": policy.can_listen(viewer, i, at),
        "url": url_for("catalogue.interview", interview_id=i.id, _external=False),
    }
