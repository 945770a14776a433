"""BagIt packages (RFC 8493, BagIt 1.0) of the archive, of one interview or one collection,
for preservation systems; and the check that an incoming bag is intact before an import.

A bag's payload (``data/``) is exactly what ``oralhist export`` writes (``manifest.json``,
every transcript version under ``transcripts/``, masters and attachments under ``media/``,
``README.txt``), plus whatever the ``PAYLOAD_WRITERS`` add (release agreements and
redactions, once the archive has them). The Library of Congress's ``bagit`` library writes
and checks the bag: sha256 and sha512 payload and tag manifests, ``bag-info.txt`` with
Source-Organization, Bagging-Date, External-Identifier (the accession, or the collection's
slug), Payload-Oxum and Bag-Size.

An import reads a bag only after ``bagit`` has validated it completely (every file present,
none extra, every checksum matching): one changed byte refuses the whole import, naming the
file, before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit
from flask import current_app
from sqlalchemy import select

from ...errors import NotFound, ValidationError
from ...extensions import db
from ...models import Collection, Interview
from .export import ExportSummary, export_archive, export_steps
from .manifest import Progress, no_progress

#: The checksums every bag carries (RFC 8493 recommends sha512; sha256 is what oralhist
#: records for every file, so a bag can be checked against the archive's own fixity).
CHECKSUMS = ("sha256", "sha512")

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

#: Writers of extra payload, called with the payload folder (before bagging) and the
#: interviews it holds; each returns the number of files it wrote. The consent lane adds
#: release agreements (``agreements/``) and redactions (``redactions.json``) here.
PAYLOAD_WRITERS: list[Callable[[Path, Sequence[int]], int]] = []


@dataclass
class BagSummary:
    export: ExportSummary
    path: Path
    external_identifier: str
    payload_oxum: str

    def __str__(self) -> str:
        return f"{self.export}; bag {self.external_identifier}, Payload-Oxum {self.payload_oxum}"


def scope(interview_id: int | None = None, collection_slug: str | None = None):
    """The interviews a bag holds and its External-Identifier: one interview (its
    accession), one collection (its slug), or the whole archive (None: every interview)."""
    if interview_id is not None:
        interview = db.session.get(Interview, interview_id)
        if interview is None:
            raise NotFound(f"There is no interview {interview_id}.")
        return [interview.id], interview.accession
    if collection_slug is not None:
        collection = db.session.scalar(select(Collection).where(Collection.slug == collection_slug))
        if collection is None:
            raise NotFound(f"There is no collection {collection_slug!r}.")
        ids = list(
            db.session.scalars(select(Interview.id).where(Interview.collection_id == collection.id))
        )
        return ids, collection.slug
    return None, "archive"


def bag_steps(interview_ids: Sequence[int] | None) -> int:
    return export_steps(interview_ids)


def export_bag(
    dest: Path,
    *,
    interview_ids: Sequence[int] | None,
    external_identifier: str,
    progress: Progress = no_progress,
) -> BagSummary:
    """Write a BagIt 1.0 bag to ``dest`` (an empty or new folder; ``check_destination``
    first) and validate it. Everything, regardless of access level: an archivist's copy."""
    summary = export_archive(
        dest, include_media=True, progress=progress, interview_ids=interview_ids
    )
    held = (
        list(interview_ids)
        if interview_ids is not None
        else list(db.session.scalars(select(Interview.id)))
    )
    for writer in PAYLOAD_WRITERS:
        summary.files += writer(dest, held)
    organisation = (
        current_app.config.get("BAG_SOURCE_ORGANIZATION")
        or current_app.config.get("OAI_REPOSITORY_NAME")
        or "oralhist"
    )
    bag = bagit.make_bag(
        str(dest),
        bag_info={
            "Source-Organization": organisation,
            "External-Identifier": external_identifier,
            "External-Description": (
                f"oralhist export of {external_identifier}: {summary}. Payload: manifest.json "
                "(records), transcripts/ (every version), media/ (masters and attachments, "
                "named by sha256)."
            ),
        },
        checksums=list(CHECKSUMS),
    )
    # bagit-python writes "BagIt-Version: 0.97"; what it writes is also BagIt 1.0 (RFC 8493:
    # UTF-8 tag files, sha512 and sha256 manifests, safe payload names), so declare 1.0 and
    # re-write the tag manifests that cover bagit.txt.
    (dest / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    bag = bagit.Bag(str(dest))
    bag.save()
    bag.validate()
    if bag.version_info != (1, 0):
        raise ValidationError(f"The bag at {dest} was not written as BagIt 1.0.")
    return BagSummary(summary, dest, external_identifier, bag.info["Payload-Oxum"])


def is_bag(path: Path) -> bool:
    return (path / "bagit.txt").is_file()


def check_bag(path: Path) -> Path:
    """Validate the bag at ``path`` completely and return its payload folder; raise
    ``ValidationError`` naming every file that is missing, unexpected or changed."""
    try:
        bag = bagit.Bag(str(path))
        missing, extra = bag.compare_manifests_with_fs()
        problems = [f"{name} is missing" for name in sorted(missing)]
        problems += [f"{name} is not in the bag's manifest" for name in sorted(extra)]
        if not problems:
            try:
                bag.validate()
            except bagit.BagValidationError as exc:
                # Payload-Oxum is checked first and names no file: find the changed ones.
                details = getattr(exc, "details", None) or []
                problems = [_describe(d) for d in details] or _changed_files(bag)
                problems = problems or [str(exc.message)]
    except bagit.BagError as exc:
        raise ValidationError(f"{path} is not a valid BagIt bag: {exc}.") from None
    if problems:
        raise ValidationError(
            f"The bag {path} is not intact, so nothing was imported: {'; '.join(problems)}.",
            problems=problems,
        )
    return Path(bag.path) / "data"


def _changed_files(bag: bagit.Bag) -> list[str]:
    """The payload files whose content no longer matches the manifest (sha256, else the
    strongest algorithm the bag has)."""
    changed = []
    for name, hashes in sorted(bag.payload_entries().items()):
        algorithm = "sha256" if "sha256" in hashes else sorted(hashes)[-1]
        digest = hashlib.new(algorithm)
        with open(Path(bag.path) / name, "rb") as source:
            for block in iter(lambda s=source: s.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != hashes[algorithm].lower():
            changed.append(f"{name} has changed ({algorithm} does not match)")
    return changed


def _describe(detail) -> str:
    if isinstance(detail, bagit.ChecksumMismatch):
        return f"{detail.path} has changed ({detail.algorithm} does not match)"
    if isinstance(detail, bagit.FileMissing):
        return f"{detail.path} is missing"
    if isinstance(detail, bagit.UnexpectedFile):
        return f"{detail.path} is not in the bag's manifest"
    return str(detail)
