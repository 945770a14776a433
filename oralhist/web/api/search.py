"""API: search (the same results as the search page, under the same policy)."""

from __future__ import annotations

from flask import jsonify, request

from ...access import current_viewer
from ...search import DocumentHit
from ...services import catalogue
from ...services import search as search_service
from ...urls import moment_url
from . import bp


def _moment_json(moment) -> dict:
    return {
        "kind": moment.kind,
        "interview_id": moment.interview_id,
        "segment_id": moment.segment_id,
        "start_ms": moment.start_ms,
        "end_ms": moment.end_ms,
        "speaker": moment.speaker,
        "snippet": moment.snippet_html,
        "url": moment_url(
            moment.interview_id, moment.start_ms, segment_id=moment.segment_id, anchor=True
        ),
    }


@bp.get("/search")
def search():
    """``q`` plus optional ``page``, ``per_page``, ``sort`` (relevance|date) and facet filters
    (collection, narrator, speaker, decade, language, kind). ``results`` lists every moment
    on the page (each with a ``url`` that opens the player there); ``groups`` gives the same
    grouped by interview as the page shows them."""
    from flask import url_for

    viewer = current_viewer()
    args = search_service.search_args(request.args)
    results = search_service.search(viewer, **args)
    flat: list[dict] = []
    groups: list[dict] = []
    for group in results.groups:
        if isinstance(group, DocumentHit):
            item = {
                "kind": "document",
                "document_id": group.document_id,
                "title": group.title,
                "snippet": group.snippet_html,
                "url": url_for("documents.document", document_id=group.document_id)
                if "documents.document" in _endpoints()
                else None,
            }
            flat.append(item)
            groups.append(item)
            continue
        moments = [_moment_json(m) for m in group.moments]
        if group.catalogue_match and not moments:
            flat.append(
                {
                    "kind": "interview",
                    "interview_id": group.interview_id,
                    "start_ms": None,
                    "speaker": "",
                    "snippet": "",
                    "url": moment_url(group.interview_id, None),
                }
            )
        flat.extend(moments)
        groups.append(
            {
                "kind": "interview",
                "interview_id": group.interview_id,
                "accession": group.accession,
                "title": group.title,
                "collection_title": group.collection_title,
                "year": group.year,
                "narrators": group.narrators,
                "catalogue_match": group.catalogue_match,
                "total_moments": group.total_moments,
                "moments": moments,
            }
        )
    return jsonify(
        query=results.query,
        total=results.total_groups,
        total_moments=results.total_moments,
        page=results.page,
        per_page=results.per_page,
        results=flat,
        groups=groups,
        facets={
            name: [{"value": v, "count": c} for v, c in values]
            for name, values in results.facets.items()
        },
        suggestion=results.suggestion,
        notices=results.notices,
    )


@bp.get("/interviews/<int:interview_id>/search")
def search_interview(interview_id: int):
    """Every matching moment in one interview, in time order (for next/previous)."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    q = search_service.search_args(request.args)["q"]
    moments = search_service.search_interview(viewer, interview, q) if q else []
    return jsonify(total=len(moments), results=[_moment_json(m) for m in moments])


def _endpoints():
    from flask import current_app

    return current_app.view_functions
