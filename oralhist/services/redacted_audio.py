"""The audio everyone but archivists hears when an interview has redactions: per recording
(part), a stored copy of the master with the redacted ranges silenced (``media.redact``).

**Content-addressed.** A copy is found by (master sha256, ``spans_hash``: the ranges that
fall in the part, relative to it, and the fill), so changing a redaction makes a new copy,
lifting every redaction in a part serves its master again, and identical masters share one.

**Made in the background, never on a request.** Adding, changing or lifting a redaction
queues a ``redact_audio`` job (``oralhist.jobs``; its progress shows on the interview page),
and the worker's duty ``redacted audio`` (``make_pending``) makes any copy still missing: each
reads what to make, ends its read, copies the file without holding the database, stores it,
then records it in one short unit of work. Until its copy exists a part with a redaction is not
served to listeners (a 503 saying so): the master is never sent in its place.

**Stale copies are forgotten.** The same duty deletes the copies no redaction in force calls
for any more (``forget_stale``), and their files once nothing uses them: a silenced copy of
a passage no longer redacted is not kept.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from .. import jobs
from ..access import now, policy
from ..access.policy import Viewer
from ..errors import OralHistError, UnsupportedMedia
from ..extensions import db
from ..media.redact import silence_wav
from ..models import Interview, Recording, RedactedAudio, Redaction
from . import consent
from .recordings import storage, timeline

log = logging.getLogger(__name__)


class RedactedAudioPending(OralHistError):
    """The silenced copy of a part with a redaction is not made yet (503, ``Retry-After``)."""

    status = 503
    code = "redacted_audio_pending"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Served:
    """Which stored file ``/audio`` and ``/download`` send."""

    key: str
    sha256: str
    size: int
    mime: str
    redacted: bool


def tone_hz() -> float:
    """``REDACTION_TONE_HZ``: 0 (the default) fills redacted ranges with digital silence;
    a frequency fills them with a quiet tone, so listeners hear that something was cut."""
    return float(current_app.config.get("REDACTION_TONE_HZ") or 0)


def part_spans(recording: Recording, offset_ms: int, redactions) -> list[tuple[int, int]]:
    """The redacted ranges that fall in this part, relative to its start."""
    end = offset_ms + (recording.duration_ms or 0)
    out = []
    for start_ms, end_ms in redactions:
        a, b = max(start_ms, offset_ms), min(end_ms, end)
        if a < b:
            out.append((a - offset_ms, b - offset_ms))
    return sorted(out)


def spans_hash(spans: list[tuple[int, int]], fill: float) -> str:
    text = ";".join(f"{a}-{b}" for a, b in spans) + f"|fill={fill:g}"
    return hashlib.sha256(text.encode()).hexdigest()


def _spans_of(recording: Recording) -> list[tuple[int, int]]:
    interview = recording.interview
    active = [(r.start_ms, r.end_ms) for r in consent.active_redactions(interview)]
    if not active:
        return []
    offset = next(o for r, o in timeline(interview.recordings) if r.id == recording.id)
    return part_spans(recording, offset, active)


def served_file(viewer: Viewer, recording: Recording) -> Served:
    """The master for archivists and for parts without a redaction; otherwise its silenced
    copy, or ``RedactedAudioPending`` while it is being made."""
    master = Served(recording.storage_key, recording.sha256, recording.size, recording.mime, False)
    if policy.sees_unredacted(viewer):
        return master
    spans = _spans_of(recording)
    if not spans:
        return master
    digest = spans_hash(spans, tone_hz())
    copy = db.session.scalar(
        select(RedactedAudio).where(
            RedactedAudio.master_sha256 == recording.sha256, RedactedAudio.spans_hash == digest
        )
    )
    if copy is None or not storage().exists(copy.storage_key):
        raise RedactedAudioPending(
            "Part of this recording is redacted, and the copy with those passages silenced is "
            "still being prepared. Try again in a few minutes.",
            retry_after=30,
        )
    return Served(copy.storage_key, copy.sha256, copy.size, copy.mime, True)


def wanted(interview_id: int | None = None) -> list[tuple[int, str, str, list[tuple[int, int]]]]:
    """``(recording id, master key, spans hash, spans)`` of every silenced copy that should
    exist and does not (of one interview, or of all)."""
    fill = tone_hz()
    today = policy.today_of(now())
    stmt = select(Redaction.interview_id).where(
        (Redaction.until.is_(None)) | (Redaction.until > today)
    )
    if interview_id is not None:
        stmt = stmt.where(Redaction.interview_id == interview_id)
    out = []
    for iid in sorted(set(db.session.scalars(stmt))):
        interview = db.session.get(Interview, iid)
        for recording in interview.recordings:
            spans = _spans_of(recording)
            if not spans:
                continue
            digest = spans_hash(spans, fill)
            if _copy_of(recording.sha256, digest) is None:
                out.append((recording.id, recording.storage_key, digest, spans))
    return out


def needed() -> set[tuple[str, str]]:
    """``(master sha256, spans hash)`` of every silenced copy the redactions in force call
    for today (made or not)."""
    fill = tone_hz()
    today = policy.today_of(now())
    ids = db.session.scalars(
        select(Redaction.interview_id)
        .where((Redaction.until.is_(None)) | (Redaction.until > today))
        .distinct()
    )
    out: set[tuple[str, str]] = set()
    for iid in sorted(set(ids)):
        for recording in db.session.get(Interview, iid).recordings:
            spans = _spans_of(recording)
            if spans:
                out.add((recording.sha256, spans_hash(spans, fill)))
    return out


def forget_stale() -> list[str]:
    """Delete the silenced copies no redaction in force calls for any more (a redaction
    changed, lifted or past its date; the fill changed; the master was replaced), and,
    once the caller's unit of work commits, their stored files that nothing else uses.
    Returns the storage keys of the copies forgotten. The worker's ``redacted audio``
    duty calls it (call it inside a unit of work)."""
    from functools import partial

    from .. import transaction
    from .recordings import remove_unused_files

    keep = needed()
    stale = [
        copy
        for copy in db.session.scalars(select(RedactedAudio).order_by(RedactedAudio.id))
        if (copy.master_sha256, copy.spans_hash) not in keep
    ]
    if not stale:
        return []
    keys = sorted({copy.storage_key for copy in stale})
    for copy in stale:
        db.session.delete(copy)
    db.session.flush()
    transaction.on_commit(partial(remove_unused_files, keys))
    return keys


def _copy_of(master_sha256: str, digest: str) -> RedactedAudio | None:
    return db.session.scalar(
        select(RedactedAudio).where(
            RedactedAudio.master_sha256 == master_sha256, RedactedAudio.spans_hash == digest
        )
    )


def _make_file(recording_id: int, key: str, spans: list[tuple[int, int]]):
    """Silence ``spans`` of the stored master ``key`` into a new stored file (no database:
    call with no transaction held): ``(stored file, mime)``, or None when it cannot be
    decoded. A PCM WAV master gives a WAV copy, sample-exact outside the spans; any other
    format gives an AAC copy in MP4 (what every current browser plays; the silencing is
    applied to the decoded samples, so the spans are digital silence before encoding)."""
    media = storage()
    with media.open(key) as source, tempfile.TemporaryFile(dir=media_temp_dir()) as out:
        try:
            silence_wav(source, out, spans, tone_hz=tone_hz(), name=f"recording {recording_id}")
        except UnsupportedMedia:
            pass
        else:
            out.seek(0)
            return media.save_stream(out), None
    return _make_encoded(recording_id, key, spans)


def _make_encoded(recording_id: int, key: str, spans: list[tuple[int, int]]):
    import os

    from ..media import audio
    from ..media.redact import fill_block, frame_spans

    media = storage()
    name = f"recording {recording_id}"
    with media.local_file(key) as path:
        try:
            info = audio.probe(path, name=name)
        except UnsupportedMedia as exc:
            log.warning("%s: cannot be silenced (%s)", name, exc.message)
            return None
        rate = info.sample_rate or 48000
        channels = min(info.channels or 1, 2)
        frames = -(-info.duration_ms * rate // 1000)
        ranges = frame_spans(spans, rate, frames)
        fill = tone_hz()

        def transform(block, offset: int):
            return fill_block(block, offset, ranges, rate, fill)

        handle, temp = tempfile.mkstemp(suffix=".m4a", dir=media_temp_dir())
        os.close(handle)
        try:
            audio.encode(
                path,
                temp,
                container_format="mp4",
                codec="aac",
                rate=rate,
                channels=channels,
                bit_rate=64000 * channels,
                transform=transform,
                options={"movflags": "+faststart"},
                name=name,
            )
            with open(temp, "rb") as stream:
                return media.save_stream(stream), "audio/mp4"
        finally:
            os.unlink(temp)


def _record(recording_id: int, digest: str, made) -> bool:
    """Record a made copy (in the caller's unit of work); False when it is already there."""
    stored, mime = made
    recording = db.session.get(Recording, recording_id)
    if recording is None or _copy_of(recording.sha256, digest) is not None:
        return False
    db.session.add(
        RedactedAudio(
            master_sha256=recording.sha256,
            spans_hash=digest,
            storage_key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            mime=mime or recording.mime,
        )
    )
    db.session.flush()
    return True


def make_pending(limit: int | None = None) -> int:
    """Make every missing silenced copy (at most ``limit``); returns how many were made.
    The worker's repair duty (jobs ``redact_audio`` do the same per interview). Call
    outside any unit of work: each copy is recorded in its own."""
    from ..transaction import unit_of_work

    todo = wanted()
    db.session.rollback()  # end the read: the copy is made without holding the database
    made = 0
    for recording_id, key, digest, spans in todo[:limit]:
        stored = _make_file(recording_id, key, spans)
        if stored is None:
            continue
        with unit_of_work():
            made += _record(recording_id, digest, stored)
    return made


def request_copies(interview: Interview, viewer: Viewer | None) -> None:
    """Queue a ``redact_audio`` job for ``interview`` when its redactions changed and it has
    recordings (the caller's unit of work commits it)."""
    if interview.recordings:
        jobs.enqueue("redact_audio", interview=interview, user=viewer)


@jobs.handler("redact_audio", exclusive=False, title="Silencing the redacted passages in the audio")
def run_job(job, ctx) -> None:
    """Make the interview's missing silenced copies, one part at a time."""
    todo = wanted(job.interview_id)
    db.session.rollback()  # no transaction is held while copying
    made = []
    for n, (recording_id, key, digest, spans) in enumerate(todo):
        ctx.progress(100 * n // max(1, len(todo)), f"Part {n + 1} of {len(todo)}")
        stored = _make_file(recording_id, key, spans)
        if stored is not None:
            made.append((recording_id, digest, stored))
    with ctx.finish() as done:
        count = sum(_record(recording_id, digest, stored) for recording_id, digest, stored in made)
        done.result = {"copies": count, "parts": len(todo)}


def media_temp_dir() -> str | None:
    """Where copies are assembled before they are stored (the system's temp folder)."""
    return current_app.config.get("REDACTED_AUDIO_TEMP_DIR") or None
