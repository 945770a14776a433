"""The one-step deposit: catalogue essentials, audio in parts and perhaps a transcript, saved
together, after which the archive starts the right job by itself and tells the depositor
when a proposed transcript is ready to check.

How it holds together:

- **Audio first, staged.** Each audio file is streamed into storage and probed as soon as it
  is chosen (``stage_audio``), becoming a ``StagedAudio`` row of its uploader. A 1.7 GB master
  is thus sent once, with its progress bar, and a refused form does not lose it: the rows
  stay, and the form offers them again ("your audio is kept"). Staged rows older than
  ``DEPOSIT_STAGED_HOURS`` are swept (``sweep_staged``), their files removed unless used.
- **One unit of work.** ``deposit`` creates the interview (people typed as new names are
  created on the spot), turns the chosen staged files into its Recordings, imports the
  transcript with the existing importers (Word, text, captions, OHMS, Whisper JSON) and
  queues the job, all flushed in the caller's one transaction: a bad transcript raises its
  ``TranscriptError`` (file, line, reason), the request rolls back, and nothing of the
  deposit exists, while the staged audio is still there.
- **The right job.** A transcript that is untimed or only roughly timed (``transcript_timing``)
  gets ``align``; no transcript gets ``transcribe`` for each recording; a finely timed one
  needs nothing. (Job kinds are the align area's; ``oralhist.jobs`` is the queue.)
- **Told when ready.** A ``DepositJob`` row remembers who to tell. When the job is finished
  (in its ``ctx.finish()`` unit of work), ``_tell_depositors`` adds the in-app notification
  and queues the mail in that same commit, once (``notified_at``), unless the job's handler
  told the depositor itself in that commit.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import ValidationError
from ..extensions import db
from ..media import derivatives
from ..media.probe import AudioInfo, probe_audio
from ..media.storage import display_filename
from ..models import DepositJob, Interview, Recording, Segment, StagedAudio, User
from . import audit, catalogue, consent, notify, recordings, transcripts

#: A transcript whose segments are this long or longer at the median is "roughly timed":
#: paragraph-level times, OHMS one-minute sync points, ``[hh:mm:ss]`` marks every few minutes.
#: Caption cues and Whisper segments are 2-10 s; a speaker's turn timed as one piece in an
#: interview is typically 20-60 s, which alignment improves to word level.
ROUGH_MEDIAN_MS = 30_000


def transcript_timing(times: Sequence[tuple[int | None, int | None]]) -> str:
    """``"untimed"`` (no segment has a time), ``"rough"`` (some have none, or the timed ones
    are long: see ``ROUGH_MEDIAN_MS``) or ``"timed"``, from the segments' (start_ms, end_ms)
    in order. A segment without an end lasts until the next one starts."""
    starts = [start for start, _end in times if start is not None]
    if not starts:
        return "untimed"
    if len(starts) < len(times):
        return "rough"
    lengths = []
    for index, (start, end) in enumerate(times):
        if end is None:
            following = times[index + 1][0] if index + 1 < len(times) else None
            if following is None:
                continue
            end = following
        lengths.append(max(0, end - start))
    if lengths and statistics.median(lengths) >= ROUGH_MEDIAN_MS:
        return "rough"
    return "timed"


# --- staged audio ---------------------------------------------------------------------------


def staged_hours() -> int:
    return int(current_app.config.get("DEPOSIT_STAGED_HOURS") or 72)


def stage_audio(viewer: Viewer, stream: BinaryIO, filename: str) -> StagedAudio:
    """Store and check one audio file for the viewer's next deposit.

    Streams to storage while hashing (memory does not grow with the file); ``probe_audio``
    refuses what is not audio, naming the file. Nothing is left behind by a failed upload."""
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    name = display_filename(filename)
    probed: list[AudioInfo] = []

    def validate(path) -> None:
        probed.append(probe_audio(path, name))

    stored = recordings.storage().save_stream(
        stream, max_bytes=current_app.config.get("MAX_CONTENT_LENGTH"), validate=validate
    )
    info = probed[0]
    if stored.created:
        from .. import transaction

        transaction.on_rollback(partial(recordings.remove_unused_files, [stored.key]))
    row = StagedAudio(
        user_id=viewer.user_id,
        original_filename=name,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        **recordings.audio_columns(info),
    )
    db.session.add(row)
    db.session.flush()
    return row


def stage_uploads(viewer: Viewer, form: recordings.UploadForm | None) -> list[StagedAudio]:
    """Every file part of a streamed multipart upload (field ``file``), staged in order."""
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    if form is None or form.file_name is None:
        raise ValidationError(
            "Send the audio as multipart/form-data in a field named “file”.",
            fields={"file": "is required"},
        )
    staged: list[StagedAudio] = []
    while True:
        if form.file_name != "file":
            raise ValidationError(
                f"The audio must be sent in a field named “file”, not “{form.file_name}”.",
                fields={"file": "is required"},
            )
        staged.append(stage_audio(viewer, form.file, form.filename or ""))
        if not form.next_file():
            break
    return staged


def staged_for(viewer: Viewer) -> list[StagedAudio]:
    """The viewer's staged audio, oldest first (what the deposit form offers)."""
    if not viewer.signed_in:
        return []
    return list(
        db.session.scalars(
            select(StagedAudio)
            .where(StagedAudio.user_id == viewer.user_id)
            .order_by(StagedAudio.id)
        )
    )


