"""The search page: every transcript at once, grouped by interview, straight to the moment."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from .. import urls
from ..access import current_viewer
from ..extensions import db
from ..models import Collection
from ..search import SearchResults
from ..services import search as search_service

bp = Blueprint("search", __name__)


def moment_url(interview_id: int, start_ms: int | None, segment_id: int | None = None) -> str:
    """A search result's link: the interview page at the moment, scrolled to the passage
    (``urls.moment_url``, shared with the API)."""
    return urls.moment_url(interview_id, start_ms, segment_id=segment_id, anchor=True)


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
