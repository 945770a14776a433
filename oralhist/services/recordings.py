"""Recordings: the parts of an interview's audio (tape 1 side A, ...).

The files live in content-addressed storage (``oralhist.media.storage.Storage``): a row points
at a storage key, and the same bytes uploaded twice are stored once, shared by both rows. A file
is removed only when no row (a Recording, or a Document's attachment) uses its key any more,
and only after the database commit (``remove_unused_files``), so a rolled-back delete never
loses audio.

Embedded tags: ingest records them on the Recording and never touches the catalogue record on
its own. ``tag_suggestions`` says which EMPTY catalogue fields the tags could fill (the
interview page offers a "Use embedded tags" button for them) and ``apply_embedded_tags``
fills only those: a human decides, and nothing typed by a cataloguer is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any, BinaryIO, Protocol

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..access import require
from ..access.policy import (
    Viewer,
    can_edit_material,
    can_manage,
    can_view_record,
    edit_refusal,
)
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..media.probe import FAMILIES, AudioInfo, probe_audio
from ..media.storage import Storage, display_filename, open_storage
from ..models import (
    Derivative,
    Document,
    Interview,
    Recording,
    ReleaseAgreement,
    StagedAudio,
)
from . import catalogue
from .fields import Fields, parse_partial_date


def storage() -> Storage:
    """The archive's media storage (``MEDIA_STORAGE``: files under ``MEDIA_ROOT`` by default),
    one per app. Callers use only the ``Storage`` protocol: no local paths."""
    found = current_app.extensions.get("oralhist_storage")
    if found is None:
        found = current_app.extensions["oralhist_storage"] = open_storage(current_app.config)
    return found


def get_recording(recording_id: int, viewer: Viewer) -> Recording:
    """The recording, if the viewer may see its interview's record (else 'not found')."""
    # The interview comes in the same query: every audio range request needs it.
    recording = db.session.get(Recording, recording_id, options=[joinedload(Recording.interview)])
    if recording is None or not can_view_record(viewer, recording.interview):
        raise NotFound(f"There is no recording {recording_id}.")
    return recording


#: What probing a file tells about its audio, stored alike on a Recording and on audio
#: staged for a deposit (``StagedAudio``).
AUDIO_COLUMNS = (
    "format",
    "mime",
    "codec",
    "duration_ms",
    "sample_rate",
    "channels",
    "bitrate",
    "browser_playable",
)


def audio_columns(source: Any) -> dict[str, Any]:
    """The audio facts of ``source`` (a probe's ``AudioInfo``, or a row that stores them)
    as column values."""
    return {name: getattr(source, name) for name in AUDIO_COLUMNS} | {
        "tags": dict(source.tags or {})
    }


def add_recording(
    viewer: Viewer,
    interview: Interview,
    stream: BinaryIO,
    filename: str,
    *,
    label: str = "",
    max_bytes: int | None = None,
) -> Recording:
    """Store the audio read from ``stream`` as the interview's next part.

    The bytes go straight to storage while being hashed; ``probe_audio`` validates the
    temporary file (by content, checking the name's claim), and on any failure (too large,
    cut off, not audio) the temporary file is removed and no row is added. ``max_bytes``
    defaults to ``MAX_CONTENT_LENGTH``.
    """
    require(
        can_edit_material(viewer, interview),
        lambda: edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists add recordings.",
        ),
    )
    name = display_filename(filename)
    label = _clean_label(label)
    if max_bytes is None:
        max_bytes = current_app.config.get("MAX_CONTENT_LENGTH")
    probed: list[AudioInfo] = []

    def validate(path) -> None:
        probed.append(probe_audio(path, name))

    stored = storage().save_stream(stream, max_bytes=max_bytes, validate=validate)
    info = probed[0]
    # One upload at a time takes the next position (the unique constraint is the backstop).
    catalogue.lock_interview(interview.id)
    position = db.session.scalar(
        select(func.coalesce(func.max(Recording.position) + 1, 0)).where(
            Recording.interview_id == interview.id
        )
    )
    recording = Recording(
        interview=interview,
        position=position,
        label=label,
        original_filename=name,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        **audio_columns(info),
        uploaded_by_id=viewer.user_id,
    )
    if stored.created:
        # A change that does not commit leaves no file behind.
        from .. import transaction

        transaction.on_rollback(partial(remove_unused_files, [stored.key]))
    db.session.add(recording)
    db.session.flush()
    # Its access copy and waveform are made in the background (media.derivatives).
    from ..media import derivatives

    derivatives.request_at_ingest(recording, user=viewer)
    return recording