def get_staged(viewer: Viewer, staged_id: int) -> StagedAudio:
    """One of the viewer's staged files ('not found' for anyone else's)."""
    from ..errors import NotFound

    row = db.session.get(StagedAudio, staged_id)
    if row is None or row.user_id != viewer.user_id:
        raise NotFound(f"There is no staged audio file {staged_id}.")
    return row


def discard_staged(viewer: Viewer, row: StagedAudio) -> None:
    """Remove a staged file the depositor does not want; its bytes go after the commit
    unless another row uses them."""
    require(row.user_id == viewer.user_id, "Only its uploader removes a staged file.")
    key = row.storage_key
    db.session.delete(row)
    db.session.flush()
    from .. import transaction

    transaction.on_commit(partial(recordings.remove_unused_files, [key]))


def sweep_staged(older_than: dt.timedelta | None = None) -> int:
    """Forget staged audio older than ``DEPOSIT_STAGED_HOURS`` (a deposit left unfinished),
    removing the files nothing else uses after the commit. Returns how many were dropped."""
    cutoff = now() - (older_than if older_than is not None else dt.timedelta(hours=staged_hours()))
    old = list(db.session.scalars(select(StagedAudio).where(StagedAudio.created_at < cutoff)))
    if not old:
        return 0
    keys = [row.storage_key for row in old]
    db.session.execute(delete(StagedAudio).where(StagedAudio.id.in_([row.id for row in old])))
    from .. import transaction

    transaction.on_commit(partial(recordings.remove_unused_files, keys))
    return len(old)


# --- the deposit ----------------------------------------------------------------------------


@dataclass
class TranscriptUpload:
    """The transcript file sent with a deposit (already read, within the size limit)."""

    data: bytes
    filename: str
    format: str | None = None


@dataclass
class DepositResult:
    interview: Interview
    recordings: list[Recording]
    transcript: transcripts.ImportResult | None
    timing: str | None  # the transcript's: "untimed" | "rough" | "timed"; None without one
    jobs: list[Any] = field(default_factory=list)
    #: Parts that could not get a job of their own now (an exclusive job runs for the
    #: interview): the page says to start them later.
    waiting: list[Recording] = field(default_factory=list)
    #: The job kind the deposit needed but this archive has no handler for.
    unavailable: str | None = None

    @property
    def job_kind(self) -> str | None:
        return self.jobs[0].kind if self.jobs else None


