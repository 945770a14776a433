"""An interview's transcript versions: the current one, the list, restoring an older one as
current, and the difference between two versions.

Versions share rows (``models.transcript.Segment``): an import starts a version of new rows
and retires the newest version's (``retire_open_rows``); the editor
(``services.transcript_editing``) retires and adds only the rows it changed. Restoring
just makes the older version current again: its rows are all still there.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from ..access import policy, require
from ..access.policy import Viewer
from ..errors import NotFound
from ..extensions import db
from ..models import IndexPoint, Interview, Segment, Transcript
from . import audit, catalogue
from .consent import Redactor


def current_transcript(interview: Interview) -> Transcript | None:
    """The version shown and indexed (``Interview.current_transcript``, loaded once per
    request and shared by every panel of the interview page)."""
    return interview.current_transcript


def versions(interview: Interview) -> list[Transcript]:
    return list(
        db.session.scalars(
            select(Transcript)
            .where(Transcript.interview_id == interview.id)
            .order_by(Transcript.version.desc())
        )
    )


def versions_query(interview: Interview):
    return (
        select(Transcript)
        .where(Transcript.interview_id == interview.id)
        .order_by(Transcript.version.desc())
    )


def get_version(interview: Interview, version: int) -> Transcript:
    found = db.session.scalar(
        select(Transcript).where(
            Transcript.interview_id == interview.id, Transcript.version == version
        )
    )
    if found is None:
        raise NotFound(f"Interview {interview.id} has no transcript version {version}.")
    return found


def restore_version(viewer: Viewer, interview: Interview, version: int) -> Transcript:
    """Make an older version current again (the newer ones stay listed)."""
    require(
        policy.can_edit_material(viewer, interview),
        lambda: policy.edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists restore "
            "transcript versions.",
        ),
    )
    catalogue.lock_interview(interview.id)
    target = get_version(interview, version)
    db.session.refresh(target)  # as stored now, after any concurrent import or restore
    if target.is_current:
        return target
    db.session.execute(
        update(Transcript)
        .where(Transcript.interview_id == interview.id, Transcript.id != target.id)
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    target.is_current = True
    target.proposed = False  # accepting a machine-made version is restoring it
    db.session.flush()
    db.session.expire(interview, ["transcripts"])
    audit.record(viewer, "transcript.restore", "interview", interview.id, version=version)
    return target


# --- shared rows ---------------------------------------------------------------------------


def retire_open_rows(interview_id: int, last_version: int) -> None:
    """End every row the newest version holds (``last_version`` NULL) at ``last_version``:
    the new version an import makes holds none of them."""
    if last_version < 1:
        return
    versions = select(Transcript.id).where(Transcript.interview_id == interview_id)
    for model in (Segment, IndexPoint):
        stmt = (
            update(model)
            .where(model.transcript_id.in_(versions), model.last_version.is_(None))
            .values(last_version=last_version)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(stmt)


# --- differences between versions -----------------------------------------------------------


@dataclass(frozen=True)
class SegmentView:
    """A segment as the diff shows it."""

    id: int
    start_ms: int | None
    end_ms: int | None
    speaker: str
    text: str

    def key(self) -> tuple:
        return (self.start_ms, self.end_ms, self.speaker, self.text)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "speaker": self.speaker,
            "text": self.text,
        }


@dataclass(frozen=True)
class Hunk:
    """One run of difference: ``old`` segments replaced by ``new`` ones (either may be
    empty). ``words`` marks the word-level change when one segment replaced one:
    ``[(op, text), ...]`` with op ``equal``, ``delete`` or ``insert``."""

    kind: str  # "changed", "added", "removed"
    old: list[SegmentView]
    new: list[SegmentView]
    words: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old": [s.as_json() for s in self.old],
            "new": [s.as_json() for s in self.new],
            "words": [{"op": op, "text": text} for op, text in self.words],
        }


@dataclass(frozen=True)
class IndexChange:
    kind: str  # "changed", "added", "removed"
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass
class VersionDiff:
    """What changed from version ``old`` to version ``new`` of one interview's transcript."""

    old: Transcript
    new: Transcript
    hunks: list[Hunk]
    index: list[IndexChange]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.hunks and not self.index

    def summary(self) -> str:
        counts = {"changed": 0, "added": 0, "removed": 0}
        for hunk in self.hunks:
            counts[hunk.kind] += max(len(hunk.old), len(hunk.new))
        parts = [f"{n} segment{'s' if n != 1 else ''} {k}" for k, n in counts.items() if n]
        if self.index:
            parts.append(f"{len(self.index)} index point{'s' if len(self.index) != 1 else ''}")
        return ", ".join(parts) or "no change"

    def as_json(self) -> dict[str, Any]:
        return {
            "from_version": self.old.version,
            "to_version": self.new.version,
            "summary": self.summary(),
            "unchanged": self.unchanged,
            "hunks": [h.as_json() for h in self.hunks],
            "index": [{"kind": c.kind, "old": c.old, "new": c.new} for c in self.index],
        }