class UploadForm(Protocol):
    """A multipart upload read part by part (``oralhist.web.streamed_upload.StreamedForm``):
    the service needs only these, so it does not depend on the web layer."""

    file_name: str | None
    filename: str | None
    fields: Mapping[str, str]

    @property
    def file(self) -> BinaryIO: ...

    def finish(self) -> None: ...

    def next_file(self) -> bool: ...


def add_uploads(
    viewer: Viewer, interview: Interview, form: UploadForm | None, *, several: bool = False
) -> list[Recording]:
    """Read the streamed ``file`` part (``several``: every file part, in order) into new
    Recordings.

    Shared by the page and the API: checks access before reading the file's bytes. Files
    stored by a request that then fails are removed when its unit of work rolls back
    (``add_recording`` registers them), so several files are added all together or not at
    all. A ``label`` applies when there is one file.
    """
    require(
        can_edit_material(viewer, interview),
        lambda: edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists add recordings.",
        ),
    )
    if form is None or form.file_name is None:
        raise ValidationError(
            "Send the audio as multipart/form-data in a field named “file”.",
            fields={"file": "is required"},
        )
    added: list[Recording] = []
    while True:
        if form.file_name != "file":
            raise ValidationError(
                f"The file must be sent in a field named “file”, not “{form.file_name}”.",
                fields={"file": "is required"},
            )
        added.append(add_recording(viewer, interview, form.file, form.filename or ""))
        if not several:
            form.finish()
            break
        if not form.next_file():
            break
    if len(added) == 1:  # the label may come before or after the file
        added[0].label = " ".join(form.fields.get("label", "").split())[:255]
    return added


def format_label(recording: Recording) -> str:
    """ "MP3", "WAV", ... for messages."""
    return FAMILIES.get(recording.format, (recording.format.upper(), ""))[0]


def update_recording(viewer: Viewer, recording: Recording, data: dict[str, Any]) -> Recording:
    """Change a part's ``label`` and/or ``position`` (0-based; the others shift)."""
    require(
        can_edit_material(viewer, recording.interview),
        lambda: edit_refusal(viewer, recording.interview, "You may not change this recording."),
    )
    fields = Fields(data, partial=True)
    fields.string("label", max_length=255)
    fields.integer("position", minimum=0)
    if fields.errors:
        raise ValidationError("The recording could not be saved.", fields=fields.errors)
    if "label" in fields.values:
        recording.label = _clean_label(fields.values["label"])
    if fields.values.get("position") is not None:
        move_recording(viewer, recording, fields.values["position"])
    db.session.flush()
    return recording


def move_recording(viewer: Viewer, recording: Recording, position: int) -> None:
    """Put ``recording`` at ``position`` among its interview's parts and renumber 0..n-1."""
    require(
        can_edit_material(viewer, recording.interview),
        lambda: edit_refusal(viewer, recording.interview, "You may not reorder recordings."),
    )
    catalogue.lock_interview(recording.interview_id)
    parts = [r for r in _parts(recording.interview_id) if r.id != recording.id]
    position = max(0, min(int(position), len(parts)))
    parts.insert(position, recording)
    _renumber(parts)


def delete_recording(viewer: Viewer, recording: Recording) -> str:
    """Remove the row (archivists only); its file (and its derivatives') goes once the
    change is committed and no row uses its bytes (``remove_unused_files``). Returns its
    storage key."""
    require(can_manage(viewer, recording.interview), "Only archivists delete recordings.")
    key = recording.storage_key
    interview_id = recording.interview_id
    catalogue.lock_interview(interview_id)
    db.session.delete(recording)
    db.session.flush()
    _renumber(_parts(interview_id))
    from .. import transaction
    from ..media import derivatives

    # Its derivatives go too, unless another recording has the same bytes.
    derived = derivatives.forget_unused([recording.sha256])
    transaction.on_commit(partial(remove_unused_files, [key, *derived]))
    return key


