"""Fixity: re-read every stored file that a row references and compare its sha256 with the one
recorded at ingest.

A check reports three kinds of failure, each with what uses the key:
- ``missing``: a row points at a key whose file is gone;
- ``changed``: the file's bytes no longer hash to the recorded sha256 (or its size differs);
- ``orphans``: a stored file that no row uses (a crash between storing and committing, or a
  removal that did not happen). Orphans are reported as failures too: nothing should be in
  ``media/`` that the archive does not know about, and an archivist decides what to do.

Derivatives (access copies, waveforms) are checked like masters; one that is missing or
changed is also made again from its master (a job each, listed under
``derivatives_remade``).

It also removes, and reports under ``abandoned_uploads``, the temporary files of uploads cut
off by a killed process (``media/tmp/*.part`` that no live process holds): never archive data,
so removing them is not a failure.

``run_fixity_check`` adds a ``FixityCheck`` row (the caller commits) and never raises for a
bad file: the report is the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Derivative,
    Document,
    FixityCheck,
    Recording,
    ReleaseAgreement,
    StagedAudio,
)
from .recordings import storage


@dataclass
class _Expected:
    sha256: str
    size: int | None
    used_by: list[str] = field(default_factory=list)


def referenced_files() -> dict[str, _Expected]:
    """Every storage key a row uses -> the recorded sha256, size and the users ("recording 3")."""
    expected: dict[str, _Expected] = {}
    for rid, key, sha256, size in db.session.execute(
        select(Recording.id, Recording.storage_key, Recording.sha256, Recording.size).order_by(
            Recording.id
        )
    ):
        expected.setdefault(key, _Expected(sha256, size)).used_by.append(f"recording {rid}")
    for did, key, sha256, size in db.session.execute(
        select(Document.id, Document.file_key, Document.file_sha256, Document.file_size)
        .where(Document.file_key.is_not(None))
        .order_by(Document.id)
    ):
        entry = expected.setdefault(key, _Expected(sha256 or key, size))
        entry.used_by.append(f"document {did}")
    for xid, kind, key, sha256, size in db.session.execute(
        select(
            Derivative.id,
            Derivative.kind,
            Derivative.storage_key,
            Derivative.sha256,
            Derivative.size,
        ).order_by(Derivative.id)
    ):
        entry = expected.setdefault(key, _Expected(sha256, size))
        entry.used_by.append(f"{kind} derivative {xid}")
    for sid, key, sha256, size in db.session.execute(
        select(
            StagedAudio.id, StagedAudio.storage_key, StagedAudio.sha256, StagedAudio.size
        ).order_by(StagedAudio.id)
    ):
        entry = expected.setdefault(key, _Expected(sha256, size))
        entry.used_by.append(f"staged audio {sid}")
    for aid, key, sha256, size in db.session.execute(
        select(
            ReleaseAgreement.id,
            ReleaseAgreement.form_key,
            ReleaseAgreement.form_sha256,
            ReleaseAgreement.form_size,
        )
        .where(ReleaseAgreement.form_key.is_not(None))
        .order_by(ReleaseAgreement.id)
    ):
        entry = expected.setdefault(key, _Expected(sha256 or key, size))
        entry.used_by.append(f"signed release form {aid}")
    return expected


def run_fixity_check(progress: Callable[[int], None] | None = None) -> FixityCheck:
    """Check every referenced file and look for orphans; ``progress(n)`` after each file."""
    media = storage()
    check = FixityCheck(started_at=dt.datetime.now(dt.UTC))
    expected = referenced_files()
    missing: list[dict] = []
    changed: list[dict] = []
    for key, want in expected.items():
        try:
            if not media.exists(key):
                missing.append({"key": key, "used_by": want.used_by})
                continue
            size = media.size(key)
            actual = media.hash(key)
        except OSError as exc:  # unreadable: permissions, I/O error
            changed.append({"key": key, "used_by": want.used_by, "error": str(exc)})
            continue
        finally:
            if progress is not None:
                progress(1)
        if actual != want.sha256 or (want.size is not None and size != want.size):
            changed.append(
                {
                    "key": key,
                    "used_by": want.used_by,
                    "expected_sha256": want.sha256,
                    "actual_sha256": actual,
                    "expected_size": want.size,
                    "actual_size": size,
                }
            )
    orphans = [{"key": key} for key in media.iter_keys() if key not in expected]
    # Temporary files of uploads whose process died (kill -9, a crash): never data. Uploads
    # still arriving in a live process are left alone (storage.sweep_temp).
    abandoned = media.sweep_temp()
    # A derivative is made again from its master (a master is only ever reported).
    from ..media import derivatives

    remade = derivatives.repair(
        [e["key"] for e in missing + changed if any(" derivative " in u for u in e["used_by"])]
    )
    check.checked = len(expected)
    check.failures = len(missing) + len(changed) + len(orphans)
    check.report = {
        "missing": missing,
        "changed": changed,
        "orphans": orphans,
        "abandoned_uploads": abandoned,
        "abandoned_uploads_removed": len(abandoned),
        "derivatives_remade": [job.id for job in remade],
    }
    check.finished_at = dt.datetime.now(dt.UTC)
    db.session.add(check)
    db.session.flush()
    return check


def files_to_check() -> int:
    return len(referenced_files())


def latest_checks(limit: int = 10) -> list[FixityCheck]:
    return list(
        db.session.scalars(
            select(FixityCheck)
            .order_by(FixityCheck.started_at.desc(), FixityCheck.id.desc())
            .limit(limit)
        )
    )
