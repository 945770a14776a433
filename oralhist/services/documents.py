"""Documents the interviews discuss: the catalogue, the attached file and its full text.

A document has a title, creators (People), a partial date, a type, a publisher, a
description, a citation, an external URL (http/https only), an access level, and optionally
an attached PDF or image and its full text. The file is streamed into content-addressed
storage (the same ``Storage`` as recordings), validated by its content
(``probe_attachment``), and its sha256 is recorded for fixity. When the full-text field is
left empty, the text layer of an attached PDF fills it (``extract_pdf_text``).

Who sees what (``policy.can_view_document``): a document whose level the viewer may not see
does not exist for them: every lookup here raises ``NotFound``, and lists leave it out.

Nothing half-saved: a file stored by a save whose transaction then rolls back is removed
again (``transaction.on_rollback``). Nothing left over either: the file a save replaces or
removes is deleted from storage once the change is committed and no row uses its bytes any
more (``transaction.on_commit``; else fixity would report it as an orphan forever); the
audit event of the save names its sha256.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select

from ..access import clauses, policy, require
from ..access.policy import Viewer
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..media.attachments import AttachmentInfo, extract_pdf_text, probe_attachment
from ..media.storage import display_filename
from ..models import Document, DocumentCreator, Person
from ..models.types import ACCESS_LEVELS, DOCUMENT_TYPES
from . import audit, catalogue
from .fields import Fields, record_id

SORTS = {
    "title": (func.lower(Document.title).asc(), Document.id.asc()),
    "-title": (func.lower(Document.title).desc(), Document.id.desc()),
    "date": (Document.date.asc(), Document.id.asc()),
    "-date": (Document.date.desc(), Document.id.desc()),
    "added": (Document.created_at.asc(), Document.id.asc()),
    "-added": (Document.created_at.desc(), Document.id.desc()),
}
TYPE_LABELS = {
    "pamphlet": "Pamphlet",
    "letter": "Letter",
    "article": "Article",
    "minutes": "Minutes",
    "photograph": "Photograph",
    "other": "Other",
}
TEXT_FIELDS = {"publisher": 255, "description": 50_000, "citation": 5_000}
MAX_FULL_TEXT = 2_000_000
MAX_CREATORS = 50
# --- reading -------------------------------------------------------------------------------


def get_document(document_id: int, viewer: Viewer) -> Document:
    """The document, if this viewer may see it; else ``NotFound`` (its title is not told)."""
    document = db.session.get(Document, document_id)
    if document is None or not policy.can_view_document(viewer, document):
        raise NotFound(f"There is no document {document_id}.")
    return document


def visible_clause(viewer: Viewer):
    """SQL condition: documents this viewer may see (the policy's
    ``clauses.visible_documents_clause``, twin of ``policy.can_view_document``)."""
    return clauses.visible_documents_clause(viewer)


def document_query(viewer: Viewer, args: Mapping[str, Any]):
    """The filtered, sorted select behind the document list (page and API alike).

    Filters: ``type``, ``year_from``/``year_to``, ``access_level``, ``creator`` (person id),
    ``q`` (title contains). Sort: ``sort`` one of ``SORTS``. Only visible documents.
    """
    fields = Fields(args)
    fields.choice("type", DOCUMENT_TYPES, default="")
    fields.integer("year_from", minimum=0)
    fields.integer("year_to", minimum=0)
    fields.choice("access_level", ACCESS_LEVELS, default="")
    fields.integer("creator", minimum=1)
    fields.choice("sort", SORTS, default="title")
    fields.string("q", max_length=200)
    values = fields.check()
    stmt = select(Document).where(visible_clause(viewer))
    if values.get("type"):
        stmt = stmt.where(Document.doc_type == values["type"])
    if values.get("year_from") is not None:
        stmt = stmt.where(Document.date >= f"{values['year_from']:04d}")
    if values.get("year_to") is not None:
        stmt = stmt.where(Document.date < f"{values['year_to'] + 1:04d}", Document.date != "")
    if values.get("access_level"):
        stmt = stmt.where(Document.access_level == values["access_level"])
    if values.get("creator"):
        stmt = stmt.where(Document.creators.any(DocumentCreator.person_id == values["creator"]))
    if values.get("q"):
        stmt = stmt.where(func.lower(Document.title).contains(values["q"].lower()))
    return stmt.order_by(*SORTS[values["sort"]]), values


def linkable_documents(viewer: Viewer) -> list[Document]:
    """Documents offered in the interview page's "Link a passage" form."""
    return list(
        db.session.scalars(
            select(Document).where(visible_clause(viewer)).order_by(func.lower(Document.title))
        )
    )


