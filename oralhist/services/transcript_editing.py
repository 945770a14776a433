"""The transcript editor's use case: a batch of edits saved as one new version.

An edit batch names the version it was made on (``base_version``); if another version has
become current since, nothing is saved and ``VersionConflict`` (409) says which version is
current, who saved it and what it changed (optimistic locking: two editors can never
overwrite each other silently). Without ``base_version`` (older API clients) the batch is
made on the current version.

Operations (each a mapping with ``op``): ``update`` (``text``, ``start_ms``, ``end_ms``,
``speaker_id`` of one segment), ``split`` (at ``offset`` in the text, the second part
starting at ``at_ms``, or at the word timings, or halfway through the segment's time),
``merge`` (a segment with the next), and ``index_add`` / ``index_update`` /
``index_delete`` for index points (``start_ms``, ``title``, ``synopsis``, ``keywords``).
Segments made by a ``split`` earlier in the batch are named by the ``ref`` the split gave
them (a string), so the editor page can send a whole session of edits at once.

Only what changed is stored (``models.transcript.Segment``): the rows an edit replaces are
retired at the old version and the new rows are added under the new one; every other row is
shared. A one-word fix to a 2,000-segment transcript writes one segment row, one version row
and one retired mark (bench/bench_editor.py measures it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update

from ..access import policy, require
from ..access.policy import Viewer
from ..errors import NotFound, ValidationError, VersionConflict
from ..extensions import db
from ..models import IndexPoint, Interview, Segment, Speaker, Transcript
from ..models.transcript import POSITION_GAP
from . import audit, catalogue, consent, transcript_versions
from .fields import MAX_TIME_MS

#: Longest text of one segment (characters), and most operations in one batch.
MAX_TEXT = 20_000
MAX_OPERATIONS = 5_000
INDEX_TEXT_MAX = 20_000
KEYWORDS_MAX = 100

SEGMENT_COLUMNS = (
    "start_ms",
    "end_ms",
    "speaker_id",
    "text",
    "cue_id",
    "cue_settings",
    "note",
    "words",
)
INDEX_COLUMNS = (
    "start_ms",
    "title",
    "partial_transcript",
    "synopsis",
    "keywords",
    "subjects",
    "hyperlinks",
    "gps",
)


@dataclass
class _Entry:
    """A row of the version being built: ``row_id`` and ``key`` of the stored row it came
    from (None when new), its values, and whether it differs from that row."""

    row_id: int | None
    key: int | None
    values: dict[str, Any]
    last_version: int | None = None
    changed: bool = False
    ref: str | None = None
    #: Whether ``values`` holds every column (a stored segment's text is read on demand).
    loaded: bool = True
    #: Merged away or removed earlier in the batch.
    gone: bool = False

    def set(self, name: str, value: Any) -> None:
        if self.values.get(name) != value:
            self.values[name] = value
            self.changed = True


@dataclass
class EditResult:
    """What a saved batch made: the new version (None when nothing changed), and for each
    segment or index point named in the batch (by id or ``ref``) its id in that version
    (None: merged away or removed)."""

    transcript: Transcript
    created: bool
    segment_ids: dict[str, int | None] = field(default_factory=dict)
    index_ids: dict[str, int | None] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.transcript.version

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created": self.created,
            "changes": self.changes,
            "segment_ids": self.segment_ids,
            "index_point_ids": self.index_ids,
        }


def can_edit(viewer: Viewer, interview: Interview) -> bool:
    return policy.can_edit_transcript(viewer, interview)


def require_edit(viewer: Viewer, interview: Interview) -> None:
    require(
        policy.can_edit_transcript(viewer, interview),
        lambda: policy.edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists edit its "
            "transcript.",
        ),
    )


def segment_of(segment_id: int, viewer: Viewer) -> tuple[Segment, Interview]:
    """A stored segment and its interview, if the viewer may see the interview's record."""
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"There is no segment {segment_id}.")
    interview = segment.transcript.interview
    if not policy.can_view_record(viewer, interview):
        raise NotFound(f"There is no segment {segment_id}.")
    return segment, interview


