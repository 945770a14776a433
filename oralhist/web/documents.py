"""Document pages: the list, a document with every passage that discusses it, the forms,
the attached file, and the passage-link actions of the interview page (link, edit, remove,
suggestions, cite)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from ..access import current_viewer, policy, require
from ..errors import NotFound, OralHistError
from ..extensions import db
from ..models import Interview, Person
from ..models.types import ACCESS_LEVELS
from ..services import catalogue, documents, mentions
from ..services import passages as passage_service
from ..services import suggestions as suggestion_service
from ..services.fields import record_id
from ..transaction import abandon
from ..transcripts.timecode import format_timecode
from ..urls import safe_next
from .catalogue import interview_panel
from .helpers import form_errors, paginate

bp = Blueprint("documents", __name__)

INLINE_MIMES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp")
#: The attached file is shown by the browser itself (PDF viewer, image): no scripts, no
#: framing by other sites.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


# --- the list and the page -----------------------------------------------------------------


@bp.get("/documents")
def index():
    viewer = current_viewer()
    stmt, values = documents.document_query(viewer, request.args)
    creator = db.session.get(Person, values["creator"]) if values.get("creator") else None
    return render_template(
        "documents/index.html",
        page=paginate(stmt),
        values=values,
        types=documents.TYPE_LABELS,
        access_levels=ACCESS_LEVELS,
        creator=creator,
        format_date=documents.format_partial_date,
    )


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    viewer = current_viewer()
    found = documents.get_document(document_id, viewer)
    passages = passage_service.passages_for_document(viewer, found)
    suggestions = []
    suggestion_error = None
    if policy.can_see_suggestions(viewer):
        try:
            suggestions = suggestion_service.suggestions(viewer, found)
        except OralHistError as exc:  # the index unavailable: the page still works
            suggestion_error = exc.message
    return render_template(
        "documents/document.html",
        document=found,
        passages=passages,
        suggestions=suggestions,
        suggestion_error=suggestion_error,
        show_suggestions=policy.can_see_suggestions(viewer),
        can_dismiss=policy.can_dismiss_suggestions(viewer),
        can_edit=policy.can_edit_document(viewer, found),
        type_label=documents.TYPE_LABELS.get(found.doc_type, found.doc_type),
        date_label=documents.format_partial_date(found.date),
        inline=found.file_mime in INLINE_MIMES,
    )


@bp.get("/documents/<int:document_id>/file")
def file(document_id: int):
    """The attached file, under ``policy.can_view_document``; Range and conditional requests
    are answered (``Storage.send``); PDFs and images inline, anything else as a download."""
    from ..services.recordings import storage

    found = documents.get_document(document_id, current_viewer())
    if not found.file_key:
        raise NotFound("This document has no attached file.")
    media = storage()
    if not media.exists(found.file_key):
        raise NotFound("The stored file is missing; an archivist has been told by fixity.")
    response = media.send(
        found.file_key,
        mimetype=found.file_mime or "application/octet-stream",
        as_attachment=found.file_mime not in INLINE_MIMES,
        download_name=found.file_name or f"document-{found.id}",
        etag=found.file_sha256 or True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- create and edit -----------------------------------------------------------------------


def form_data() -> dict[str, Any]:
    """Form fields as the service expects them: creators from the picker and the new names."""
    data: dict[str, Any] = {
        k: v for k, v in request.form.items() if k not in ("csrf_token", "creator_ids")
    }
    if "creator_ids" in request.form or "creator_names" in request.form:
        creators: list[Any] = [i for i in request.form.getlist("creator_ids") if i]
        names = request.form.get("creator_names", "")
        creators += [line.strip() for line in names.splitlines() if line.strip()]
        data["creators"] = creators
        data.pop("creator_names", None)
    return data


def upload_of(field: str = "file") -> documents.Upload | None:
    storage = request.files.get(field)
    if storage is None or not storage.filename:
        return None
    return documents.Upload(storage.stream, storage.filename)


def _form(found, form=None, errors=None, message=None, status=200):
    return render_template(
        "documents/form.html",
        document=found,
        form=form,
        errors=errors or {},
        message=message,
        people=documents.people_choices(),
        types=documents.TYPE_LABELS,
        access_levels=[
            (level, level)
            for level in ACCESS_LEVELS
            if level in policy.document_levels(current_viewer())
            or (found is not None and found.access_level == level)
        ],
        selected_creators=(
            [i for i in map(record_id, form.getlist("creator_ids")) if i is not None]
            if form is not None
            else [c.person_id for c in found.creators]
            if found
            else []
        ),
        max_mb=documents.max_attachment_bytes() // (1024 * 1024),
    ), status


@bp.route("/documents/new", methods=["GET", "POST"])
@bp.route("/documents/<int:document_id>/edit", methods=["GET", "POST"])
def edit(document_id: int | None = None):
    viewer = current_viewer()
    found = documents.get_document(document_id, viewer) if document_id else None
    require(
        policy.can_edit_document(viewer, found),
        "Only contributors and archivists add documents; a contributor edits their own.",
    )
    if request.method == "POST":
        try:
            saved = documents.save_document(viewer, form_data(), found, upload=upload_of())
        except OralHistError as exc:
            abandon()
            if found is not None:
                db.session.refresh(found)
            return _form(found, request.form, form_errors(exc), exc.message, exc.status)
        flash("Document saved.", "success")
        return redirect(url_for("documents.document", document_id=saved.id))
    return _form(found)


# --- passage links -------------------------------------------------------------------------


@bp.post("/interviews/<int:interview_id>/mentions")
def link(interview_id: int):
    """The interview page's "Link a passage" form. On bad input the interview page is shown
    again with the message, the form as filled in, and the 4xx status."""
    from . import catalogue as catalogue_views

    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    try:
        mention = mentions.link_from_form(viewer, interview, request.form)
    except OralHistError as exc:
        abandon()
        if exc.status in (401, 403):
            raise
        g.documents_link_form = request.form
        g.documents_link_errors = form_errors(exc) or {"_": exc.message}
        flash(exc.message, "error")
        return catalogue_views.interview(interview_id), exc.status
    flash(f"Passage linked to “{mention.document.title}”.", "success")
    return redirect(url_for("catalogue.interview", interview_id=interview_id) + "#documents")


@bp.post("/mentions/<int:mention_id>")
def update_mention(mention_id: int):
    viewer = current_viewer()
    mention = mentions.get_mention(mention_id, viewer)
    back = safe_next(url_for("documents.document", document_id=mention.document_id))
    mentions.update_mention(
        viewer, mention, {k: v for k, v in request.form.items() if k in ("start", "end", "note")}
    )
    flash("Passage link saved.", "success")
    return redirect(back)


@bp.post("/mentions/<int:mention_id>/delete")
def delete_mention(mention_id: int):
    viewer = current_viewer()
    mention = mentions.get_mention(mention_id, viewer)
    back = safe_next(url_for("documents.document", document_id=mention.document_id))
    mentions.delete_mention(viewer, mention)
    flash("Passage link removed.", "info")
    return redirect(back)


@bp.get("/mentions/<int:mention_id>/cite")
def cite(mention_id: int):
    """The citation and the permanent link, as plain text (one per line)."""
    viewer = current_viewer()
    passage = passage_service.passage(viewer, mentions.get_mention(mention_id, viewer))
    return Response(
        f"{passage.citation}\n{passage.permalink}\n", mimetype="text/plain; charset=utf-8"
    )


@bp.post("/documents/<int:document_id>/suggestions/accept")
def accept_suggestion(document_id: int):
    viewer = current_viewer()
    found = documents.get_document(document_id, viewer)
    suggestion_service.accept_suggestion(viewer, found, request.form.get("segment_id"))
    flash("Suggested passage linked.", "success")
    return redirect(url_for("documents.document", document_id=found.id) + "#suggestions")


@bp.post("/documents/<int:document_id>/suggestions/dismiss")
def dismiss_suggestion(document_id: int):
    viewer = current_viewer()
    found = documents.get_document(document_id, viewer)
    suggestion_service.dismiss_suggestion(
        viewer, found, request.form.get("interview_id"), request.form.get("start_ms")
    )
    flash("Suggestion dismissed: it will not be proposed again.", "info")
    return redirect(url_for("documents.document", document_id=found.id) + "#suggestions")


# --- the interview page's side panel -------------------------------------------------------


@interview_panel
def documents_panel(interview: Interview, viewer) -> dict:
    passages = passage_service.passages_for_interview(viewer, interview)
    can_link = policy.can_link_passages(viewer, interview)
    return {
        "doc_passages": passages,
        "doc_groups": passage_service.documents_with_passages(passages),
        "doc_can_link": can_link,
        "doc_choices": documents.linkable_documents(viewer) if can_link else [],
        "doc_form": g.get("documents_link_form"),
        "doc_errors": g.get("documents_link_errors") or {},
        "doc_new_url": url_for("documents.edit") if policy.can_edit_document(viewer) else None,
    }


@bp.app_template_global("timecode_full")
def timecode_full(ms: int | None) -> str:
    """hh:mm:ss.mmm for the edit forms (the exact stored time)."""
    return format_timecode(ms, style="vtt") if ms is not None else ""
