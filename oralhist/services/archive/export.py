"""Export: the whole archive written to a folder (``oralhist export``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection as Many
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ... import transcripts as parsing
from ...access import now
from ...errors import OralHistError, TranscriptError, ValidationError
from ...extensions import db
from ...models import (
    Collection,
    Document,
    DocumentCreator,
    Interview,
    Mention,
    Participant,
    Person,
    Speaker,
)
from .. import audit, consent, recordings, transcript_export, transcript_versions
from ..serialise import (
    collection_fields,
    document_fields,
    index_point_fields,
    interview_fields,
    person_fields,
    recording_fields,
    speaker_fields,
    version_fields,
)
from .manifest import (
    ARCHIVIST,
    CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NOTICE,
    Progress,
    no_progress,
    speaker_label,
)

#: The recording fields the manifest carries (after ``file``), in this order.
EXPORTED_RECORDING_FIELDS = (
    "original_filename",
    "label",
    "position",
    "sha256",
    "size",
    "format",
    "duration_ms",
)


@dataclass
class ExportSummary:
    interviews: int = 0
    recordings: int = 0
    transcripts: int = 0
    earlier_versions: int = 0
    documents: int = 0
    mentions: int = 0
    files: int = 0
    size: int = 0
    warnings: list[str] = field(default_factory=list)
    #: the transcript files written so far, so two never share a name
    transcript_files: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        media = f", {self.files} media files ({self.size:,} bytes)" if self.files else ""
        return (
            f"{self.interviews} interviews, {self.recordings} recordings, {self.transcripts} "
            f"transcripts ({self.earlier_versions} earlier versions), {self.documents} "
            f"documents, {self.mentions} passage links{media}"
        )


def check_destination(dest: Path, *, force: bool) -> None:
    """Refuse a destination that is a file, or a folder that is not empty (unless ``force``)."""
    if dest.exists() and not dest.is_dir():
        raise ValidationError(f"{dest} exists and is not a folder.")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise ValidationError(
            f"{dest} is not empty. Choose an empty or new folder, or use --force to write "
            "into it (files of the same name are replaced)."
        )


def export_steps(interview_ids: Many[int] | None = None) -> int:
    """How many steps ``export_archive`` reports (for a progress bar): one per interview
    and per document."""
    if interview_ids is not None:
        return len(interview_ids) + len(_linked_documents(interview_ids))
    return len(db.session.scalars(select(Interview.id)).all()) + len(
        db.session.scalars(select(Document.id)).all()
    )


def _linked_documents(interview_ids: Many[int]) -> list[int]:
    return list(
        db.session.scalars(
            select(Mention.document_id)
            .where(Mention.interview_id.in_(sorted(interview_ids)))
            .distinct()
        )
    )


def _people_of(interview_ids: Many[int], document_ids: Many[int]) -> set[int]:
    """Everyone a scoped export's records name: participants, speakers' persons, creators."""
    ids = sorted(interview_ids)
    found = set(
        db.session.scalars(select(Participant.person_id).where(Participant.interview_id.in_(ids)))
    )
    found |= set(
        db.session.scalars(
            select(Speaker.person_id).where(
                Speaker.interview_id.in_(ids), Speaker.person_id.is_not(None)
            )
        )
    )
    found |= set(
        db.session.scalars(
            select(DocumentCreator.person_id).where(
                DocumentCreator.document_id.in_(sorted(document_ids))
            )
        )
    )
    return found


def export_archive(
    dest: Path,
    *,
    include_media: bool = True,
    progress: Progress = no_progress,
    interview_ids: Many[int] | None = None,
) -> ExportSummary:
    """Write the whole archive to ``dest`` (see the module docstring); regardless of access
    levels. Raises ``ValidationError`` if a stored file does not match its recorded sha256
    (run ``oralhist fixity``). Call ``check_destination`` first.

    ``interview_ids`` limits the export to those interviews, the documents their passages
    link to, those links, and the people and collections they name (a BagIt package of one
    interview or one collection: ``services/archive/bag.py``)."""
    dest.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    copier = _MediaCopier(dest, summary) if include_media else None
    people_query = select(Person).order_by(Person.id)
    interviews_query = select(Interview).order_by(Interview.accession)
    documents_query = select(Document).order_by(Document.id)
    mentions_query = select(Mention).order_by(
        Mention.document_id, Mention.interview_id, Mention.start_ms
    )
    collections_query = select(Collection).order_by(Collection.slug)
    if interview_ids is not None:
        ids = sorted(interview_ids)
        document_ids = _linked_documents(ids)
        people_query = people_query.where(Person.id.in_(sorted(_people_of(ids, document_ids))))
        interviews_query = interviews_query.where(Interview.id.in_(ids))
        documents_query = documents_query.where(Document.id.in_(document_ids))
        mentions_query = mentions_query.where(Mention.interview_id.in_(ids))
        collections_query = collections_query.where(
            Collection.id.in_(select(Interview.collection_id).where(Interview.id.in_(ids)))
        )
    people = list(db.session.scalars(people_query))
    person_key = {p.id: f"person-{p.id}" for p in people}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now().isoformat(timespec="seconds"),
        "notice": NOTICE,
        "media_included": include_media,
        "collections": [collection_fields(c) for c in db.session.scalars(collections_query)],
        "people": [{"key": person_key[p.id], **person_fields(p)} for p in people],
        "interviews": [],
        "documents": [],
        "mentions": [],
    }
    for interview in db.session.scalars(interviews_query):
        entry = _interview_entry(interview, person_key, dest, copier, summary)
        manifest["interviews"].append(entry)
        summary.interviews += 1
        progress(1)
    for document in db.session.scalars(documents_query):
        manifest["documents"].append(_document_entry(document, person_key, copier))
        summary.documents += 1
        progress(1)
    for mention in db.session.scalars(mentions_query):
        manifest["mentions"].append(
            {
                "document": f"document-{mention.document_id}",
                "interview": mention.interview.accession,
                "start_ms": mention.start_ms,
                "end_ms": mention.end_ms,
                "note": mention.note,
            }
        )
        summary.mentions += 1
    _write_text(dest / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    _write_text(dest / "README.txt", _readme(include_media))
    audit.record(
        ARCHIVIST, "archive.export", "archive", None, media=include_media, **_counts(summary)
    )
    return summary


def _counts(summary: ExportSummary) -> dict[str, int]:
    return {
        "interviews": summary.interviews,
        "recordings": summary.recordings,
        "documents": summary.documents,
        "mentions": summary.mentions,
    }


def _interview_entry(
    interview: Interview,
    person_key: Mapping[int, str],
    dest: Path,
    copier: _MediaCopier | None,
    summary: ExportSummary,
) -> dict[str, Any]:
    collection = interview.collection.slug if interview.collection else None
    entry: dict[str, Any] = {
        **interview_fields(interview, ("collection", collection)),
        "participants": [
            {
                "person": person_key[p.person_id],
                "role": p.role,
                **({"agreement": _agreement_entry(p, copier)} if p.agreement else {}),
            }
            for p in interview.participants
        ],
        "consent_override": interview.consent_override or "",
        "redactions": [
            {
                "start_ms": r.start_ms,
                "end_ms": r.end_ms,
                "reason": r.reason,
                "until": r.until.isoformat() if r.until else None,
            }
            for r in interview.redactions
        ],
        "recordings": [],
    }
    for recording in interview.recordings:
        where = f"recording {recording.position + 1} of {interview.accession}"
        fields = recording_fields(recording)
        entry["recordings"].append(
            {
                "file": copier.copy(recording.storage_key, recording.sha256, where)
                if copier
                else None,
                **{key: fields[key] for key in EXPORTED_RECORDING_FIELDS},
            }
        )
        summary.recordings += 1
    transcript = transcript_versions.current_transcript(interview)
    if transcript is not None:
        entry["transcript"] = _transcript_entry(interview, transcript, person_key, dest, summary)
        summary.transcripts += 1
        earlier = [t for t in reversed(transcript_versions.versions(interview)) if not t.is_current]
        if earlier:
            entry["transcript_history"] = [
                _transcript_entry(interview, t, person_key, dest, summary) for t in earlier
            ]
            summary.earlier_versions += len(earlier)
    return entry


def _transcript_entry(interview, transcript, person_key, dest: Path, summary: ExportSummary):
    """Write one version under ``transcripts/`` and describe it (an earlier version's file is
    named ``<accession>.v<N>``).

    Segments carry the speakers' *labels* (names live in ``speakers``) so that a re-import
    rebuilds the same speakers. The file is read back before it is kept: vtt (timed) or txt
    (untimed) when it reads back identically, else the lossless JSON format.
    """
    labels = {s.id: s.label for s in interview.speakers}
    segments = [
        parsing.Segment(
            s.start_ms,
            s.end_ms,
            labels.get(s.speaker_id),
            s.text,
            cue_id=s.cue_id,
            cue_settings=s.cue_settings,
            note=s.note,
            words=transcript_export.unpack_words(s.words),
        )
        for s in transcript.segments
    ]
    used = {labels[s.speaker_id] for s in transcript.segments if s.speaker_id in labels}
    metadata = transcript_export.metadata(interview, consent.NO_REDACTION)
    timed = [s.start_ms is not None for s in segments]
    preferred = "vtt" if all(timed) and segments else "txt" if not any(timed) else "json"
    which = "transcript" if transcript.is_current else f"transcript version {transcript.version}"
    fmt, content = preferred, ""
    for candidate in dict.fromkeys((preferred, "json")):
        fmt = candidate
        content = parsing.write_transcript(segments, fmt, metadata=metadata)
        if _reads_back(content, fmt, segments):
            break
    else:
        summary.warnings.append(
            f"The {which} of {interview.accession} does not read back identically; "
            f"it is exported as {fmt}."
        )
    if fmt != preferred:
        summary.warnings.append(
            f"The {which} of {interview.accession} cannot be written as {preferred} without "
            f"loss; it is exported as JSON."
        )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", interview.accession).strip("._") or "interview"
    stem = safe if transcript.is_current else f"{safe}.v{transcript.version}"
    relative, n = f"transcripts/{stem}.{fmt}", 1
    while relative in summary.transcript_files:  # "OH 1" and "OH_1" both make "OH_1"
        n += 1
        relative = f"transcripts/{stem}-{n}.{fmt}"
    summary.transcript_files.add(relative)
    _write_text(dest / relative, content)
    return {
        "file": relative,
        "format": fmt,
        **version_fields(transcript),
        "speakers": [
            {
                **speaker_fields(s),
                "person": person_key.get(s.person_id) if s.person_id else None,
            }
            for s in interview.speakers
            if s.label in used
        ],
        "index_points": [
            {
                **index_point_fields(p),
                "hyperlinks": [list(link) for link in p.hyperlinks or ()],
                **({"gps": p.gps} if p.gps else {}),
            }
            for p in transcript.index_points
        ],
    }


def _comparable(segments) -> list[tuple]:
    return [
        (
            s.start_ms,
            s.end_ms,
            speaker_label(s.speaker),
            s.text,
            s.cue_id,
            s.cue_settings,
            s.note,
            s.words,
        )
        for s in segments
    ]


def _reads_back(content: str, fmt: str, segments: list[parsing.Segment]) -> bool:
    try:
        parsed = parsing.parse_transcript(content.encode("utf-8"), f"export.{fmt}", fmt)
    except TranscriptError:
        return False
    return _comparable(parsed.segments) == _comparable(segments)


def _agreement_entry(participant, copier: _MediaCopier | None) -> dict[str, Any]:
    """A participant's release agreement with its terms, and its signed form's file."""
    agreement = consent.agreement_json(participant)
    entry = {
        key: agreement[key]
        for key in (
            "status",
            "signed_on",
            "publication",
            "closed_until",
            "closed_years_after_death",
            "anonymise",
            "conditions",
        )
    }
    a = participant.agreement
    if a.form_key:
        where = f"the signed release form of participant {participant.id}"
        entry["form"] = {
            "file": copier.copy(a.form_key, a.form_sha256, where) if copier else None,
            "file_name": a.form_filename,
            "sha256": a.form_sha256,
            "size": a.form_size,
        }
    return entry


def _document_entry(document: Document, person_key, copier: _MediaCopier | None) -> dict:
    entry: dict[str, Any] = {
        "key": f"document-{document.id}",
        **document_fields(document),
        "creators": [person_key[c.person_id] for c in document.creators],
        "full_text": document.full_text,
    }
    if document.file_key:
        where = f"the attachment of document {document.id}"
        entry.update(
            {
                "file": copier.copy(document.file_key, document.file_sha256, where)
                if copier
                else None,
                "file_name": document.file_name,
                "sha256": document.file_sha256,
                "size": document.file_size,
            }
        )
    return entry


class _MediaCopier:
    """Copies stored files to ``media/<sha256>`` once each, hashing while copying."""

    def __init__(self, dest: Path, summary: ExportSummary) -> None:
        self.folder = dest / "media"
        self.summary = summary
        self.storage = recordings.storage()
        self.done: set[str] = set()

    def copy(self, key: str, sha256: str, where: str) -> str:
        relative = f"media/{sha256}"
        if sha256 in self.done:
            return relative
        self.folder.mkdir(exist_ok=True)
        target = self.folder / sha256
        partial = target.with_name(sha256 + ".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with self.storage.open(key) as source, partial.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except OralHistError as exc:
            partial.unlink(missing_ok=True)
            raise ValidationError(
                f"The stored file of {where} cannot be read ({exc.message}); run `oralhist fixity`."
            ) from None
        if digest.hexdigest() != sha256:
            partial.unlink(missing_ok=True)
            raise ValidationError(
                f"The stored file of {where} has changed: its sha256 is {digest.hexdigest()}, "
                f"not {sha256} as recorded at ingest. Run `oralhist fixity`; nothing more "
                "was exported."
            )
        os.replace(partial, target)
        self.done.add(sha256)
        self.summary.files += 1
        self.summary.size += size
        return relative


def _write_text(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _readme(include_media: bool) -> str:
    media = (
        "media/<sha256>      the recordings and attached files, named by the sha256 of their "
        "bytes\n"
        if include_media
        else "(exported without media: recordings and attachments are listed, not included)\n"
    )
    return (
        "oralhist archive export\n=======================\n\n"
        f"{NOTICE}\n\n"
        "manifest.json       collections, people, interviews (catalogue, participants,\n"
        "                    recordings, transcript, speakers, index), documents, passage links\n"
        "transcripts/        the current transcript of each interview (WebVTT, or plain text\n"
        "                    when it has no time codes), and its earlier versions as\n"
        "                    <accession>.v<N>.vtt\n"
        f"{media}\n"
        "Import it into another oralhist with `oralhist import FOLDER` (try --dry-run first).\n"
    )