def keys_in_use(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` some row (Recording, Document attachment, derivative, or audio staged
    for a deposit) still points at."""
    keys = set(keys)
    if not keys:
        return set()
    used = set(
        db.session.scalars(select(Recording.storage_key).where(Recording.storage_key.in_(keys)))
    )
    used |= set(db.session.scalars(select(Document.file_key).where(Document.file_key.in_(keys))))
    used |= set(
        db.session.scalars(select(Derivative.storage_key).where(Derivative.storage_key.in_(keys)))
    )
    used |= set(
        db.session.scalars(select(StagedAudio.storage_key).where(StagedAudio.storage_key.in_(keys)))
    )
    used |= set(
        db.session.scalars(
            select(ReleaseAgreement.form_key).where(ReleaseAgreement.form_key.in_(keys))
        )
    )
    return used


def remove_unused_files(keys: Iterable[str]) -> list[str]:
    """Delete the stored files of ``keys`` that no row uses; call after the commit."""
    keys = set(keys)
    removable = sorted(keys - keys_in_use(keys))
    media = storage()
    for key in removable:
        media.delete(key)
    return removable


# -- embedded tags -------------------------------------------------------------------------


def tag_suggestions(interview: Interview, recordings: Iterable[Recording] | None = None) -> dict:
    """Empty catalogue fields the recordings' embedded tags could fill: ``{field: value}``.

    Only ``date_recorded`` (a tag date that is a valid partial ISO date) and ``summary``
    (from a comment) are offered; the title is required at deposit, so it is never empty.
    """
    suggestions: dict[str, str] = {}
    for recording in recordings if recordings is not None else interview.recordings:
        tags = recording.tags or {}
        date = (tags.get("date") or "").strip()[:10]
        if not interview.date_recorded and "date_recorded" not in suggestions and date:
            try:
                suggestions["date_recorded"] = parse_partial_date(date)
            except ValueError:
                if date[:4].isdigit():
                    suggestions["date_recorded"] = date[:4]
        comment = (tags.get("comment") or "").strip()
        if not interview.summary and "summary" not in suggestions and comment:
            suggestions["summary"] = comment[:5000]
    return suggestions


def apply_embedded_tags(viewer: Viewer, interview: Interview) -> dict:
    """Fill the empty catalogue fields from embedded tags; returns what was filled."""
    require(
        can_edit_material(viewer, interview),
        lambda: edit_refusal(viewer, interview, "You may not edit this record."),
    )
    filled = tag_suggestions(interview)
    for field, value in filled.items():
        setattr(interview, field, value)
    if filled:
        db.session.flush()
    return filled


# -- the global timeline -------------------------------------------------------------------


def timeline(recordings: Iterable[Recording]) -> list[tuple[Recording, int]]:
    """Each part with its start on the interview's global timeline (ms)."""
    offset = 0
    result = []
    for recording in recordings:
        result.append((recording, offset))
        offset += recording.duration_ms or 0
    return result


def _renumber(parts: list[Recording]) -> None:
    """Give ``parts`` the positions 0..n-1 in their list order. Positions are unique per
    interview (``uq_recording_position``) and each row is updated on its own, so swapping two
    parts directly would collide: every changed part first moves to a negative position that
    no other part holds, then to its place."""
    changed = [(index, part) for index, part in enumerate(parts) if part.position != index]
    if not changed:
        return
    for index, part in changed:
        part.position = -1 - index
    db.session.flush()
    for index, part in changed:
        part.position = index
    db.session.flush()


def _parts(interview_id: int) -> list[Recording]:
    return list(
        db.session.scalars(
            select(Recording)
            .where(Recording.interview_id == interview_id)
            .order_by(Recording.position, Recording.id)
        )
    )


def _clean_label(label: str | None) -> str:
    return " ".join((label or "").split())[:255]