def index_point_of(point_id: int, viewer: Viewer) -> tuple[IndexPoint, Interview]:
    point = db.session.get(IndexPoint, point_id)
    if point is None or not policy.can_view_record(viewer, point.transcript.interview):
        raise NotFound(f"There is no index point {point_id}.")
    return point, point.transcript.interview


# --- validation of one operation's values ----------------------------------------------------


def _time(value: Any, name: str, where: str, *, nullable: bool = True) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{where}: '{name}' must be a whole number of milliseconds"
            + (" or null." if nullable else "."),
            fields={name: "whole milliseconds"},
        )
    if not 0 <= value <= MAX_TIME_MS:
        raise ValidationError(
            f"{where}: '{name}' must be between 0 and {MAX_TIME_MS:,} ms.",
            fields={name: "out of range"},
        )
    return value


def _text(value: Any, name: str, where: str, *, maximum: int, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{where}: '{name}' must be text.", fields={name: "text"})
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value and not empty:
        raise ValidationError(
            f"{where}: '{name}' must not be empty (merge the segment with its neighbour "
            "to remove it).",
            fields={name: "empty"},
        )
    if len(value) > maximum:
        raise ValidationError(
            f"{where}: '{name}' is {len(value):,} characters; at most {maximum:,}.",
            fields={name: "too long"},
        )
    return value


def _keywords(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [k for k in value.split(";")]
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValidationError(
            f"{where}: 'keywords' must be a list of words (or one text separated by ';').",
            fields={"keywords": "list of text"},
        )
    words = [" ".join(k.split())[:255] for k in value if k.strip()]
    if len(words) > KEYWORDS_MAX:
        raise ValidationError(
            f"{where}: at most {KEYWORDS_MAX} keywords.", fields={"keywords": "too many"}
        )
    return words


def _check_times(values: Mapping[str, Any], where: str) -> None:
    start, end = values.get("start_ms"), values.get("end_ms")
    if start is not None and end is not None and start > end:
        raise ValidationError(
            f"{where}: the start ({start} ms) is after the end ({end} ms).",
            fields={"start_ms": "after end_ms", "end_ms": "before start_ms"},
        )


# --- the batch -------------------------------------------------------------------------------


class _Batch:
    def __init__(self, interview: Interview, current: Transcript) -> None:
        self.interview = interview
        self.current = current
        self.speakers = set(
            db.session.scalars(select(Speaker.id).where(Speaker.interview_id == interview.id))
        )
        # Only what every row needs (order, times, speaker): the texts, notes and word
        # timings of the rows an operation touches are read when it does (``full``).
        self.segments = [
            _Entry(
                row_id,
                key,
                {"start_ms": start, "end_ms": end, "speaker_id": speaker},
                last,
                loaded=False,
            )
            for row_id, key, last, start, end, speaker in db.session.execute(
                select(
                    Segment.id,
                    Segment.position,
                    Segment.last_version,
                    Segment.start_ms,
                    Segment.end_ms,
                    Segment.speaker_id,
                )
                .where(current.holds(Segment))
                .order_by(Segment.position)
            )
        ]
        self.by_id = {e.row_id: e for e in self.segments}
        self.by_ref: dict[str, _Entry] = {}
        self.points = [
            _Entry(
                row.id, row.position, {c: getattr(row, c) for c in INDEX_COLUMNS}, row.last_version
            )
            for row in db.session.execute(
                select(
                    IndexPoint.id,
                    IndexPoint.position,
                    IndexPoint.last_version,
                    *(getattr(IndexPoint, c) for c in INDEX_COLUMNS),
                )
                .where(current.holds(IndexPoint))
                .order_by(IndexPoint.position)
            )
        ]
        self.removed_segments: list[_Entry] = []
        self.removed_points: list[_Entry] = []
        self.counts = {"edited": 0, "split": 0, "merged": 0, "index": 0}
        self.touched: dict[str, _Entry | None] = {}
        self.touched_points: dict[str, _Entry | None] = {}

    # lookup ------------------------------------------------------------------------------

    def full(self, *entries: _Entry) -> None:
        """Read the stored texts, notes, cue data and word timings of these segments."""
        load_segments(entries)

    def _find(self, ref: Any, where: str) -> int:
        if isinstance(ref, bool) or not isinstance(ref, int | str) or ref == "":
            raise ValidationError(
                f"{where}: 'segment_id' must name a segment (its id, or the ref a split gave).",
                fields={"segment_id": "required"},
            )
        found = self.by_id.get(ref) if isinstance(ref, int) else self.by_ref.get(ref)
        if found is not None and not found.gone:
            return self.segments.index(found)
        if isinstance(ref, int) and any(e.row_id == ref for e in self.removed_segments):
            raise ValidationError(
                f"{where}: segment {ref} was merged away earlier in this batch.",
                fields={"segment_id": "merged away"},
            )
        raise VersionConflict(
            f"{where}: segment {ref} is not in version {self.current.version}, the current "
            "version of this transcript; reload it and edit again.",
            current_version=self.current.version,
            segment_id=ref,
        )

    def _find_point(self, ref: Any, where: str) -> int:
        if isinstance(ref, bool) or not isinstance(ref, int | str) or ref == "":
            raise ValidationError(
                f"{where}: 'index_point_id' must name an index point.",
                fields={"index_point_id": "required"},
            )
        for n, entry in enumerate(self.points):
            if (isinstance(ref, int) and entry.row_id == ref and entry.ref is None) or (
                isinstance(ref, str) and entry.ref == ref
            ):
                return n
        raise VersionConflict(
            f"{where}: index point {ref} is not in version {self.current.version}, the "
            "current version of this transcript; reload it and edit again.",
            current_version=self.current.version,
            index_point_id=ref,
        )

    # operations --------------------------------------------------------------------------

    def apply(self, n: int, op: Mapping[str, Any]) -> None:
        where = f"operation {n + 1}"
        if not isinstance(op, Mapping):
            raise ValidationError(f"{where} must be an object with 'op'.", fields={"op": "object"})
        kind = op.get("op")
        handler = {
            "update": self.update,
            "split": self.split,
            "merge": self.merge,
            "index_add": self.index_add,
            "index_update": self.index_update,
            "index_delete": self.index_delete,
        }.get(kind)  # type: ignore[arg-type]
        if handler is None:
            raise ValidationError(
                f"{where}: 'op' must be one of update, split, merge, index_add, index_update, "
                "index_delete.",
                fields={"op": "unknown operation"},
            )
        handler(op, f"{where} ({kind})")

    def update(self, op: Mapping[str, Any], where: str) -> None:
        n = self._find(op.get("segment_id"), where)
        entry = self.segments[n]
        self.full(entry)
        values = dict(entry.values)
        if "text" in op:
            values["text"] = _text(op["text"], "text", where, maximum=MAX_TEXT)
        for name in ("start_ms", "end_ms"):
            if name in op:
                values[name] = _time(op[name], name, where)
        if "speaker_id" in op:
            speaker = op["speaker_id"]
            if speaker is not None and (isinstance(speaker, bool) or not isinstance(speaker, int)):
                raise ValidationError(
                    f"{where}: 'speaker_id' must be a speaker's id or null.",
                    fields={"speaker_id": "id"},
                )
            if speaker is not None and speaker not in self.speakers:
                raise ValidationError(
                    f"{where}: speaker {speaker} is not one of this interview's speakers.",
                    fields={"speaker_id": "not a speaker of this interview"},
                )
            values["speaker_id"] = speaker
        if not any(k in op for k in ("text", "start_ms", "end_ms", "speaker_id")):
            raise ValidationError(
                f"{where}: send at least one of text, start_ms, end_ms, speaker_id.",
                fields={"text": "nothing to change"},
            )
        _check_times(values, where)
        if values.get("text") != entry.values.get("text") and entry.values.get("words"):
            values["words"] = _words_for_text(entry.values["words"], values["text"])
        before = entry.changed
        for name, value in values.items():
            entry.set(name, value)
        if entry.changed and not before:
            self.counts["edited"] += 1
        self._touch(op.get("segment_id"), entry)

    def split(self, op: Mapping[str, Any], where: str) -> None:
        n = self._find(op.get("segment_id"), where)
        entry = self.segments[n]
        self.full(entry)
        text = entry.values["text"]
        offset = op.get("offset")
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ValidationError(
                f"{where}: 'offset' (where in the text to split, in characters) is required.",
                fields={"offset": "required"},
            )
        first, second = text[:offset].strip(), text[offset:].strip()
        if not 0 < offset < len(text) or not first or not second:
            raise ValidationError(
                f"{where}: 'offset' {offset} does not split the text in two (it has "
                f"{len(text)} characters); split between words.",
                fields={"offset": "not inside the text"},
            )
        start, end = entry.values["start_ms"], entry.values["end_ms"]
        words = entry.values.get("words") or None
        head_words, tail_words = _split_words(words, text, offset)
        if "at_ms" in op and op["at_ms"] is not None:
            at = _time(op["at_ms"], "at_ms", where)
        elif tail_words and tail_words[0][1] is not None:
            at = tail_words[0][1]
        elif start is not None and end is not None:
            at = start + (end - start) * offset // max(len(text), 1)
        else:
            at = None
        if at is not None and (
            (start is not None and at < start) or (end is not None and at > end)
        ):
            raise ValidationError(
                f"{where}: 'at_ms' {at} is outside the segment ({start}..{end} ms).",
                fields={"at_ms": "outside the segment"},
            )
        ref = op.get("ref")
        if ref is not None and (not isinstance(ref, str) or not ref or len(ref) > 64):
            raise ValidationError(
                f"{where}: 'ref' must be a short text naming the new segment.",
                fields={"ref": "text"},
            )
        if ref is not None and (ref in self.touched or ref in self.by_ref):
            raise ValidationError(f"{where}: 'ref' {ref!r} is used twice.", fields={"ref": "dup"})
        entry.set("text", first)
        entry.set("end_ms", at if at is not None else end)
        entry.set("words", head_words)
        tail_values = dict(entry.values)
        tail_values.update(
            text=second,
            start_ms=at if at is not None else start,
            end_ms=end,
            words=tail_words,
            cue_id=None,
            note=None,
        )
        tail = _Entry(None, None, tail_values, changed=True, ref=ref)
        self.segments.insert(n + 1, tail)
        if ref is not None:
            self.by_ref[ref] = tail
        self.counts["split"] += 1
        self._touch(op.get("segment_id"), entry)
        if ref is not None:
            self.touched[ref] = tail

    def merge(self, op: Mapping[str, Any], where: str) -> None:
        n = self._find(op.get("segment_id"), where)
        if n + 1 >= len(self.segments):
            raise ValidationError(
                f"{where}: the last segment has no next segment to merge with.",
                fields={"segment_id": "last segment"},
            )
        entry, nxt = self.segments[n], self.segments[n + 1]
        self.full(entry, nxt)
        if entry.values["speaker_id"] != nxt.values["speaker_id"]:
            raise ValidationError(
                f"{where}: the next segment has another speaker; give both the same speaker "
                "before merging them.",
                fields={"segment_id": "different speakers"},
            )
        ends = [v for v in (entry.values["end_ms"], nxt.values["end_ms"]) if v is not None]
        words = None
        if entry.values.get("words") and nxt.values.get("words"):
            words = list(entry.values["words"]) + list(nxt.values["words"])
        notes = [v for v in (entry.values.get("note"), nxt.values.get("note")) if v]
        entry.set("text", f"{entry.values['text']} {nxt.values['text']}")
        entry.set("end_ms", max(ends) if ends else None)
        entry.set("words", words)
        entry.set("note", "\n".join(notes) or None)
        del self.segments[n + 1]
        nxt.gone = True
        if nxt.row_id is not None:
            self.removed_segments.append(nxt)
        for name, touched in list(self.touched.items()):
            if touched is nxt:
                self.touched[name] = None
        if nxt.ref is None and nxt.row_id is not None:
            self.touched[str(nxt.row_id)] = None
        self.counts["merged"] += 1
        self._touch(op.get("segment_id"), entry)

    def _point_values(self, op: Mapping[str, Any], where: str, values: dict[str, Any]) -> None:
        if "start_ms" in op:
            values["start_ms"] = _time(op["start_ms"], "start_ms", where, nullable=False)
        for name in ("title", "synopsis", "partial_transcript"):
            if name in op:
                values[name] = _text(op[name], name, where, maximum=INDEX_TEXT_MAX, empty=True)
        if "keywords" in op:
            values["keywords"] = _keywords(op["keywords"], where)
        if not values.get("title"):
            raise ValidationError(
                f"{where}: an index point needs a 'title'.", fields={"title": "required"}
            )

    def _place_point(self, entry: _Entry) -> None:
        """Insert ``entry`` among the points in time order (after those starting with it)."""
        at = len(self.points)
        for n, other in enumerate(self.points):
            if other.values["start_ms"] > entry.values["start_ms"]:
                at = n
                break
        self.points.insert(at, entry)

    def index_add(self, op: Mapping[str, Any], where: str) -> None:
        if "start_ms" not in op:
            raise ValidationError(
                f"{where}: 'start_ms' is required.", fields={"start_ms": "required"}
            )
        values: dict[str, Any] = {
            "start_ms": 0,
            "title": "",
            "partial_transcript": "",
            "synopsis": "",
            "keywords": [],
            "subjects": [],
            "hyperlinks": [],
            "gps": None,
        }
        self._point_values(op, where, values)
        ref = op.get("ref")
        entry = _Entry(None, None, values, changed=True, ref=ref if isinstance(ref, str) else None)
        self._place_point(entry)
        self.counts["index"] += 1
        if entry.ref:
            self.touched_points[entry.ref] = entry

    def index_update(self, op: Mapping[str, Any], where: str) -> None:
        ref = op.get("index_point_id")
        n = self._find_point(ref, where)
        entry = self.points.pop(n)
        values = dict(entry.values)
        self._point_values(op, where, values)
        before = entry.changed
        for name, value in values.items():
            entry.set(name, value)
        self._place_point(entry)  # a changed point gets a new row, at its (new) time
        if entry.changed and not before:
            self.counts["index"] += 1
        self.touched_points[str(ref)] = entry

    def index_delete(self, op: Mapping[str, Any], where: str) -> None:
        ref = op.get("index_point_id")
        entry = self.points.pop(self._find_point(ref, where))
        if entry.row_id is not None:
            self.removed_points.append(entry)
        self.counts["index"] += 1
        self.touched_points[str(ref)] = None

    def _touch(self, ref: Any, entry: _Entry) -> None:
        if ref is not None:
            self.touched[str(ref)] = entry


def load_segments(entries) -> None:
    """Fill in the stored columns of segment entries read without them (one query per
    500), so a batch reads the texts of the segments it touches, not of all 2,000."""
    missing = {e.row_id: e for e in entries if not e.loaded and e.row_id is not None}
    ids = sorted(missing)
    rest = [c for c in SEGMENT_COLUMNS if c not in ("start_ms", "end_ms", "speaker_id")]
    for at in range(0, len(ids), 500):
        rows = db.session.execute(
            select(Segment.id, *(getattr(Segment, c) for c in rest)).where(
                Segment.id.in_(ids[at : at + 500])
            )
        )
        for row_id, *values in rows:
            entry = missing[row_id]
            entry.values.update(zip(rest, values, strict=True))
            entry.loaded = True


def _words_for_text(words: Sequence[Sequence[Any]], text: str) -> list | None:
    """Keep word timings when the edited text still has the same words (a changed
    punctuation or case); drop them when the words themselves changed, since their
    times would then belong to other words."""
    tokens = text.split()
    if len(tokens) != len(words):
        return None
    return [[token, *word[1:]] for token, word in zip(tokens, words, strict=True)]


def _split_words(
    words: Sequence[Sequence[Any]] | None, text: str, offset: int
) -> tuple[list | None, list | None]:
    """The word timings of the two parts of a split at ``offset`` (by word count)."""
    if not words:
        return None, None
    head_count = len(text[:offset].split())
    if len(text.split()) != len(words):
        return None, None
    head, tail = list(words[:head_count]), list(words[head_count:])
    return head or None, tail or None


def allocate_keys(keys: Sequence[int | None]) -> tuple[list[int], set[int]]:
    """Sort keys for a sequence of rows in order, where None marks a row that needs one.

    Rows keep their keys where they can (a kept key is never changed, since a shared row
    cannot move); new rows take evenly spaced keys in the gap between their kept
    neighbours. When a gap is too narrow, the next kept row is given up (re-keyed, which
    means copied) until it is wide enough. Returns the keys and the indexes of rows that
    were given up. Pure, so it is unit-tested on its own."""
    out: list[int | None] = list(keys)
    given_up: set[int] = set()
    n = 0
    while n < len(out):
        if out[n] is not None:
            n += 1
            continue
        run_start = n
        while n < len(out) and out[n] is None:
            n += 1
        low = out[run_start - 1] if run_start > 0 else None
        while True:
            count = n - run_start
            high = out[n] if n < len(out) else None
            if low is None and high is None:
                values = [(i + 1) * POSITION_GAP for i in range(count)]
            elif high is None:
                values = [low + (i + 1) * POSITION_GAP for i in range(count)]  # type: ignore[operator]
            elif low is None:
                values = [high - (count - i) * POSITION_GAP for i in range(count)]
            elif high - low > count:
                step = (high - low) / (count + 1)
                values = [low + int(step * (i + 1)) for i in range(count)]
            else:
                given_up.add(n)
                out[n] = None
                n += 1
                continue
            for i, value in enumerate(values):
                out[run_start + i] = value
            break
    return [int(k) for k in out], given_up  # type: ignore[arg-type]


def save_edits(
    viewer: Viewer,
    interview: Interview,
    operations: Sequence[Mapping[str, Any]],
    base_version: Any = None,
) -> EditResult:
    """Apply ``operations`` to the current version and store the result as a new current
    version by ``viewer`` (see the module docstring). Raises ``VersionConflict`` (409) when
    ``base_version`` is not the current version, ``ValidationError`` (422, naming the
    operation and field) for a bad operation; nothing is saved in either case. The caller
    commits."""
    require_edit(viewer, interview)
    if base_version is not None and (
        isinstance(base_version, bool) or not isinstance(base_version, int)
    ):
        raise ValidationError(
            "'base_version' must be the version number the edit was made on.",
            fields={"base_version": "whole number"},
        )
    if not isinstance(operations, Sequence) or isinstance(operations, str | bytes):
        raise ValidationError(
            "'operations' must be a list.", fields={"operations": "list of operations"}
        )
    if not operations:
        raise ValidationError("Send at least one operation.", fields={"operations": "empty"})
    if len(operations) > MAX_OPERATIONS:
        raise ValidationError(
            f"At most {MAX_OPERATIONS:,} operations in one save.",
            fields={"operations": "too many"},
        )
    catalogue.lock_interview(interview.id)
    db.session.expire(interview, ["transcripts"])
    current = db.session.scalar(
        select(Transcript).where(
            Transcript.interview_id == interview.id, Transcript.is_current.is_(True)
        )
    )
    if current is None:
        raise NotFound(f"Interview {interview.id} has no transcript to edit yet.")
    if base_version is not None and base_version != current.version:
        raise _conflict(viewer, interview, base_version, current)
    batch = _Batch(interview, current)
    for n, op in enumerate(operations):
        batch.apply(n, op)
    for entry in batch.segments:
        _check_times(entry.values, "the edited transcript")
    changed = [e for e in batch.segments if e.changed or e.row_id is None]
    changed_points = [e for e in batch.points if e.changed or e.row_id is None]
    if (
        not changed
        and not batch.removed_segments
        and not changed_points
        and not (batch.removed_points)
    ):
        return EditResult(current, False, _ids(batch.touched), _ids(batch.touched_points))
    newest = db.session.scalar(
        select(func.max(Transcript.version)).where(Transcript.interview_id == interview.id)
    )
    version = newest + 1
    summary = {k: v for k, v in batch.counts.items() if v}
    db.session.execute(
        update(Transcript)
        .where(Transcript.interview_id == interview.id, Transcript.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    transcript = Transcript(
        interview_id=interview.id,
        version=version,
        is_current=True,
        language=current.language,
        source_format=current.source_format,
        source_filename=current.source_filename,
        segment_count=len(batch.segments),
        warnings=[],
        created_by_id=viewer.user_id,
        base_version=current.version,
        changes=summary,
    )
    db.session.add(transcript)
    db.session.flush()
    _store(
        Segment,
        SEGMENT_COLUMNS,
        batch.segments,
        batch.removed_segments,
        transcript,
        newest,
        current,
    )
    _store(
        IndexPoint, INDEX_COLUMNS, batch.points, batch.removed_points, transcript, newest, current
    )
    db.session.expire(interview, ["transcripts"])
    audit.record(
        viewer,
        "transcript.edit",
        "interview",
        interview.id,
        version=version,
        base_version=current.version,
        **summary,
    )
    return EditResult(transcript, True, _ids(batch.touched), _ids(batch.touched_points), summary)


def _ids(touched: Mapping[str, _Entry | None]) -> dict[str, int | None]:
    return {name: (e.row_id if e is not None else None) for name, e in touched.items()}


def _store(
    model: type,
    columns: Sequence[str],
    entries: list[_Entry],
    removed: list[_Entry],
    transcript: Transcript,
    newest: int,
    base: Transcript,
) -> None:
    """Write the new version's rows of ``model``.

    - an unchanged row the newest version holds stays shared (its range grows by one);
    - a changed one keeps its id (links, search results and the editor page keep naming
      it): its old values go into a new history row that ends at ``newest``, and the row
      itself is updated and now starts at the new version;
    - a row removed by a merge or delete ends at ``newest``;
    - new rows (a split's second part, a new index point), and rows of an older base that
      the newest version no longer holds, are inserted.
    """
    open_row = [e.row_id is not None and e.last_version is None for e in entries]
    keys: list[int | None] = [
        e.key if is_open else None for e, is_open in zip(entries, open_row, strict=True)
    ]
    allocated, given_up = allocate_keys(keys)
    in_place = [n for n, e in enumerate(entries) if open_row[n] and (e.changed or n in given_up)]
    kept_ids = {e.row_id for e, is_open in zip(entries, open_row, strict=True) if is_open}
    retire = {e.row_id for e in removed if e.last_version is None}
    if base.version != newest:
        # Rows the newest version holds that the edited (older) version does not.
        versions = select(Transcript.id).where(Transcript.interview_id == transcript.interview_id)
        retire |= (
            set(
                db.session.scalars(
                    select(model.id).where(
                        model.transcript_id.in_(versions), model.last_version.is_(None)
                    )
                )
            )
            - kept_ids
        )
    retire.discard(None)
    if retire:
        ordered = sorted(retire)
        for at in range(0, len(ordered), 500):
            db.session.execute(
                update(model)
                .where(model.id.in_(ordered[at : at + 500]))
                .values(last_version=newest)
                .execution_options(synchronize_session=False)
            )
    if in_place:
        if model is Segment:  # re-keyed rows were not read by any operation
            load_segments([entries[n] for n in in_place])
        # The stored values, as the versions up to ``newest`` hold them (history).
        ids = [entries[n].row_id for n in in_place]
        old = db.session.execute(
            select(
                model.transcript_id, model.position, *(getattr(model, c) for c in columns)
            ).where(model.id.in_(ids))
        ).all()
        # The row moves to the new version first, freeing its place for the history row.
        db.session.execute(
            update(model),
            [
                {
                    "id": entries[n].row_id,
                    "transcript_id": transcript.id,
                    "position": allocated[n],
                    **{c: entries[n].values.get(c) for c in columns},
                }
                for n in in_place
            ],
        )
        db.session.execute(
            insert(model),
            [
                {
                    "transcript_id": r[0],
                    "position": r[1],
                    "last_version": newest,
                    **dict(zip(columns, r[2:], strict=True)),
                }
                for r in old
            ],
        )
    if model is Segment:  # rows of an older base copied into the new version
        load_segments([e for n, e in enumerate(entries) if not open_row[n]])
    rows = []
    fresh: list[_Entry] = []
    for n, entry in enumerate(entries):
        if open_row[n]:
            continue
        rows.append(
            {
                "transcript_id": transcript.id,
                "position": allocated[n],
                **{c: entry.values.get(c) for c in columns},
            }
        )
        fresh.append(entry)
    if rows:
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        new_ids = db.session.scalars(stmt, rows).all()
        for entry, new_id in zip(fresh, new_ids, strict=True):
            entry.row_id = new_id
            entry.ref = None


def _conflict(
    viewer: Viewer, interview: Interview, base_version: int, current: Transcript
) -> VersionConflict:
    newer = db.session.scalars(
        select(Transcript)
        .where(Transcript.interview_id == interview.id, Transcript.version > base_version)
        .order_by(Transcript.version)
    ).all()
    saved = [
        {
            "version": t.version,
            "by": t.created_by.display_name if t.created_by else None,
            "at": t.created_at.isoformat() if t.created_at else None,
            "changes": t.changes or {"imported": t.source_filename},
        }
        for t in newer
    ]
    what = ""
    exists = db.session.scalar(
        select(Transcript.id).where(
            Transcript.interview_id == interview.id, Transcript.version == base_version
        )
    )
    changes: list[dict[str, Any]] = []
    touched: list[int] | None = None
    touched_points: list[int] | None = None
    if exists is not None:
        diff = transcript_versions.diff_versions(
            interview,
            base_version,
            current.version,
            redactor=consent.redactor_for(viewer, interview),
        )
        what = f" It differs from version {base_version} in: {diff.summary()}."
        changes = [h.as_json() for h in diff.hunks[:20]]
        # Every segment the newer versions changed (by id, old and new): an editor whose own
        # changes touch none of them may apply them again on the current version.
        touched = sorted({s.id for h in diff.hunks for s in (*h.old, *h.new)})
        touched_points = sorted({p["id"] for c in diff.index for p in (c.old, c.new) if p})
    by = current.created_by.display_name if current.created_by else "someone"
    return VersionConflict(
        f"Version {current.version} of this transcript was saved by {by} while you were "
        f"editing version {base_version}; nothing of yours was saved.{what} Reload the "
        "transcript, then make your changes again.",
        current_version=current.version,
        base_version=base_version,
        saved=saved,
        changes=changes,
        changed_segment_ids=touched,
        changed_index_point_ids=touched_points,
    )
