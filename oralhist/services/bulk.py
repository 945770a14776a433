"""Bulk export and import of whole archives: ``oralhist export`` and ``oralhist import``.

**The archive folder.** ``export_archive`` writes a folder that a person can read and another
oralhist can import::

    manifest.json                 what is in the archive (format below)
    README.txt                    a short description of this layout
    transcripts/<accession>.vtt   current transcript version (.txt when untimed, .json when
                                  neither reads back identically, e.g. mixed timed/untimed)
    transcripts/<accession>.v<N>.vtt   each earlier version N, in the same way
    media/<sha256>                recordings and document attachments (with --include-media),
                                  named by the sha256 of their bytes, verified while copying

The manifest (``FORMAT``, ``FORMAT_VERSION``) holds ``collections`` (slug, title,
description), ``people`` (key, name, sort_name, dates, biography), ``interviews`` (the
catalogue fields of the API, ``collection`` by slug, ``participants`` by person key, and per
interview its ``recordings``, ``transcript`` with ``speakers`` and ``index_points``, and
``transcript_history``: the earlier versions, oldest first, each described like ``transcript``;
every version also gives its ``version`` number and ``created_at``),
``documents`` (key, catalogue fields, ``creators`` by person key, ``file``) and ``mentions``
(document key, interview accession, start_ms, end_ms, note). ``docs/manifest-example.json``
is a documented, hand-written example.

**Importing** (``plan_import`` then ``apply_import``) is in two separate steps:

1. ``plan_import`` validates *everything* and writes nothing: JSON syntax (with line and
   column), unknown keys, every field by the same rules as the forms, file paths (missing,
   outside the folder, not a file), accessions already used in this archive or twice in the
   manifest, references between items, each transcript parsed with ``parse_transcript`` and
   each recording probed with ``probe_audio`` (and hashed against its ``sha256``). Every
   problem is collected with the item and field it concerns (``ManifestProblems``).
2. ``apply_import`` writes the valid plan through the ordinary services (``catalogue``,
   ``recordings``, ``transcripts``, ``documents``, ``mentions``), flushing but never
   committing. The caller runs it in one unit of work (``transaction.unit_of_work``): on
   any failure the transaction is rolled back and the files the import stored that no row
   uses are removed again (``transaction.on_rollback``).

An import stores an interview's versions in the order of their ``version`` numbers (without
them: the history in its order, then the current one), so they are numbered 1, 2, ... again;
the one the manifest's ``transcript`` names stays current, even when a newer one exists (an
older version had been restored), and each keeps its ``created_at`` when the manifest gives
one.

A hand-written manifest may leave out almost everything: only an interview's ``title`` is
required; a recording may be ``{"file": "tape1.wav", "label": "Tape 1"}`` and a transcript
``{"file": "tape1.vtt"}`` (the format is detected). People and collections are matched to
existing rows (a person by exact name, a collection by slug, then by title) rather than
duplicated; a participant or creator may name a person directly instead of a key. Keys that
start with ``_`` are comments and ignored.

Both directions act as an archivist without an account (``ARCHIVIST``), like the sample
loader, and see everything: an export contains restricted and closed material.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .. import transcripts as parsing
from ..access import now
from ..access.policy import Viewer
from ..errors import OralHistError, TranscriptError, ValidationError
from ..extensions import db
from ..media.attachments import probe_attachment
from ..media.probe import probe_audio
from ..media.storage import Storage, display_filename
from ..models import Collection, Document, Interview, Mention, Person, Speaker
from ..models.types import ACCESS_LEVELS, DOCUMENT_TYPES, INTERVIEW_STATUSES, PARTICIPANT_ROLES
from . import audit, catalogue, documents, mentions, recordings, transcripts
from .fields import SLUG, Fields
from .serialise import (
    collection_fields,
    document_fields,
    index_point_fields,
    interview_fields,
    person_fields,
    recording_fields,
    speaker_fields,
    version_fields,
)

FORMAT = "oralhist-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Both commands act as an archivist without a user account (like the sample loader).
ARCHIVIST = Viewer(user_id=None, role="archivist")
NOTICE = (
    "An archivist's export: it holds everything in the archive, including drafts and "
    "restricted, closed and embargoed material. Keep it as safely as the archive itself."
)
_CHUNK = 1024 * 1024
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

Progress = Callable[[int], Any]


def _noop(_steps: int) -> None:
    return None


# ============================================================================================
# Export
# ============================================================================================


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


def export_steps() -> int:
    """How many steps ``export_archive`` reports (for a progress bar): one per interview
    and per document."""
    return len(db.session.scalars(select(Interview.id)).all()) + len(
        db.session.scalars(select(Document.id)).all()
    )


def export_archive(
    dest: Path, *, include_media: bool = True, progress: Progress = _noop
) -> ExportSummary:
    """Write the whole archive to ``dest`` (see the module docstring); regardless of access
    levels. Raises ``ValidationError`` if a stored file does not match its recorded sha256
    (run ``oralhist fixity``). Call ``check_destination`` first."""
    dest.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    copier = _MediaCopier(dest, summary) if include_media else None
    people = list(db.session.scalars(select(Person).order_by(Person.id)))
    person_key = {p.id: f"person-{p.id}" for p in people}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now().isoformat(timespec="seconds"),
        "notice": NOTICE,
        "media_included": include_media,
        "collections": [
            collection_fields(c)
            for c in db.session.scalars(select(Collection).order_by(Collection.slug))
        ],
        "people": [{"key": person_key[p.id], **person_fields(p)} for p in people],
        "interviews": [],
        "documents": [],
        "mentions": [],
    }
    for interview in db.session.scalars(select(Interview).order_by(Interview.accession)):
        entry = _interview_entry(interview, person_key, dest, copier, summary)
        manifest["interviews"].append(entry)
        summary.interviews += 1
        progress(1)
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        manifest["documents"].append(_document_entry(document, person_key, copier))
        summary.documents += 1
        progress(1)
    for mention in db.session.scalars(
        select(Mention).order_by(Mention.document_id, Mention.interview_id, Mention.start_ms)
    ):
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
            {"person": person_key[p.person_id], "role": p.role} for p in interview.participants
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
    transcript = transcripts.current_transcript(interview)
    if transcript is not None:
        entry["transcript"] = _transcript_entry(interview, transcript, person_key, dest, summary)
        summary.transcripts += 1
        earlier = [t for t in reversed(transcripts.versions(interview)) if not t.is_current]
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
            words=transcripts.unpack_words(s.words),
        )
        for s in transcript.segments
    ]
    used = {labels[s.speaker_id] for s in transcript.segments if s.speaker_id in labels}
    metadata = transcripts.metadata(interview)
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


def _speaker_label(speaker: str | None) -> str | None:
    """A speaker label as the transcript import stores it."""
    return speaker[: transcripts.LABEL_MAX].strip() if speaker else None


def _comparable(segments) -> list[tuple]:
    return [
        (
            s.start_ms,
            s.end_ms,
            _speaker_label(s.speaker),
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
                while chunk := source.read(_CHUNK):
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


# ============================================================================================
# Import: the plan (validation, no writes)
# ============================================================================================


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the manifest: where (item and field) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ManifestProblems(ValidationError):
    """The manifest cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found; nothing was "
            "imported.",
            problems=[str(p) for p in problems],
        )