# --- formatting ----------------------------------------------------------------------------

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_partial_date(value: str | None) -> str:
    """``1957`` -> "1957", ``1957-03`` -> "March 1957", ``1957-03-12`` -> "12 March 1957"."""
    if not value:
        return ""
    parts = value.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return value
    return value


# --- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """An attached file as the web layer hands it over: a readable stream and its name."""

    stream: BinaryIO
    filename: str


def check_external_url(value: str) -> str:
    """An http(s) URL with a host, or "" (``javascript:``, ``data:`` ... are refused)."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be a web address starting with http:// or https://")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def save_document(
    viewer: Viewer,
    data: Mapping[str, Any],
    document: Document | None = None,
    *,
    upload: Upload | None = None,
) -> Document:
    """Create (``document`` None) or update a document, with its creators and file.

    ``creators`` (optional; replaces the list) is a list whose items are a person id, a
    ``{"person_id": n}`` or a ``{"name": "..."}`` (an existing person of exactly that name,
    else a new one). ``remove_file`` true detaches the file. Every field is checked before
    the file is stored, so a bad field never leaves a file behind.
    """
    creating = document is None
    require(
        policy.can_edit_document(viewer, document),
        "Only contributors and archivists add documents; a contributor edits their own."
        if creating
        else "You may edit only documents you added (archivists edit any).",
    )
    fields = Fields(data, partial=not creating)
    fields.string("title", required=creating or fields.present("title"), max_length=500)
    fields.choice("doc_type", DOCUMENT_TYPES, default="other" if creating else None)
    fields.partial_date("date")
    for name, length in TEXT_FIELDS.items():
        fields.string(name, max_length=length)
    fields.string("external_url", max_length=2000)
    fields.choice("access_level", ACCESS_LEVELS, default="open" if creating else None)
    fields.string("full_text", max_length=MAX_FULL_TEXT)
    if "external_url" in fields.values:
        try:
            fields.values["external_url"] = check_external_url(fields.values["external_url"])
        except ValueError as exc:
            fields.errors["external_url"] = str(exc)
    creators = None
    if "creators" in data:
        try:
            creators = _parse_creators(data["creators"])
        except ValueError as exc:
            fields.errors["creators"] = str(exc)
    values = fields.check()
    if (
        not creating
        and "access_level" in values
        and not policy.can_set_document_level(viewer, values["access_level"])
    ):
        raise ValidationError(
            "Only archivists give a document a level you could not see yourself.",
            fields={"access_level": "only archivists set this level"},
        )
    if creating and not policy.can_set_document_level(viewer, values["access_level"]):
        raise ValidationError(
            f"Only archivists add {values['access_level']} documents.",
            fields={"access_level": "only archivists set this level"},
        )

    if creating:
        document = Document(created_by_id=viewer.user_id)
        db.session.add(document)
    for key, value in values.items():
        setattr(document, key, value)
    if creators is not None:
        _set_creators(viewer, document, creators)
    old_key, old_sha256 = document.file_key, document.file_sha256
    if _truthy(data.get("remove_file")) and upload is None:
        for attr in ("file_key", "file_sha256", "file_size", "file_mime", "file_name"):
            setattr(document, attr, None)
    if upload is not None:
        text_given = bool(values.get("full_text")) or (not creating and document.full_text)
        _attach(document, upload, extract_text=not text_given)
    db.session.flush()
    replaced = old_key is not None and document.file_key != old_key
    if replaced:
        from .. import transaction
        from .recordings import remove_unused_files

        transaction.on_commit(partial(remove_unused_files, [old_key]))
    audit.record(
        viewer,
        "document.create" if creating else "document.update",
        "document",
        document.id,
        file=document.file_sha256 if upload is not None else None,
        **({"replaced_file": old_sha256} if replaced else {}),
    )
    return document


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true", "on", "yes"))


def _parse_creators(raw: Any) -> list[int | str]:
    """Person ids and new names, in order; ``ValueError`` says what is wrong."""
    if isinstance(raw, str):
        raw = [line for line in raw.splitlines() if line.strip()]
    if not isinstance(raw, list):
        raise ValueError("must be a list of person ids or {name}")
    if len(raw) > MAX_CREATORS:
        raise ValueError(f"are too many (at most {MAX_CREATORS})")
    parsed: list[int | str] = []
    for index, item in enumerate(raw):
        if isinstance(item, Mapping):
            if item.get("person_id") not in (None, ""):
                item = item["person_id"]
            else:
                item = item.get("name")
                if not isinstance(item, str) or not item.strip():
                    raise ValueError(f"item {index + 1} needs a person_id or a name")
                if len(item.strip()) > 255:
                    raise ValueError(f"item {index + 1}: the name is too long")
                parsed.append(" ".join(item.split()))
                continue
        if isinstance(item, bool):
            raise ValueError(f"item {index + 1} is not a person id")
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            person_id = record_id(item)
            if person_id is None or db.session.get(Person, person_id) is None:
                raise ValueError(f"there is no person {person_id}")
            parsed.append(person_id)
        elif isinstance(item, str) and item.strip():
            parsed.append(" ".join(item.split()))
        else:
            raise ValueError(f"item {index + 1} is not a person id or a name")
    return parsed


def _set_creators(viewer: Viewer, document: Document, creators: list[int | str]) -> None:
    ids: list[int] = []
    for item in creators:
        if isinstance(item, int):
            person_id = item
        else:
            person = db.session.scalar(
                select(Person).where(func.lower(Person.name) == item.lower()).order_by(Person.id)
            )
            if person is None:
                person = catalogue.save_person(viewer, {"name": item})
            person_id = person.id
        if person_id not in ids:
            ids.append(person_id)
    document.creators.clear()
    db.session.flush()
    for position, person_id in enumerate(ids):
        document.creators.append(DocumentCreator(person_id=person_id, position=position))


def max_attachment_bytes() -> int:
    return int(current_app.config.get("MAX_ATTACHMENT_BYTES") or 200 * 1024 * 1024)


def _attach(document: Document, upload: Upload, *, extract_text: bool) -> None:
    """Stream the file into storage (validated by content), record it on the document."""
    from .recordings import storage

    name = display_filename(upload.filename)
    probed: list[AttachmentInfo] = []
    texts: list[str] = []

    def validate(path) -> None:
        info = probe_attachment(path, name)
        probed.append(info)
        if extract_text and info.kind == "pdf":
            texts.append(extract_pdf_text(path, max_chars=MAX_FULL_TEXT, filename=name))

    stored = storage().save_stream(
        upload.stream, max_bytes=max_attachment_bytes(), validate=validate
    )
    if stored.created:
        from .. import transaction
        from .recordings import remove_unused_files

        transaction.on_rollback(partial(remove_unused_files, [stored.key]))
    info = probed[0]
    document.file_key = stored.key
    document.file_sha256 = stored.sha256
    document.file_size = stored.size
    document.file_mime = info.mime
    document.file_name = name
    if texts and texts[0]:
        document.full_text = texts[0]


def people_choices() -> list[Person]:
    return list(db.session.scalars(select(Person).order_by(func.lower(Person.sort_name))))
