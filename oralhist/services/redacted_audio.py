"""The audio everyone but archivists gets when an interview has redactions: per recording
(part), derivatives of the master with the redacted ranges silenced (``media/derivatives.py``,
recipes in ``media/recipes.py``):

- ``redacted-access``, what listening gets (the player, listen-only grants): the access copy
  (MP3, 64 kb/s mono) made with the ranges silenced before encoding;
- ``redacted-master``, what a download gets: a copy in the master's format (a PCM WAV master
  gives a WAV, sample-exact outside the ranges; another format an AAC copy in MP4).

**Content-addressed** like every derivative: by the master's sha256, the kind and a hash of
its settings (``params``: the ranges that fall in the part, relative to it, and the fill) and
recipe version. Changing a redaction makes new copies; lifting every redaction in a part
serves its master (and plain access copy) again; identical masters share their copies;
``oralhist fixity`` checks them and a lost one is made again.

**Made by jobs, never on a request.** Adding, changing or lifting a redaction queues the
derivative jobs of the copies now wanted (``request_copies``), and the worker's duty
``redacted audio`` queues any still missing (``request_missing``). Until its copy exists a
part with a redaction is not served to listeners (a 503 saying so): the master is never sent
in its place.

**Stale copies are forgotten.** The same duty deletes the copies no redaction in force calls
for any more (``forget_stale``), and their files once nothing uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import jobs
from ..access import now, policy
from ..access.policy import Viewer
from ..errors import OralHistError
from ..extensions import db
from ..media import derivatives
from ..models import Derivative, Interview, Job, Recording, Redaction
from . import consent
from .recordings import timeline

#: The derivative kinds of silenced copies: what listening gets, what a download gets.
LISTEN = "redacted-access"
DOWNLOAD = "redacted-master"
KINDS = (LISTEN, DOWNLOAD)


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


def _spans_of(recording: Recording) -> list[tuple[int, int]]:
    interview = recording.interview
    active = [(r.start_ms, r.end_ms) for r in consent.active_redactions(interview)]
    if not active:
        return []
    offset = next(o for r, o in timeline(interview.recordings) if r.id == recording.id)
    return part_spans(recording, offset, active)


def params_of(recording: Recording) -> dict[str, Any] | None:
    """The settings of this part's silenced copies (its ranges and the fill), or None when
    no redaction in force falls in it."""
    spans = _spans_of(recording)
    if not spans:
        return None
    return {"spans": [[a, b] for a, b in spans], "fill_hz": tone_hz()}


def served_file(viewer: Viewer, recording: Recording, *, download: bool = False) -> Served | None:
    """None when the part is served as it is (to archivists, and where no redaction falls in
    it). Otherwise its silenced copy: the silenced access copy for listening, the silenced
    copy in the master's format for a download; ``RedactedAudioPending`` while it is being
    made."""
    if policy.sees_unredacted(viewer):
        return None
    params = params_of(recording)
    if params is None:
        return None
    copy = derivatives.usable(
        derivatives.current(recording, DOWNLOAD if download else LISTEN, params)
    )
    if copy is None:
        raise RedactedAudioPending(
            "Part of this recording is redacted, and the copy with those passages silenced is "
            "still being prepared. Try again in a few minutes.",
            retry_after=30,
        )
    return Served(copy.storage_key, copy.sha256, copy.size, copy.mime, True)


def _in_force_interviews(interview_id: int | None = None) -> list[Interview]:
    today = policy.today_of(now())
    stmt = select(Redaction.interview_id).where(
        (Redaction.until.is_(None)) | (Redaction.until > today)
    )
    if interview_id is not None:
        stmt = stmt.where(Redaction.interview_id == interview_id)
    ids = sorted(set(db.session.scalars(stmt)))
    return [db.session.get(Interview, iid) for iid in ids]


def wanted(interview_id: int | None = None) -> list[tuple[Recording, str, dict[str, Any]]]:
    """``(recording, kind, params)`` of every silenced copy the redactions in force call for
    today (of one interview, or of all), made or not."""
    out = []
    for interview in _in_force_interviews(interview_id):
        for recording in interview.recordings:
            params = params_of(recording)
            if params is not None:
                out.extend((recording, kind, params) for kind in KINDS)
    return out


def request_missing(interview_id: int | None = None, user: Any = None) -> list[Job]:
    """Queue the derivative job of every wanted silenced copy that neither exists nor is
    being made. Flushes."""
    queued = []
    for recording, kind, params in wanted(interview_id):
        if derivatives.current(recording, kind, params) is not None:
            continue
        if derivatives.pending_job(recording, kind, params) is not None:
            continue
        job = derivatives.request(recording, kind, params, user=user)
        if job is not None:
            queued.append(job)
    return queued


def request_copies(interview: Interview, viewer: Viewer | None) -> None:
    """The interview's redactions changed: queue the copies now wanted (the caller's unit of
    work commits them; the stale ones are forgotten by the worker's duty)."""
    request_missing(interview.id, user=viewer)


def forget_stale() -> list[str]:
    """Delete the silenced copies no redaction in force calls for any more (a redaction
    changed, lifted or past its date; the fill changed; the master was replaced), and,
    once the caller's unit of work commits, their stored files that nothing else uses.
    Returns the storage keys of the copies forgotten. The worker's ``redacted audio``
    duty calls it (call it inside a unit of work)."""
    from .. import transaction
    from .recordings import remove_unused_files

    keep = {
        (recording.sha256, kind, derivatives.params_hash(kind, params))
        for recording, kind, params in wanted()
    }
    stale = [
        row
        for row in db.session.scalars(
            select(Derivative).where(Derivative.kind.in_(KINDS)).order_by(Derivative.id)
        )
        if (row.source_sha256, row.kind, row.params_hash) not in keep
    ]
    if not stale:
        return []
    keys = sorted({row.storage_key for row in stale})
    for row in stale:
        db.session.delete(row)
    db.session.flush()
    transaction.on_commit(partial(remove_unused_files, keys))
    return keys


def make_pending() -> int:
    """Queue every missing silenced copy and make them now, in this process (``oralhist
    redactions make-audio``, tests); returns how many jobs ran. Call outside any unit of
    work: each job commits its own."""
    from ..jobs.runner import run_pending
    from ..transaction import unit_of_work

    with unit_of_work():
        request_missing()
    return run_pending(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        kinds=[derivatives.JOB_PREFIX + kind for kind in KINDS],
    )


@jobs.handler("redact_audio", exclusive=False, title="Queueing the silenced audio copies")
def run_legacy_job(job, ctx) -> None:
    """A ``redact_audio`` job queued before silenced copies became derivatives (migration
    0013): it queues the interview's derivative jobs instead of copying itself."""
    with ctx.finish() as done:
        done.result = {"queued": len(request_missing(job.interview_id))}
