"""Import, step 1: validate a manifest and everything it names, writing nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ... import transcripts as parsing
from ...errors import OralHistError, TranscriptError, ValidationError
from ...extensions import db
from ...media.attachments import probe_attachment
from ...media.probe import probe_audio
from ...media.storage import display_filename
from ...models import Collection, Interview, Person
from ...models.consent import AGREEMENT_STATUSES, PUBLICATION_SCOPES
from ...models.types import ACCESS_LEVELS, DOCUMENT_TYPES, INTERVIEW_STATUSES, PARTICIPANT_ROLES
from .. import catalogue, documents, mentions, recordings, transcripts
from ..fields import SLUG, Fields
from .manifest import (
    AGREEMENT_KEYS,
    CHUNK,
    COLLECTION_KEYS,
    DOCUMENT_KEYS,
    FORM_KEYS,
    FORMAT,
    FORMAT_VERSION,
    INDEX_POINT_KEYS,
    INTERVIEW_KEYS,
    MENTION_KEYS,
    PARTICIPANT_KEYS,
    PERSON_KEYS,
    RECORDING_KEYS,
    REDACTION_KEYS,
    SPEAKER_KEYS,
    TOP_KEYS,
    TRANSCRIPT_KEYS,
    FileRef,
    ImportPlan,
    ManifestProblems,
    PlannedCollection,
    PlannedDocument,
    PlannedInterview,
    PlannedMention,
    PlannedPerson,
    PlannedRecording,
    PlannedTranscript,
    Problem,
    Progress,
    as_list,
    no_progress,
    read_manifest,
    speaker_label,
)


def plan_import(
    root: Path, *, publish: bool = False, progress: Progress = no_progress
) -> ImportPlan:
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
    for item in as_list(manifest.get("interviews")):
        if isinstance(item, dict):
            total += len(as_list(item.get("recordings"))) + (1 if item.get("transcript") else 0)
            total += len(as_list(item.get("transcript_history")))
    total += sum(
        1 for d in as_list(manifest.get("documents")) if isinstance(d, dict) and d.get("file")
    )
    return total


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
            while chunk := fh.read(CHUNK):
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
        fields.date("date_of_death")
        values = self.fields(where, fields)
        if values is None:
            return
        if values.get("date_of_death") is None:
            values.pop("date_of_death", None)
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

    def agreement(self, where: str, data: Any):
        """A participant's release agreement: its terms, checked as the service checks
        them, and its signed form (a file in the folder, or one already stored)."""
        if not self.obj(where, data, AGREEMENT_KEYS):
            return None
        fields = Fields(data)
        fields.choice("status", AGREEMENT_STATUSES, default="none")
        fields.date("signed_on")
        fields.choice("publication", PUBLICATION_SCOPES, default="full")
        fields.date("closed_until")
        fields.integer("closed_years_after_death", minimum=0, maximum=200)
        fields.string("conditions", max_length=20000)
        anonymise = data.get("anonymise", False)
        if not isinstance(anonymise, bool):
            self.problem(f"{where}.anonymise", "must be true or false")
        values = self.fields(where, fields)
        if values is None:
            return None
        values["anonymise"] = anonymise is True
        if values["status"] == "signed" and values.get("signed_on") is None:
            self.problem(f"{where}.signed_on", "is required when the status is signed")
        form, form_name = None, None
        raw = data.get("form")
        if raw is not None and self.obj(f"{where}.form", raw, FORM_KEYS):
            if raw.get("file") not in (None, ""):
                form = self.file(f"{where}.form.file", raw["file"], raw.get("sha256"))
                if form is not None:
                    form_name = display_filename(
                        str(raw.get("file_name") or Path(form.relative).name)
                    )
                    try:
                        probe_attachment(form.path, form_name)
                    except OralHistError as exc:
                        self.problem(f"{where}.form.file", exc.message)
                        form = None
                    else:
                        if not self.storage.exists(form.sha256):
                            self.plan.new_keys.add(form.sha256)
            elif self.stored(raw.get("sha256")) is not None:
                form = self.stored(raw.get("sha256"))
                form_name = display_filename(str(raw.get("file_name") or "agreement"))
            elif raw.get("sha256"):
                self.plan.warnings.append(
                    f"{where}.form: the signed form is not in the folder nor in this archive; "
                    "the agreement is imported without it"
                )
        return values, form, form_name

    def redactions(self, where: str, items: Any) -> list[dict[str, Any]]:
        found = []
        for m, item in enumerate(self.items(f"{where}.redactions", items)):
            at = f"{where}.redactions[{m}]"
            if not self.obj(at, item, REDACTION_KEYS):
                continue
            fields = Fields(item)
            fields.integer("start_ms", required=True, minimum=0, maximum=2**31 - 1)
            fields.integer("end_ms", required=True, minimum=1, maximum=2**31 - 1)
            fields.string("reason", required=True, max_length=2000)
            fields.date("until")
            values = self.fields(at, fields)
            if values is None:
                continue
            if values["end_ms"] <= values["start_ms"]:
                self.problem(f"{at}.end_ms", "must be after start_ms")
                continue
            found.append(values)
        return found

    def interview(self, n: int, data: Any) -> None:
        where = f"interviews[{n}]"
        if isinstance(data, dict) and isinstance(data.get("accession"), str):
            where = f"interviews[{n}] ({data['accession']})"
        if not self.obj(where, data, INTERVIEW_KEYS):
            return
        fields = Fields(data)
        for name, length in catalogue.INTERVIEW_TEXT_FIELDS.items():
            fields.string(name, required=name == "title", max_length=length)
        fields.terms("subjects")
        fields.terms("keywords")
        fields.web_address("media_url")
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
        agreements: list = []
        for m, item in enumerate(self.items(f"{where}.participants", data.get("participants"))):
            at = f"{where}.participants[{m}]"
            if not self.obj(at, item, PARTICIPANT_KEYS):
                continue
            role = item.get("role") or "interviewee"
            if role not in PARTICIPANT_ROLES:
                self.problem(f"{at}.role", f"must be one of: {', '.join(PARTICIPANT_ROLES)}")
            person = self.person_ref(f"{at}.person", item.get("person"))
            agreement = None
            if item.get("agreement") is not None:
                agreement = self.agreement(f"{at}.agreement", item["agreement"])
            if person is not None and role in PARTICIPANT_ROLES:
                participants.append((person, role))
                agreements.append(agreement)
        parts = self.recordings(where, data.get("recordings"))
        planned = PlannedInterview(
            where=where,
            values=values or {},
            collection=collection,
            participants=participants,
            recordings=parts,
            transcript=None,
            publish=self.publish or (values or {}).get("status") == "published",
            agreements=agreements,
            redactions=self.redactions(where, data.get("redactions")),
            consent_override=str(data.get("consent_override") or "")[:2000],
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
        labels = {speaker_label(s.speaker) for s in parsed.segments if s.speaker}
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
