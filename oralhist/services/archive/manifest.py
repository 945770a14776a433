"""The archive manifest: its format constants, the keys it may hold and the plan that
validating it produces (``planner``) and that ``apply`` writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import transcripts as parsing
from ...access.policy import Viewer
from ...errors import ValidationError
from ...media.storage import Storage
from ...models import Collection, Document, Interview, Person
from .. import transcripts

FORMAT = "oralhist-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Files are hashed and copied a chunk at a time.
CHUNK = 1024 * 1024
#: Both commands act as an archivist without a user account (like the sample loader).
ARCHIVIST = Viewer(user_id=None, role="archivist")
NOTICE = (
    "An archivist's export: it holds everything in the archive, including drafts and "
    "restricted, closed and embargoed material. Keep it as safely as the archive itself."
)

Progress = Callable[[int], Any]


def no_progress(_steps: int) -> None:
    return None


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
    #: per participant (same order): the agreement's terms and its signed form, or None
    agreements: list[tuple[dict[str, Any], FileRef | None, str | None] | None] = field(
        default_factory=list
    )
    #: redactions as ``{"start_ms", "end_ms", "reason", "until"}``
    redactions: list[dict[str, Any]] = field(default_factory=list)
    consent_override: str = ""
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


def as_list(value: Any) -> list:
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
PERSON_KEYS = {"key", "name", "sort_name", "dates", "biography", "date_of_death"}
INTERVIEW_KEYS = {
    "accession",
    "title",
    "collection",
    "summary",
    "date_recorded",
    "place",
    "language",
    "rights_statement",
    "usage",
    "funding",
    "subjects",
    "keywords",
    "media_url",
    "access_level",
    "embargo_until",
    "status",
    "participants",
    "recordings",
    "transcript",
    "transcript_history",
    "redactions",
    "consent_override",
}
PARTICIPANT_KEYS = {"person", "role", "agreement"}
AGREEMENT_KEYS = {
    "status",
    "signed_on",
    "publication",
    "closed_until",
    "closed_years_after_death",
    "anonymise",
    "conditions",
    "form",
}
FORM_KEYS = {"file", "file_name", "sha256", "size"}
REDACTION_KEYS = {"start_ms", "end_ms", "reason", "until"}
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


def speaker_label(speaker: str | None) -> str | None:
    """A speaker label as the transcript import stores it."""
    return speaker[: transcripts.LABEL_MAX].strip() if speaker else None
