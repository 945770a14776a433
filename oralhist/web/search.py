"""The search page: every transcript at once, grouped by interview, straight to the moment."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import select

from ..access import current_viewer
from ..extensions import db
from ..models import Collection
from ..search import SearchResults
from ..services import search as search_service
from ..transcripts.timecode import format_t_param

bp = Blueprint("search", __name__)


def moment_url(interview_id: int, start_ms: int | None, segment_id: int | None = None) -> str:
    """The interview page opened at the moment: ``?t=SECONDS`` starts the player there and
    ``hl`` highlights the passage in the transcript."""
    args = {}
    if start_ms is not None:
        args["t"] = format_t_param(start_ms)
    if segment_id is not None:
        args["hl"] = segment_id
    return url_for("catalogue.interview", interview_id=interview_id, **args) + (
        f"#seg-{segment_id}" if segment_id is not None else ""
    )


@bp.get("/search")
def search():
    viewer = current_viewer()
    args = search_service.search_args(request.args)
    results: SearchResults | None = None
    if args["q"] or args["filters"]:
        results = search_service.search(viewer, **args)
    titles = {}
    if results is not None and results.facets.get("collection"):
        slugs = [value for value, _ in results.facets["collection"]]
        titles = dict(
            db.session.execute(
                select(Collection.slug, Collection.title).where(Collection.slug.in_(slugs))
            ).all()
        )
    return render_template(
        "search/results.html",
        collection_titles=titles,
        args=args,
        results=results,
        moment_url=moment_url,
        facet_labels=FACET_LABELS,
    )


FACET_LABELS = {
    "collection": "Collection",
    "narrator": "Narrator",
    "speaker": "Speaker",
    "decade": "Decade recorded",
    "language": "Language",
    "kind": "Kind",
}