@dataclass
class FileRef:
    """A file of the import folder, checked: its path, size and sha256. ``path`` is ``None``
    when the bytes are in this archive's media storage already (under ``sha256``)."""

    relative: str
    path: Path | None
    size: int
    sha256: str

    @contextlib.contextmanager
    def local(self, storage: Storage) -> Iterator[Path]:
        """A local file with the bytes, for the probe and for storing (inside ``with``)."""
        if self.path is not None:
            yield self.path
        else:
            with storage.local_file(self.sha256) as path:
                yield path


@dataclass
class PlannedCollection:
    values: dict[str, Any]
    existing: Collection | None = None
    row: Collection | None = None


@dataclass
class PlannedPerson:
    values: dict[str, Any]
    existing: Person | None = None
    row: Person | None = None


@dataclass
class PlannedRecording:
    file: FileRef
    filename: str
    label: str
    duration_ms: int
    existing_file: bool = False  # no file in the folder: the bytes are in this archive already


@dataclass
class PlannedTranscript:
    data: bytes
    filename: str
    format: str | None
    language: str | None
    segment_count: int
    speakers: list[tuple[str, dict[str, Any], PlannedPerson | None]]
    index_points: list[parsing.IndexPoint] | None
    created_at: dt.datetime | None = None
    version: int | None = None


@dataclass
class PlannedInterview:
    where: str
    values: dict[str, Any]
    collection: PlannedCollection | None
    participants: list[tuple[PlannedPerson, str]]
    recordings: list[PlannedRecording]
    transcript: PlannedTranscript | None
    publish: bool
    row: Interview | None = None
    #: the other transcript versions (see ``versions``)
    history: list[PlannedTranscript] = field(default_factory=list)

    def versions(self) -> list[PlannedTranscript]:
        """Every transcript version in the order to store them (see the module docstring)."""
        if self.transcript is None:
            return []
        found = [*self.history, self.transcript]
        if all(v.version is not None for v in found):
            found.sort(key=lambda v: v.version or 0)
        return found

    @property
    def duration_ms(self) -> int:
        return sum(r.duration_ms for r in self.recordings)


@dataclass
class PlannedDocument:
    values: dict[str, Any]
    creators: list[PlannedPerson]
    file: FileRef | None
    file_name: str | None
    row: Document | None = None


@dataclass
class PlannedMention:
    document: PlannedDocument
    interview: PlannedInterview
    start_ms: int
    end_ms: int
    note: str