def deposit(
    viewer: Viewer,
    data: Mapping[str, Any],
    staged_ids: Iterable[int],
    transcript: TranscriptUpload | None = None,
) -> DepositResult:
    """Create the interview from ``data`` (the catalogue form's fields, ``participants`` as
    ``{"person_id" | "name", "role"}``), attach the staged audio ``staged_ids`` as its parts
    in that order, import ``transcript`` if given, and queue the job. Flushes; the caller
    commits once. Raises (and leaves nothing) on any problem."""
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    ids: list[int] = []
    for raw in staged_ids:
        if raw not in ids:
            ids.append(raw)
    if not ids:
        raise ValidationError(
            "Add the recording: choose its audio file(s) (several parts are fine). A deposit "
            "needs its audio.",
            fields={"audio": "is required"},
        )
    rows = {
        row.id: row
        for row in db.session.scalars(
            select(StagedAudio).where(
                StagedAudio.id.in_(ids), StagedAudio.user_id == viewer.user_id
            )
        )
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise ValidationError(
            "An audio file of this deposit is no longer waiting (it was deposited already, "
            "removed, or kept longer than "
            f"{staged_hours()} hours): upload it again.",
            fields={"audio": "upload it again"},
        )
    interview = catalogue.save_interview(viewer, data)
    added: list[Recording] = []
    for position, staged_id in enumerate(ids):
        staged = rows[staged_id]
        recording = Recording(
            interview=interview,
            position=position,
            label="",
            original_filename=staged.original_filename,
            storage_key=staged.storage_key,
            sha256=staged.sha256,
            size=staged.size,
            **recordings.audio_columns(staged),
            uploaded_by_id=viewer.user_id,
        )
        db.session.add(recording)
        db.session.delete(staged)
        added.append(recording)
    db.session.flush()
    for recording in added:
        # the same ingest as any upload: an access copy and a waveform, made by jobs
        derivatives.request_at_ingest(recording, user=viewer)
    db.session.expire(interview, ["recordings"])  # the importer reads the duration
    imported = None
    timing = None
    if transcript is not None:
        imported = transcripts.import_transcript(
            viewer, interview, transcript.data, transcript.filename, transcript.format
        )
        times = db.session.execute(
            select(Segment.start_ms, Segment.end_ms)
            .where(imported.transcript.holds(Segment))
            .order_by(Segment.position)
        ).all()
        timing = transcript_timing([(start, end) for start, end in times])
    result = DepositResult(interview, added, imported, timing)
    _start_jobs(viewer, result)
    audit.record(
        viewer,
        "interview.deposit",
        "interview",
        interview.id,
        interview_id=interview.id,
        recordings=len(added),
        transcript=imported.filename if imported else None,
        timing=timing,
        jobs=[job.kind for job in result.jobs],
    )
    return result


def _start_jobs(viewer: Viewer, result: DepositResult) -> None:
    """Queue what the deposit needs: align an untimed or roughly timed transcript; transcribe
    each part when there is no transcript; nothing for a finely timed one."""
    if result.transcript is not None and result.timing == "timed":
        return
    from .. import jobs

    kind = "align" if result.transcript is not None else "transcribe"
    try:
        jobs.get_handler(kind)
    except jobs.UnknownJobKind:
        # An archive without the alignment engine installed: the deposit stands, the page
        # says no job was started (``DepositResult.unavailable``).
        result.unavailable = kind
        return
    if kind == "align":
        result.jobs.append(jobs.enqueue("align", interview=result.interview, user=viewer))
    else:
        for recording in result.recordings:
            try:
                result.jobs.append(jobs.enqueue("transcribe", recording=recording, user=viewer))
            except jobs.JobConflict:
                # The transcription of a part is exclusive for its interview: the next part
                # waits, and the page offers to start it when the first is done.
                result.waiting.append(recording)
    for job in result.jobs:
        db.session.add(
            DepositJob(job_id=job.id, user_id=viewer.user_id, interview_id=result.interview.id)
        )
    db.session.flush()


# --- telling the depositor --------------------------------------------------------------------

_JOB_FINISHED_KEY = "oh_deposit_job_update"
_TOLD_KEY = "oh_deposit_told_users"


def _note_notified(session: Session, _flush_context, _instances) -> None:
    """Before a flush in a transaction that finishes a job: who is being notified (a flush
    turns the new rows into stored ones, and ``_tell_depositors`` must still see them)."""
    if not session.info.get(_JOB_FINISHED_KEY):
        return
    from ..models import Notification

    told = session.info.setdefault(_TOLD_KEY, set())
    told.update(obj.user_id for obj in session.new if isinstance(obj, Notification))


def _forget(session: Session, *_args) -> None:
    session.info.pop(_TOLD_KEY, None)
    session.info.pop(_JOB_FINISHED_KEY, None)


def _watch_job_updates(orm_execute_state) -> None:
    """Note that this transaction changed a job's row (a worker finishing it), so that the
    commit looks for deposit jobs to announce; other transactions pay nothing."""
    if not orm_execute_state.is_update:
        return
    mapper = orm_execute_state.bind_mapper
    if mapper is not None and mapper.local_table.name == "job":
        orm_execute_state.session.info[_JOB_FINISHED_KEY] = True


def _tell_depositors(session: Session) -> None:
    """Before the commit of a transaction that changed a job: each deposit job now ``done``
    and not yet announced is told to its depositor (in the app, and by mail after the
    commit), in this same commit, once."""
    if not session.info.pop(_JOB_FINISHED_KEY, False):
        return
    from ..models import Job, Notification

    # A handler may tell the people concerned itself (the align area's does, with a link to
    # its preview): whoever it told in this commit is not told twice.
    told = set(session.info.pop(_TOLD_KEY, ()))
    told |= {obj.user_id for obj in session.new if isinstance(obj, Notification)}
    rows = session.execute(
        select(DepositJob, Job)
        .join(Job, Job.id == DepositJob.job_id)
        .where(DepositJob.notified_at.is_(None), Job.status == "done")
    ).all()
    for deposit_job, job in rows:
        deposit_job.notified_at = now()
        user = session.get(User, deposit_job.user_id)
        interview = session.get(Interview, deposit_job.interview_id)
        if user is None or interview is None or not user.active or user.id in told:
            continue
        what = (
            "The transcript is aligned to the audio"
            if job.kind == "align"
            else "A machine draft transcript is ready"
        )
        title = consent.title_for(user, interview)
        path, absolute = notify.link("catalogue.interview", interview_id=interview.id)
        notify.notify(
            user,
            f"{what} for {interview.accession} “{title}”: check the proposed "
            "transcript and accept it.",
            path,
            subject=f"[oralhist] Proposed transcript ready to check: {title}"[:200],
            body=(
                f"{what} for {interview.accession} “{title}”.\n\n"
                "It is a proposed version: nothing replaces your transcript until you accept "
                f"it. Check it here: {absolute}\n"
            ),
        )


def install_listeners() -> None:
    """Register the session hooks (once per process)."""
    if not event.contains(Session, "do_orm_execute", _watch_job_updates):
        event.listen(Session, "do_orm_execute", _watch_job_updates)
        event.listen(Session, "before_flush", _note_notified)
        event.listen(Session, "before_commit", _tell_depositors)
        event.listen(Session, "after_rollback", _forget)
