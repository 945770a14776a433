"""Derivatives of recordings: files made from a master by a job, never replacing it.

A derivative is content-addressed twice over: its file is stored by its own sha256 like every
media file (``Storage``), and its row is found by what it was made from: the master's sha256,
its kind, and a hash of its settings and recipe version (``params_hash``). The same master
with the same settings is therefore made once (two recordings with the same bytes share it),
and a new recipe version or new settings make a new one. ``oralhist fixity`` checks the
files; one that is missing or changed is made again (``repair``).

Kinds (``RECIPES``): ``access`` (the access copy the player streams) and ``waveform`` (the
peaks ``GET /api/v1/recordings/<id>/waveform`` serves) are in ``media/recipes.py``; adding a
kind is one function::

    @derivatives.recipe("redacted", title="Making the redacted copy", mime="audio/mpeg")
    def redacted(making: derivatives.Making) -> derivatives.Made:
        out = making.workdir / "redacted.mp3"
        audio.encode(making.source, out, ..., transform=silence(making.params["ranges"]),
                     progress=making.progress_ms)
        return derivatives.Made(out, duration_ms=..., codec="mp3")

which also registers its job (kind ``derivative.<kind>``). The API others use:
``current(recording, kind, params) -> Derivative | None`` and ``request(recording, kind,
params, user=None) -> Job | None`` (queues the job unless the derivative exists or is
being made).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Derivative, Job, Recording
from ..models.job import ACTIVE_STATUSES

JOB_PREFIX = "derivative."
#: A derivative's settings (None: the recipe's defaults).
Params = dict[str, Any] | None


@dataclass
class Made:
    """What a recipe made: the file (in ``Making.workdir``) and what to record about it."""

    path: Path
    duration_ms: int | None = None
    codec: str | None = None
    mime: str | None = None  # default: the recipe's
    made_with: str = ""


@dataclass
class Making:
    """What a recipe gets: the master (a local file, read-only), its name for messages, the
    settings, a work folder removed afterwards, and a way to report progress."""

    recording_id: int
    source: Path
    name: str
    duration_ms: int
    params: dict[str, Any]
    workdir: Path
    progress: Callable[[float, str], None] = field(default=lambda percent, stage: None)

    def progress_ms(self, reached_ms: int, stage: str = "Encoding") -> None:
        """Progress as the time reached in the master (for ``audio.encode``'s callback),
        scaled to 0-90 % (the rest is storing)."""
        if self.duration_ms > 0:
            self.progress(min(90, 90 * reached_ms // self.duration_ms), stage)


@dataclass(frozen=True)
class Recipe:
    kind: str
    make: Callable[[Making], Made]
    title: str
    mime: str
    version: int


RECIPES: dict[str, Recipe] = {}


def recipe(
    kind: str, *, title: str, mime: str, version: int = 1
) -> Callable[[Callable[[Making], Made]], Callable[[Making], Made]]:
    """Register ``make(making) -> Made`` as the recipe of derivatives of ``kind``, and its
    job. Raise ``version`` when the output changes: every derivative is then made again."""
    from .. import jobs

    def register(make: Callable[[Making], Made]) -> Callable[[Making], Made]:
        RECIPES[kind] = Recipe(kind, make, title, mime, version)
        jobs.handler(JOB_PREFIX + kind, title=title)(_run)
        return make

    return register


def params_hash(kind: str, params: dict[str, Any] | None = None) -> str:
    """The sha256 of the kind's recipe version and settings (canonical JSON)."""
    spec = _recipe(kind)
    canonical = json.dumps(
        {"kind": kind, "version": spec.version, "params": params or {}},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _recipe(kind: str) -> Recipe:
    from .. import jobs

    jobs.load_handlers()  # the recipes register with the job handlers
    if kind not in RECIPES:
        raise LookupError(f"no recipe for derivatives of kind {kind!r}")
    return RECIPES[kind]


def current(recording: Recording, kind: str, params: Params = None) -> Derivative | None:
    """The derivative of ``kind`` with ``params`` made from this recording's bytes, if any."""
    return db.session.scalar(
        select(Derivative).where(
            Derivative.source_sha256 == recording.sha256,
            Derivative.kind == kind,
            Derivative.params_hash == params_hash(kind, params),
        )
    )


def available(recordings: Iterable[Recording], kind: str) -> set[int]:
    """The ids of ``recordings`` that have a derivative of ``kind`` (default settings), in
    one query (the interview page's parts list)."""
    by_sha: dict[str, list[int]] = {}
    for recording in recordings:
        by_sha.setdefault(recording.sha256, []).append(recording.id)
    if not by_sha:
        return set()
    found = db.session.scalars(
        select(Derivative.source_sha256).where(
            Derivative.source_sha256.in_(sorted(by_sha)),
            Derivative.kind == kind,
            Derivative.params_hash == params_hash(kind),
        )
    )
    return {rid for sha in found for rid in by_sha[sha]}


def pending_job(recording: Recording, kind: str, params: Params = None) -> Job | None:
    """The queued or running job making this derivative, if any."""
    wanted = params_hash(kind, params)
    for job in db.session.scalars(
        select(Job).where(
            Job.kind == JOB_PREFIX + kind,
            Job.recording_id == recording.id,
            Job.status.in_(ACTIVE_STATUSES),
        )
    ):
        if (job.params or {}).get("params_hash") == wanted:
            return job
    return None


def request(
    recording: Recording, kind: str, params: dict[str, Any] | None = None, user: Any = None
) -> Job | None:
    """Make sure the derivative exists or is being made: queue its job unless it exists
    (None) or a job is already making it (that job). Flushes, never commits."""
    from .. import jobs

    if current(recording, kind, params) is not None:
        return None
    existing = pending_job(recording, kind, params)
    if existing is not None:
        return existing
    return jobs.enqueue(
        JOB_PREFIX + kind,
        recording=recording,
        params={"params": params or {}, "params_hash": params_hash(kind, params)},
        user=user,
    )


#: What every master gets at ingest.
AT_INGEST = ("access", "waveform")


def request_at_ingest(recording: Recording, user: Any = None) -> list[Job]:
    """Queue what every new master gets: its access copy and its waveform."""
    queued = [request(recording, kind, user=user) for kind in AT_INGEST]
    return [job for job in queued if job is not None]


# --- the job ---------------------------------------------------------------------------------


def _storage():
    from ..services.recordings import storage

    return storage()


def _run(job: Job, ctx: Any) -> None:
    """Make one derivative: read the master, run the recipe outside any transaction, then
    store the file and its row in the commit that finishes the job."""
    from .. import transaction
    from ..services.recordings import remove_unused_files

    kind = job.kind[len(JOB_PREFIX) :]
    spec = _recipe(kind)
    recording = job.recording
    if recording is None:
        raise NotFound("The recording was deleted before its derivative was made.")
    params = dict((job.params or {}).get("params") or {})
    wanted = params_hash(kind, params)
    source_sha, source_key = recording.sha256, recording.storage_key
    name, duration_ms = recording.original_filename, recording.duration_ms
    recording_id = recording.id
    media = _storage()
    existing = current(recording, kind, params)
    if existing is not None and media.exists(existing.storage_key):
        with ctx.finish() as done:
            done.result = _result(existing, reused=True)
        return
    db.session.rollback()  # the long part holds no transaction
    ctx.progress(1, "Reading the master")
    with (
        tempfile.TemporaryDirectory(prefix="oralhist-derivative-") as workdir,
        media.local_file(source_key) as source,
    ):
        made = spec.make(
            Making(
                recording_id=recording_id,
                source=Path(source),
                name=name,
                duration_ms=duration_ms or 0,
                params=params,
                workdir=Path(workdir),
                progress=ctx.progress,
            )
        )
        ctx.progress(95, "Storing")
        with ctx.finish() as done:
            with open(made.path, "rb") as handle:
                stored = media.save_stream(handle)
            if stored.created:  # a finish that does not commit leaves no file behind
                transaction.on_rollback(partial(remove_unused_files, [stored.key]))
            row = db.session.scalar(
                select(Derivative).where(
                    Derivative.source_sha256 == source_sha,
                    Derivative.kind == kind,
                    Derivative.params_hash == wanted,
                )
            )
            replaced = None
            if row is None:
                row = Derivative(source_sha256=source_sha, kind=kind, params_hash=wanted)
                db.session.add(row)
            elif row.storage_key != stored.key:
                replaced = row.storage_key  # a damaged or lost file made again
            row.params = params
            row.storage_key = stored.key
            row.sha256 = stored.sha256
            row.size = stored.size
            row.mime = made.mime or spec.mime
            row.duration_ms = made.duration_ms
            row.codec = made.codec
            row.made_with = made.made_with[:255]
            row.job_id = job.id
            db.session.flush()
            if replaced:
                transaction.on_commit(partial(remove_unused_files, [replaced]))
            done.result = _result(row, reused=False)


def _result(row: Derivative, *, reused: bool) -> dict[str, Any]:
    return {
        "derivative_id": row.id,
        "kind": row.kind,
        "sha256": row.sha256,
        "size": row.size,
        "duration_ms": row.duration_ms,
        "reused": reused,
    }


# --- upkeep ------------------------------------------------------------------------------------


def forget_unused(source_sha256s: Iterable[str]) -> list[str]:
    """Delete the derivative rows of masters no recording has any more; return their
    storage keys (for the caller to remove after the commit). Flushes."""
    shas = set(source_sha256s)
    if not shas:
        return []
    still = set(db.session.scalars(select(Recording.sha256).where(Recording.sha256.in_(shas))))
    gone = sorted(shas - still)
    if not gone:
        return []
    rows = list(db.session.scalars(select(Derivative).where(Derivative.source_sha256.in_(gone))))
    keys = [row.storage_key for row in rows]
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return keys


def forget_outdated() -> list[str]:
    """Delete the derivative rows made by an older version of their recipe (a row whose
    ``params_hash`` is not the one its kind and settings give today: never served, since
    ``current`` looks for today's); return their storage keys, for the caller to remove
    after the commit. ``oralhist derivatives make`` calls it beside queueing their
    replacements. Flushes."""
    from .. import jobs

    jobs.load_handlers()
    rows = [
        row
        for row in db.session.scalars(select(Derivative).order_by(Derivative.id))
        if row.kind in RECIPES and row.params_hash != params_hash(row.kind, row.params or None)
    ]
    keys = sorted({row.storage_key for row in rows})
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return keys


def repair(bad_keys: Iterable[str], user: Any = None) -> list[Job]:
    """Make again the derivatives whose files are missing or changed (fixity): the row stays
    (the player falls back to the master meanwhile: see ``usable``) and a job replaces its
    file. Flushes."""
    keys = set(bad_keys)
    if not keys:
        return []
    queued: list[Job] = []
    for row in db.session.scalars(select(Derivative).where(Derivative.storage_key.in_(keys))):
        recording = db.session.scalar(
            select(Recording).where(Recording.sha256 == row.source_sha256).order_by(Recording.id)
        )
        if recording is None or pending_job(recording, row.kind, row.params) is not None:
            continue
        from .. import jobs

        queued.append(
            jobs.enqueue(
                JOB_PREFIX + row.kind,
                recording=recording,
                params={"params": row.params or {}, "params_hash": row.params_hash},
                user=user,
            )
        )
    return queued


def usable(derivative: Derivative | None) -> Derivative | None:
    """``derivative`` if its file is there to be sent (else None: serve the master)."""
    if derivative is None or not _storage().exists(derivative.storage_key):
        return None
    return derivative


def request_missing(kinds: Iterable[str] = AT_INGEST, user: Any = None) -> list[Job]:
    """Queue the derivatives every recording should have and lacks (an archive made before
    derivatives existed: ``oralhist derivatives make``). Flushes."""
    queued = []
    for recording in db.session.scalars(select(Recording).order_by(Recording.id)):
        for kind in kinds:
            job = request(recording, kind, user=user)
            if job is not None and job not in queued:
                queued.append(job)
    return queued