@dataclass
class ImportPlan:
    """A validated manifest, ready for ``apply_import``; nothing is written yet."""

    root: Path
    collections: list[PlannedCollection] = field(default_factory=list)
    people: list[PlannedPerson] = field(default_factory=list)
    interviews: list[PlannedInterview] = field(default_factory=list)
    documents: list[PlannedDocument] = field(default_factory=list)
    mentions: list[PlannedMention] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: sha256 keys of files this import would add to media storage (removed on failure).
    new_keys: set[str] = field(default_factory=set)

    @property
    def steps(self) -> int:
        return len(self.interviews) + len(self.documents) + 1

    def describe(self) -> list[str]:
        """What the import creates, one line each (for --dry-run and the final report)."""

        def split(items) -> tuple[int, int]:
            matched = sum(1 for i in items if i.existing is not None)
            return len(items) - matched, matched

        new_c, old_c = split(self.collections)
        new_p, old_p = split(self.people)
        recs = [r for i in self.interviews for r in i.recordings]
        published = sum(1 for i in self.interviews if i.publish)
        return [
            f"{len(self.interviews)} interviews ({published} published, "
            f"{len(self.interviews) - published} drafts)",
            f"{len(recs)} recordings ({sum(r.file.size for r in recs):,} bytes, "
            f"{len(self.new_keys)} new files in media storage)",
            f"{sum(1 for i in self.interviews if i.transcript)} transcripts "
            f"({sum(i.transcript.segment_count for i in self.interviews if i.transcript)} "
            f"segments; {sum(len(i.history) for i in self.interviews)} earlier versions)",
            f"{new_c} new collections ({old_c} matched to existing ones)",
            f"{new_p} new people ({old_p} matched to existing people by name)",
            f"{len(self.documents)} documents, {len(self.mentions)} passage links",
        ]


