"""Import, step 2: write a valid plan through the ordinary services (flush, never commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select

from ...extensions import db
from ...models import Speaker
from .. import (
    audit,
    catalogue,
    documents,
    mentions,
    recordings,
    transcript_speakers,
    transcript_versions,
    transcripts,
)
from .manifest import (
    ARCHIVIST,
    ImportPlan,
    PlannedDocument,
    PlannedInterview,
    Progress,
    no_progress,
)


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


def apply_import(plan: ImportPlan, progress: Progress = no_progress) -> ImportSummary:
    """Create everything in ``plan`` through the services; flush, never commit. Run it in
    one unit of work: if it does not commit, the files it stored that no committed row uses
    are removed."""
    from ... import transaction

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
                transcript_speakers.update_speaker(ARCHIVIST, speaker, changes)
    if current_version is not None and current_version != len(versions):
        transcript_versions.restore_version(ARCHIVIST, interview, current_version)


def _write_document(planned: PlannedDocument) -> None:
    data = dict(planned.values)
    data["creators"] = [person.row.id for person in planned.creators]
    if planned.file is None:
        planned.row = documents.save_document(ARCHIVIST, data)
        return
    with planned.file.local(recordings.storage()) as path, path.open("rb") as stream:
        upload = documents.Upload(stream, planned.file_name or "attachment")
        planned.row = documents.save_document(ARCHIVIST, data, upload=upload)
