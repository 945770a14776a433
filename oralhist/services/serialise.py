"""The JSON fields of each record that the API and the archive export share.

One function per resource gives the fields both write the same way (names from DESIGN.md's
data section, in the export manifest's order). The API (``web/api/serialise.py``) adds ids,
links and what the policy lets the viewer see; the export (``services/archive/``) adds the
manifest's keys that link records (``person-<id>``, slugs, accessions) and the files. Where
the two differ on purpose (the export's hyperlinks are ``[url, text]`` pairs and its ``gps``
is left out when empty, as manifest format 1 says), each writes its own extra fields.
"""

from __future__ import annotations

from typing import Any

from ..models import (
    Collection,
    Document,
    IndexPoint,
    Interview,
    Person,
    Recording,
    Speaker,
    Transcript,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def collection_fields(c: Collection) -> dict[str, Any]:
    return {"slug": c.slug, "title": c.title, "description": c.description}


def person_fields(p: Person) -> dict[str, Any]:
    """A person's catalogue record; the date of death is there because release agreements
    may close an interview until N years after it (issue 16)."""
    return {
        "name": p.name,
        "sort_name": p.sort_name,
        "dates": p.dates,
        "biography": p.biography,
        "date_of_death": p.date_of_death.isoformat() if p.date_of_death else None,
    }


def interview_fields(i: Interview, collection: tuple[str, Any]) -> dict[str, Any]:
    """The catalogue record. ``collection`` is how it names its collection, ``(key, value)``:
    the API by id (``collection_id``), the export by slug (``collection``)."""
    key, value = collection
    return {
        "accession": i.accession,
        "title": i.title,
        key: value,
        "summary": i.summary,
        "date_recorded": i.date_recorded or None,
        "place": i.place,
        "language": i.language,
        "rights_statement": i.rights_statement,
        "usage": i.usage,
        "funding": i.funding,
        "subjects": list(i.subjects or ()),
        "keywords": list(i.keywords or ()),
        "media_url": i.media_url,
        "access_level": i.access_level,
        "embargo_until": _iso(i.embargo_until),
        "status": i.status,
    }


def recording_fields(r: Recording) -> dict[str, Any]:
    """Every metadata field of a recording (the API filters them by policy; the export keeps
    the ones an import needs)."""
    return {
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
        "uploaded_at": _iso(r.uploaded_at),
        "tags": dict(r.tags or {}),
    }


def version_fields(t: Transcript) -> dict[str, Any]:
    """A transcript version's description (its segments are written elsewhere)."""
    return {
        "version": t.version,
        "created_at": _iso(t.created_at),
        "language": t.language,
        "source_filename": t.source_filename,
    }


def speaker_fields(s: Speaker) -> dict[str, Any]:
    return {"label": s.label, "display_name": s.display_name}


def index_point_fields(p: IndexPoint) -> dict[str, Any]:
    """An index point without its hyperlinks and GPS (written differently by each)."""
    return {
        "start_ms": p.start_ms,
        "title": p.title,
        "partial_transcript": p.partial_transcript,
        "synopsis": p.synopsis,
        "keywords": list(p.keywords or ()),
        "subjects": list(p.subjects or ()),
    }


def document_fields(d: Document) -> dict[str, Any]:
    """A document's catalogue record, without creators, file and full text."""
    return {
        "title": d.title,
        "doc_type": d.doc_type,
        "date": d.date or None,
        "publisher": d.publisher,
        "description": d.description,
        "citation": d.citation,
        "external_url": d.external_url,
        "access_level": d.access_level,
    }