def read_manifest(root: Path) -> dict[str, Any]:
    """The decoded ``root/manifest.json``; ``ManifestProblems`` with line and column for
    a JSON error."""
    path = root / MANIFEST
    if not root.is_dir():
        raise ManifestProblems([Problem(str(root), "is not a folder")])
    if not path.is_file():
        raise ManifestProblems([Problem(str(root), f"has no {MANIFEST}")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestProblems([Problem(MANIFEST, f"line {line}: not UTF-8 text")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestProblems(
            [Problem(MANIFEST, f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}")]
        ) from None
    if not isinstance(data, dict):
        raise ManifestProblems([Problem(MANIFEST, "must be a JSON object { ... }")])
    return data


def plan_import(root: Path, *, publish: bool = False, progress: Progress = _noop) -> ImportPlan:
    """Validate the folder's manifest and every file it names; write nothing.

    Returns the plan, or raises ``ManifestProblems`` listing every problem. ``publish``
    publishes every imported interview (otherwise a manifest's ``status`` is kept; absent,
    an interview is a draft). ``progress`` advances once per file checked.
    """
    manifest = read_manifest(root)
    return _Planner(root, publish, progress).run(manifest)


def count_files(root: Path) -> int:
    """How many files a manifest names (for a progress bar); 0 when it cannot be read."""
    try:
        manifest = read_manifest(root)
    except ManifestProblems:
        return 0
    total = 0
    for item in _list(manifest.get("interviews")):
        if isinstance(item, dict):
            total += len(_list(item.get("recordings"))) + (1 if item.get("transcript") else 0)
            total += len(_list(item.get("transcript_history")))
    total += sum(
        1 for d in _list(manifest.get("documents")) if isinstance(d, dict) and d.get("file")
    )
    return total


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


TOP_KEYS = {
    "format",
    "format_version",
    "exported_at",
    "notice",
    "media_included",
    "collections",
    "people",
    "interviews",
    "documents",
    "mentions",
}
COLLECTION_KEYS = {"slug", "title", "description"}
PERSON_KEYS = {"key", "name", "sort_name", "dates", "biography"}
INTERVIEW_KEYS = {
    "accession",
    "title",
    "collection",
    "summary",
    "date_recorded",
    "place",
    "language",
    "rights_statement",
    "access_level",
    "embargo_until",
    "status",
    "participants",
    "recordings",
    "transcript",
    "transcript_history",
}
PARTICIPANT_KEYS = {"person", "role"}
RECORDING_KEYS = {
    "file",
    "original_filename",
    "label",
    "position",
    "sha256",
    "size",
    "format",
    "duration_ms",
}
TRANSCRIPT_KEYS = {
    "file",
    "format",
    "version",
    "created_at",
    "language",
    "source_filename",
    "speakers",
    "index_points",
}
SPEAKER_KEYS = {"label", "display_name", "person"}
INDEX_POINT_KEYS = {
    "start_ms",
    "gps",
    "title",
    "partial_transcript",
    "synopsis",
    "keywords",
    "subjects",
    "hyperlinks",
}
DOCUMENT_KEYS = {
    "key",
    "title",
    "doc_type",
    "date",
    "publisher",
    "description",
    "citation",
    "external_url",
    "access_level",
    "creators",
    "full_text",
    "file",
    "file_name",
    "sha256",
    "size",
}
MENTION_KEYS = {"document", "interview", "start_ms", "end_ms", "note"}


class _Planner:
    """Walks the manifest once, collecting problems; builds the plan from what is valid."""

    def __init__(self, root: Path, publish: bool, progress: Progress) -> None:
        self.root = root.resolve()
        self.publish = publish
        self.progress = progress
        self.problems: list[Problem] = []
        self.plan = ImportPlan(root=self.root)
        self.collection_refs: dict[str, PlannedCollection] = {}
        self.person_refs: dict[str, PlannedPerson] = {}
        self.person_by_name: dict[str, PlannedPerson] = {}
        self.interview_refs: dict[str, PlannedInterview] = {}
        self.document_refs: dict[str, PlannedDocument] = {}
        self.storage = recordings.storage()

    # -- helpers ------------------------------------------------------------------------

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def obj(self, where: str, data: Any, allowed: set[str]) -> bool:
        """Is ``data`` an object with only known keys (``_comments`` aside)? Reports if not."""
        if not isinstance(data, dict):
            self.problem(where, "must be a JSON object { ... }")
            return False
        for key in data:
            if key not in allowed and not str(key).startswith("_"):
                self.problem(where, f"unknown key {key!r} (known: {', '.join(sorted(allowed))})")
        return True

    def items(self, where: str, data: Any) -> list:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problem(where, "must be a list [ ... ]")
            return []
        return data

    def fields(self, where: str, fields: Fields) -> dict[str, Any] | None:
        for name, message in fields.errors.items():
            self.problem(f"{where}.{name}", message)
        return None if fields.errors else dict(fields.values)

    def text(self, where: str, data: dict, name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(f"{where}.{name}", "is required" if value is None else "must be text")
            return None
        return value.strip()

    def file(self, where: str, relative: Any, expected_sha256: Any = None) -> FileRef | None:
        """Check a file path of the manifest: inside the folder, a regular file; hash it."""
        if not isinstance(relative, str) or not relative.strip():
            self.problem(where, "must be a file path relative to the import folder")
            return None
        if Path(relative).is_absolute() or re.match(r"^[A-Za-z]:[\\/]", relative):
            self.problem(where, f"{relative} is an absolute path; give a path inside the folder")
            return None
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            self.problem(where, f"{relative} is outside the import folder; refused")
            return None
        if not path.exists():
            self.problem(where, f"{relative} does not exist")
            return None
        if not path.is_file():
            self.problem(where, f"{relative} is not a file")
            return None
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        sha256 = digest.hexdigest()
        if expected_sha256 not in (None, "") and expected_sha256 != sha256:
            self.problem(
                where,
                f"{relative} has sha256 {sha256}, not {expected_sha256} as the manifest says "
                "(damaged or changed file)",
            )
            return None
        return FileRef(relative, path, path.stat().st_size, sha256)

    # -- the walk -----------------------------------------------------------------------

    def run(self, manifest: dict[str, Any]) -> ImportPlan:
        self.obj("manifest", manifest, TOP_KEYS)
        if manifest.get("format") not in (None, FORMAT):
            self.problem("manifest.format", f"must be {FORMAT!r}")
        version = manifest.get("format_version")
        if version is not None and (not isinstance(version, int) or version > FORMAT_VERSION):
            self.problem(
                "manifest.format_version",
                f"{version!r} is not supported (this oralhist reads version {FORMAT_VERSION})",
            )
        for n, item in enumerate(self.items("collections", manifest.get("collections"))):
            self.collection(f"collections[{n}]", item)
        for n, item in enumerate(self.items("people", manifest.get("people"))):
            self.person(f"people[{n}]", item)
        for n, item in enumerate(self.items("interviews", manifest.get("interviews"))):
            self.interview(n, item)
        for n, item in enumerate(self.items("documents", manifest.get("documents"))):
            self.document(f"documents[{n}]", item)
        for n, item in enumerate(self.items("mentions", manifest.get("mentions"))):
            self.mention(f"mentions[{n}]", item)
        if not self.plan.interviews and not self.plan.documents and not self.problems:
            self.problem("manifest", "lists no interviews and no documents: nothing to import")
        if self.problems:
            raise ManifestProblems(self.problems)
        return self.plan

    def collection(self, where: str, data: Any) -> None:
        if not self.obj(where, data, COLLECTION_KEYS):
            return
        fields = Fields(data)
        fields.string("title", required=True)
        fields.string("slug", max_length=80)
        fields.string("description", max_length=20000)
        values = self.fields(where, fields)
        if values is None:
            return
        if values.get("slug") and not SLUG.match(values["slug"]):
            self.problem(f"{where}.slug", "lower-case letters, digits and hyphens only")
            return
        existing = None
        if values.get("slug"):
            existing = db.session.scalar(
                select(Collection).where(Collection.slug == values["slug"])
            )
        else:
            existing = db.session.scalar(
                select(Collection)
                .where(Collection.title == values["title"])
                .order_by(Collection.id)
            ) or db.session.scalar(
                select(Collection).where(Collection.slug == catalogue.slugify(values["title"]))
            )
        planned = PlannedCollection(values, existing)
        slug = values.get("slug") or (
            existing.slug if existing else catalogue.slugify(values["title"])
        )
        if slug in self.collection_refs:
            self.problem(f"{where}.slug", f"{slug!r} is listed twice in the manifest")
            return
        self.collection_refs[slug] = planned
        self.collection_refs.setdefault(values["title"], planned)
        self.plan.collections.append(planned)

    def person(self, where: str, data: Any) -> None:
        if not self.obj(where, data, PERSON_KEYS):
            return
        fields = Fields(data)
        fields.string("name", required=True)
        fields.string("key", max_length=200)
        fields.string("sort_name")
        fields.string("dates", max_length=80)
        fields.string("biography", max_length=50000)
        values = self.fields(where, fields)
        if values is None:
            return
        key = values.pop("key", "") or values["name"]
        if key in self.person_refs:
            self.problem(f"{where}.key", f"{key!r} is used by two people in the manifest")
            return
        name = " ".join(values["name"].split())
        if name in self.person_by_name:
            self.plan.warnings.append(
                f"{where}: {name!r} is listed twice; both entries become one person"
            )
        self.person_refs[key] = self._person_by_name(name, values)

    def _person_by_name(self, name: str, values: dict[str, Any] | None = None) -> PlannedPerson:
        """The planned person for ``name``: one per name, matched to an existing person."""
        name = " ".join(name.split())
        if name in self.person_by_name:
            return self.person_by_name[name]
        existing = db.session.scalar(
            select(Person).where(Person.name == name).order_by(Person.id).limit(1)
        )
        planned = PlannedPerson(values or {"name": name}, existing)
        self.person_by_name[name] = planned
        self.plan.people.append(planned)
        return planned

    def person_ref(self, where: str, ref: Any) -> PlannedPerson | None:
        """A person key of the manifest, or a name (an existing person, else a new one)."""
        if not isinstance(ref, str) or not ref.strip():
            self.problem(where, "must be a person's key or name")
            return None
        ref = ref.strip()
        if ref in self.person_refs:
            return self.person_refs[ref]
        if len(ref) > 255:
            self.problem(where, "is too long for a name (at most 255 characters)")
            return None
        return self._person_by_name(ref)

    def collection_ref(self, where: str, ref: Any) -> PlannedCollection | None:
        if not isinstance(ref, str) or not ref.strip():
            self.problem(where, "must be a collection's slug or title")
            return None
        ref = ref.strip()
        if ref in self.collection_refs:
            return self.collection_refs[ref]
        existing = db.session.scalar(
            select(Collection).where(Collection.slug == ref)
        ) or db.session.scalar(
            select(Collection).where(Collection.title == ref).order_by(Collection.id)
        )
        if existing is None:
            self.problem(
                where,
                f"there is no collection {ref!r} in the manifest's collections or in this archive",
            )
            return None
        planned = PlannedCollection({"title": existing.title, "slug": existing.slug}, existing)
        self.collection_refs[ref] = planned
        self.plan.collections.append(planned)
        return planned

    def interview(self, n: int, data: Any) -> None:
        where = f"interviews[{n}]"
        if isinstance(data, dict) and isinstance(data.get("accession"), str):
            where = f"interviews[{n}] ({data['accession']})"
        if not self.obj(where, data, INTERVIEW_KEYS):
            return
        fields = Fields(data)
        for name, length in catalogue.INTERVIEW_TEXT_FIELDS.items():
            fields.string(name, required=name == "title", max_length=length)
        fields.partial_date("date_recorded")
        fields.choice("access_level", ACCESS_LEVELS, default="open")
        fields.date("embargo_until")
        fields.choice("status", INTERVIEW_STATUSES, default="draft")
        values = self.fields(where, fields)
        raw_accession = data.get("accession")
        accession = raw_accession.strip() if isinstance(raw_accession, str) else ""
        if accession:
            if accession in self.interview_refs:
                self.problem(f"{where}.accession", f"{accession} is listed twice in the manifest")
            clash = db.session.scalar(select(Interview).where(Interview.accession == accession))
            if clash is not None:
                self.problem(
                    f"{where}.accession",
                    f"{accession} is already used in this archive by “{clash.title}”",
                )
        collection = None
        if data.get("collection") not in (None, ""):
            collection = self.collection_ref(f"{where}.collection", data["collection"])
        participants: list[tuple[PlannedPerson, str]] = []
        for m, item in enumerate(self.items(f"{where}.participants", data.get("participants"))):
            at = f"{where}.participants[{m}]"
            if not self.obj(at, item, PARTICIPANT_KEYS):
                continue
            role = item.get("role") or "interviewee"
            if role not in PARTICIPANT_ROLES:
                self.problem(f"{at}.role", f"must be one of: {', '.join(PARTICIPANT_ROLES)}")
            person = self.person_ref(f"{at}.person", item.get("person"))
            if person is not None and role in PARTICIPANT_ROLES:
                participants.append((person, role))
        parts = self.recordings(where, data.get("recordings"))
        planned = PlannedInterview(
            where=where,
            values=values or {},
            collection=collection,
            participants=participants,
            recordings=parts,
            transcript=None,
            publish=self.publish or (values or {}).get("status") == "published",
        )
        if data.get("transcript") is not None:
            planned.transcript = self.transcript(f"{where}.transcript", data["transcript"], planned)
        history = self.items(f"{where}.transcript_history", data.get("transcript_history"))
        if history and data.get("transcript") is None:
            self.problem(
                f"{where}.transcript_history", "earlier versions need a current transcript"
            )
        for m, item in enumerate(history):
            version = self.transcript(f"{where}.transcript_history[{m}]", item, planned)
            if version is not None:
                planned.history.append(version)
        numbers = Counter(v.version for v in planned.versions() if v.version is not None)
        for number in sorted(n for n, times in numbers.items() if times > 1):
            self.problem(f"{where}.transcript_history", f"version {number} is given twice")
        if accession:
            self.interview_refs.setdefault(accession, planned)
        self.plan.interviews.append(planned)

    def recordings(self, where: str, raw: Any) -> list[PlannedRecording]:
        found: list[tuple[int, int, PlannedRecording]] = []
        for m, item in enumerate(self.items(f"{where}.recordings", raw)):
            at = f"{where}.recordings[{m}]"
            if not self.obj(at, item, RECORDING_KEYS):
                continue
            fields = Fields(item)
            fields.string("label", max_length=255)
            fields.string("original_filename", max_length=255)
            fields.integer("position", minimum=0)
            values = self.fields(at, fields)
            part = self.recording_file(at, item)
            self.progress(1)
            if part is None or values is None:
                continue
            part.label = values.get("label") or ""
            if values.get("original_filename"):
                part.filename = display_filename(values["original_filename"])
            if not self.probe(at, part, item):
                continue
            position = values.get("position")
            found.append((position if position is not None else m, m, part))
        return [part for _, _, part in sorted(found, key=lambda x: (x[0], x[1]))]

    def stored(self, sha256: Any) -> FileRef | None:
        """The bytes of ``sha256`` if this archive's media storage holds them already (an
        export made without media, imported where its files are)."""
        if not isinstance(sha256, str) or not self.storage.exists(sha256):
            return None
        return FileRef(f"(stored {sha256[:12]}…)", None, self.storage.size(sha256), sha256)

    def recording_file(self, at: str, item: dict) -> PlannedRecording | None:
        sha256 = item.get("sha256")
        if item.get("file") in (None, ""):
            ref = self.stored(sha256)
            if ref is not None:
                name = display_filename(str(item.get("original_filename") or "recording"))
                return PlannedRecording(ref, name, "", 0, existing_file=True)
            self.problem(
                f"{at}.file",
                "is required (this export was made without media, and this archive does not "
                "hold the recording's bytes)"
                if sha256
                else "is required",
            )
            return None
        ref = self.file(f"{at}.file", item["file"], sha256)
        if ref is None:
            return None
        return PlannedRecording(ref, display_filename(Path(ref.relative).name), "", 0)

    def probe(self, at: str, part: PlannedRecording, item: dict) -> bool:
        try:
            with part.file.local(self.storage) as path:
                info = probe_audio(path, part.filename)
        except OralHistError as exc:
            self.problem(f"{at}.file", exc.message)
            return False
        part.duration_ms = info.duration_ms
        if not self.storage.exists(part.file.sha256):
            self.plan.new_keys.add(part.file.sha256)
        given = item.get("duration_ms")
        if isinstance(given, int) and abs(given - info.duration_ms) > 1000:
            self.plan.warnings.append(
                f"{at}: the manifest says {given} ms but the file lasts {info.duration_ms} ms"
            )
        return True

    def transcript(
        self, where: str, data: Any, interview: PlannedInterview
    ) -> PlannedTranscript | None:
        if not self.obj(where, data, TRANSCRIPT_KEYS):
            return None
        fmt = data.get("format")
        if fmt is not None and fmt not in parsing.FORMATS:
            self.problem(f"{where}.format", f"must be one of: {', '.join(parsing.FORMATS)}")
            fmt = None
        language = self.text(where, data, "language")
        source = self.text(where, data, "source_filename")
        version = data.get("version")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 1
        ):
            self.problem(f"{where}.version", "must be a whole number, 1 or more")
            version = None
        created_at = self.timestamp(f"{where}.created_at", data.get("created_at"))
        ref = self.file(f"{where}.file", data.get("file"))
        self.progress(1)
        points = self.index_points(f"{where}.index_points", data.get("index_points"))
        if ref is None:
            return None
        limit = transcripts.max_bytes()
        if ref.size > limit:
            self.problem(f"{where}.file", f"{ref.relative} is larger than {limit:,} bytes")
            return None
        content = ref.path.read_bytes()
        try:
            parsed = parsing.parse_transcript(
                content,
                ref.relative,
                fmt,
                duration_ms=interview.duration_ms or None,
                max_bytes=limit,
            )
        except TranscriptError as exc:
            self.problem(f"{where}.file", exc.message)
            return None
        labels = {_speaker_label(s.speaker) for s in parsed.segments if s.speaker}
        speakers = []
        for m, item in enumerate(self.items(f"{where}.speakers", data.get("speakers"))):
            at = f"{where}.speakers[{m}]"
            if not self.obj(at, item, SPEAKER_KEYS):
                continue
            label = self.text(at, item, "label", required=True)
            if label is not None and label not in labels:
                self.problem(f"{at}.label", f"{label!r} does not occur in {ref.relative}")
                continue
            changes: dict[str, Any] = {}
            display = item.get("display_name")
            if display is not None:
                if not isinstance(display, str) or len(display) > 255:
                    self.problem(f"{at}.display_name", "must be text of at most 255 characters")
                elif display.strip():
                    changes["display_name"] = display
            person = None
            if item.get("person") not in (None, ""):
                person = self.person_ref(f"{at}.person", item["person"])
            if label is not None:
                speakers.append((label, changes, person))
        return PlannedTranscript(
            data=content,
            filename=display_filename(source or Path(ref.relative).name),
            format=fmt,
            language=language,
            segment_count=len(parsed.segments),
            speakers=speakers,
            index_points=points,
            created_at=created_at,
            version=version,
        )

    def timestamp(self, where: str, raw: Any) -> dt.datetime | None:
        """An ISO 8601 date and time (UTC when it names no offset), or None."""
        if raw is None:
            return None
        try:
            value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            value = None
        if value is None:
            self.problem(where, "must be an ISO 8601 date and time, e.g. 2026-11-26T09:30:00")
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def index_points(self, where: str, raw: Any) -> list[parsing.IndexPoint] | None:
        if raw is None:
            return None
        points = []
        for m, item in enumerate(self.items(where, raw)):
            at = f"{where}[{m}]"
            if not self.obj(at, item, INDEX_POINT_KEYS):
                continue
            start = item.get("start_ms")
            if isinstance(start, bool) or not isinstance(start, int) or start < 0:
                self.problem(f"{at}.start_ms", "must be a whole number of milliseconds, 0 or more")
                continue
            try:
                points.extend(transcripts.index_points_from_json([item]))
            except ValidationError:
                self.problem(
                    at,
                    "keywords/subjects must be lists of text and hyperlinks a list "
                    "of [url, text] pairs",
                )
        return points

    def document(self, where: str, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            where = f"{where} ({data['key']})"
        if not self.obj(where, data, DOCUMENT_KEYS):
            return
        fields = Fields(data)
        fields.string("title", required=True, max_length=500)
        fields.string("key", max_length=200)
        fields.choice("doc_type", DOCUMENT_TYPES, default="other")
        fields.partial_date("date")
        for name, length in documents.TEXT_FIELDS.items():
            fields.string(name, max_length=length)
        fields.string("external_url", max_length=2000)
        fields.choice("access_level", ACCESS_LEVELS, default="open")
        fields.string("full_text", max_length=documents.MAX_FULL_TEXT)
        fields.string("file_name", max_length=255)
        values = self.fields(where, fields)
        if values and values.get("external_url"):
            try:
                documents.check_external_url(values["external_url"])
            except ValueError as exc:
                self.problem(f"{where}.external_url", str(exc))
        creators = []
        for m, ref in enumerate(self.items(f"{where}.creators", data.get("creators"))):
            person = self.person_ref(f"{where}.creators[{m}]", ref)
            if person is not None and person not in creators:
                creators.append(person)
        file_ref, file_name = None, None
        if data.get("file") not in (None, ""):
            file_ref = self.file(f"{where}.file", data["file"], data.get("sha256"))
            self.progress(1)
            if file_ref is not None:
                file_name = display_filename(
                    (values or {}).get("file_name") or Path(file_ref.relative).name
                )
                try:
                    probe_attachment(file_ref.path, file_name)
                except OralHistError as exc:
                    self.problem(f"{where}.file", exc.message)
                    file_ref = None
                else:
                    if not self.storage.exists(file_ref.sha256):
                        self.plan.new_keys.add(file_ref.sha256)
        elif self.stored(data.get("sha256")) is not None:
            file_ref = self.stored(data.get("sha256"))
            file_name = display_filename(str(data.get("file_name") or "attachment"))
        elif data.get("sha256"):
            self.plan.warnings.append(
                f"{where}: the attached file was not exported (no media); the document is "
                "imported without it"
            )
        if values is None:
            return
        key = values.pop("key", "") or values["title"]
        values.pop("file_name", None)
        if key in self.document_refs:
            self.problem(f"{where}.key", f"{key!r} is used by two documents in the manifest")
            return
        planned = PlannedDocument(values, creators, file_ref, file_name)
        self.document_refs[key] = planned
        self.plan.documents.append(planned)

    def mention(self, where: str, data: Any) -> None:
        if not self.obj(where, data, MENTION_KEYS):
            return
        doc_ref, interview_ref = data.get("document"), data.get("interview")
        document = self.document_refs.get(doc_ref) if isinstance(doc_ref, str) else None
        if document is None:
            self.problem(
                f"{where}.document", f"{doc_ref!r} is not a document key (or title) of the manifest"
            )
        interview = (
            self.interview_refs.get(interview_ref) if isinstance(interview_ref, str) else None
        )
        if interview is None:
            self.problem(
                f"{where}.interview",
                f"{interview_ref!r} is not the accession of an interview in the manifest",
            )
        times = []
        for name in ("start_ms", "end_ms"):
            try:
                times.append(mentions.parse_time(data.get(name), name))
            except ValidationError as exc:
                self.problem(f"{where}.{name}", exc.message)
        note = data.get("note") or ""
        if not isinstance(note, str) or len(note) > mentions.MAX_NOTE:
            self.problem(f"{where}.note", f"must be text of at most {mentions.MAX_NOTE} characters")
            return
        if document is None or interview is None or len(times) != 2:
            return
        start, end = times
        duration = interview.duration_ms
        if end < start:
            self.problem(f"{where}.end_ms", "is before start_ms")
        elif duration and end > duration:
            self.problem(
                f"{where}.end_ms", f"{end} is after the end of the recordings ({duration})"
            )
        level = {name: rank for rank, name in enumerate(ACCESS_LEVELS)}
        doc_level = document.values["access_level"]
        int_level = interview.values.get("access_level", "open")
        if level[doc_level] > level[int_level]:
            self.problem(
                f"{where}.document",
                f"the document is {doc_level} but the interview is {int_level}: a link must "
                "not expose a document to people who cannot see it",
            )
        key = (id(document), id(interview), start, end)
        if any(
            (id(m.document), id(m.interview), m.start_ms, m.end_ms) == key
            for m in self.plan.mentions
        ):
            self.problem(where, "the same passage link is listed twice")
            return
        self.plan.mentions.append(PlannedMention(document, interview, start, end, note))


# ============================================================================================
# Import: writing the plan
# ============================================================================================


@dataclass
class ImportSummary:
    interviews: list[str] = field(default_factory=list)
    documents: int = 0
    mentions: int = 0

    def __str__(self) -> str:
        return (
            f"Imported {len(self.interviews)} interviews, {self.documents} documents and "
            f"{self.mentions} passage links."
        )


def apply_import(plan: ImportPlan, progress: Progress = _noop) -> ImportSummary:
    """Create everything in ``plan`` through the services; flush, never commit. Run it in
    one unit of work: if it does not commit, the files it stored that no committed row uses
    are removed."""
    from .. import transaction

    transaction.on_rollback(partial(recordings.remove_unused_files, plan.new_keys))
    summary = ImportSummary()
    for collection in plan.collections:
        collection.row = collection.existing or catalogue.save_collection(
            ARCHIVIST, collection.values
        )
    for person in plan.people:
        person.row = person.existing or catalogue.save_person(ARCHIVIST, person.values)
    for planned in plan.interviews:
        _write_interview(planned)
        summary.interviews.append(planned.row.accession)
        progress(1)
    for document in plan.documents:
        _write_document(document)
        summary.documents += 1
        progress(1)
    for link in plan.mentions:
        mentions.add_mention(
            ARCHIVIST, link.document.row, link.interview.row, link.start_ms, link.end_ms, link.note
        )
        summary.mentions += 1
    for planned in plan.interviews:
        if planned.publish:
            catalogue.publish(ARCHIVIST, planned.row)
    audit.record(
        ARCHIVIST,
        "archive.import",
        "archive",
        None,
        folder=str(plan.root),
        interviews=len(summary.interviews),
        documents=summary.documents,
    )
    progress(1)
    return summary


def _write_interview(planned: PlannedInterview) -> None:
    data = {k: v for k, v in planned.values.items() if k != "status"}
    if planned.collection is not None:
        data["collection_id"] = planned.collection.row.id
    data["participants"] = [
        {"person_id": person.row.id, "role": role} for person, role in planned.participants
    ]
    interview = catalogue.save_interview(ARCHIVIST, data)
    planned.row = interview
    for part in planned.recordings:
        with part.file.local(recordings.storage()) as path, path.open("rb") as stream:
            recordings.add_recording(
                ARCHIVIST,
                interview,
                stream,
                part.filename,
                label=part.label,
                max_bytes=part.file.size,
            )
    db.session.expire(interview, ["recordings"])
    versions, current_version = planned.versions(), None
    for script in versions:
        stored = transcripts.import_transcript(
            ARCHIVIST,
            interview,
            script.data,
            script.filename,
            script.format,
            index_points=script.index_points,
            language=script.language,
            large=True,  # the operator's import: the archivist's limit
        ).transcript
        if script.created_at is not None:
            stored.created_at = script.created_at
        if script is planned.transcript:
            current_version = stored.version
        for label, changes, person in script.speakers:
            speaker = db.session.scalar(
                select(Speaker).where(Speaker.interview_id == interview.id, Speaker.label == label)
            )
            if person is not None:
                changes = {**changes, "person_id": person.row.id}
            if speaker is not None and changes:
                transcripts.update_speaker(ARCHIVIST, speaker, changes)
    if current_version is not None and current_version != len(versions):
        transcripts.restore_version(ARCHIVIST, interview, current_version)


def _write_document(planned: PlannedDocument) -> None:
    data = dict(planned.values)
    data["creators"] = [person.row.id for person in planned.creators]
    if planned.file is None:
        planned.row = documents.save_document(ARCHIVIST, data)
        return
    with planned.file.local(recordings.storage()) as path, path.open("rb") as stream:
        upload = documents.Upload(stream, planned.file_name or "attachment")
        planned.row = documents.save_document(ARCHIVIST, data, upload=upload)
