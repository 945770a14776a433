"""Import, step 2: write a valid plan through the ordinary services (flush, never commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select

from ...access import now
from ...extensions import db
from ...models import Speaker
from .. import (
    audit,
    catalogue,
    consent,
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

#: The reason recorded when an import publishes open an interview without a signed narrator
#: agreement on record (it was published where it came from).
IMPORT_OVERRIDE = (
    "Imported as published open; no signed narrator agreement was on record in the import."
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
        values = dict(person.values)
        died = values.pop("date_of_death", None)
        person.row = person.existing or catalogue.save_person(ARCHIVIST, values)
        if died is not None and person.row.date_of_death is None:
            person.row.date_of_death = died
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
            override = None
            row = planned.row
            if (
                row.access_level == "open"
                and not consent.terms.narrator_consented(row)
                and not row.consent_override
            ):
                # Published elsewhere before agreements were recorded here: the import keeps
                # it published, and says why (audited) rather than refusing the move.
                override = IMPORT_OVERRIDE
            catalogue.publish(ARCHIVIST, row, consent_override=override)
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
    _write_consent(planned, interview)
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


def _write_consent(planned: PlannedInterview, interview) -> None:
    """The participants' agreements (with their signed forms), the open-publication
    override and the redactions, as exported. Redactions are stored as they were (not
    snapped again: the transcript comes later), and an ``until`` already passed is dropped."""
    from ...models import Redaction, ReleaseAgreement

    interview.consent_override = planned.consent_override
    for participant, agreement in zip(interview.participants, planned.agreements, strict=True):
        if agreement is None:
            continue
        values, form, form_name = agreement
        row = ReleaseAgreement(**values)
        participant.agreement = row
        if form is not None:
            with form.local(recordings.storage()) as path, path.open("rb") as stream:
                consent.attach_form(
                    ARCHIVIST,
                    interview,
                    participant.id,
                    consent.FormUpload(stream, form_name or "agreement"),
                )
    today = now().date()
    for values in planned.redactions:
        if values.get("until") is not None and values["until"] <= today:
            continue
        interview.redactions.append(Redaction(created_by_id=None, **values))
    db.session.flush()


def _write_document(planned: PlannedDocument) -> None:
    data = dict(planned.values)
    data["creators"] = [person.row.id for person in planned.creators]
    if planned.file is None:
        planned.row = documents.save_document(ARCHIVIST, data)
        return
    with planned.file.local(recordings.storage()) as path, path.open("rb") as stream:
        upload = documents.Upload(stream, planned.file_name or "attachment")
        planned.row = documents.save_document(ARCHIVIST, data, upload=upload)