def _segment_views(transcript: Transcript, redactor: Redactor) -> list[SegmentView]:
    names = {s.id: redactor.name(s.person_id, s.name) for s in transcript.interview.speakers}
    rows = db.session.execute(
        select(Segment.id, Segment.start_ms, Segment.end_ms, Segment.speaker_id, Segment.text)
        .where(transcript.holds(Segment))
        .order_by(Segment.position)
    )
    return [
        SegmentView(i, s, e, names.get(sp, "") if sp else "", redactor.segment(t, s, e)[0])
        for i, s, e, sp, t in rows
    ]


def _index_views(transcript: Transcript, redactor: Redactor) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "start_ms": p.start_ms,
            "title": redactor.anonymise(p.title),
            "synopsis": redactor.anonymise(p.synopsis),
            "keywords": [redactor.anonymise(k) for k in p.keywords or []],
        }
        for p in transcript.index_points
    ]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level difference of two texts: ``[(op, text), ...]`` (op ``equal``, ``delete``,
    ``insert``), consecutive words of one op joined by a space."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("insert", " ".join(b[j1:j2])))
    return out


def diff_versions(
    interview: Interview, old_version: int, new_version: int, *, redactor: Redactor
) -> VersionDiff:
    """The difference between two versions, segment by segment (a run of changed segments
    is one hunk, with a word-level diff when one segment replaced one) and index point by
    index point. Versions that share rows compare the same rows as equal without reading
    their words twice; versions imported from different files are compared by content.

    Both sides are read through ``redactor`` (required, like ``transcript_export.rows``,
    so no caller forgets it: ``consent.redactor_for``): redacted words are placeholders
    on both sides (a change inside a redaction is not shown) and anonymised names labels."""
    old, new = get_version(interview, old_version), get_version(interview, new_version)
    a, b = _segment_views(old, redactor), _segment_views(new, redactor)
    matcher = difflib.SequenceMatcher(None, [s.key() for s in a], [s.key() for s in b], False)
    hunks: list[Hunk] = []
    unchanged = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            unchanged += i2 - i1
            continue
        kind = {"replace": "changed", "delete": "removed", "insert": "added"}[op]
        words = word_diff(a[i1].text, b[j1].text) if i2 - i1 == 1 and j2 - j1 == 1 else []
        hunks.append(Hunk(kind, a[i1:i2], b[j1:j2], words))
    ia, ib = _index_views(old, redactor), _index_views(new, redactor)

    def ikey(p: dict[str, Any]) -> tuple:
        return (p["start_ms"], p["title"], p["synopsis"], tuple(p["keywords"]))

    index: list[IndexChange] = []
    imatcher = difflib.SequenceMatcher(None, [ikey(p) for p in ia], [ikey(p) for p in ib], False)
    for op, i1, i2, j1, j2 in imatcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = ia[i1:i2], ib[j1:j2]
        for n in range(max(len(olds), len(news))):
            o = olds[n] if n < len(olds) else None
            w = news[n] if n < len(news) else None
            index.append(IndexChange("changed" if o and w else "added" if w else "removed", o, w))
    return VersionDiff(old, new, hunks, index, unchanged)
