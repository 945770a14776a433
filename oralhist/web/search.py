"""The search page: every transcript at once, grouped by interview, straight to the moment."""

from __future__ import annotations

import langcodes
from flask import Blueprint, render_template, request
from sqlalchemy import select

from .. import urls
from ..access import current_viewer
from ..errors import QueryError
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
    """The search page. A query that cannot be understood keeps the page (the form with the
    query, the filters) and says what to change in place, with status 400."""
    viewer = current_viewer()
    error = None
    try:
        args = search_service.search_args(request.args)
    except QueryError as exc:
        # the arguments themselves are bad (a too-long query, an unknown sort): the raw
        # values go back into the form so the reader can correct them
        error = exc.message
        args = {"q": request.args.get("q", "")[:2000], "filters": {}, "sort": "relevance"}
    results: SearchResults | None = None
    if error is None and (args["q"] or args["filters"]):
        try:
            results = search_service.search(viewer, **args)
        except QueryError as exc:
            error = exc.message
    titles = {}
    if results is not None and results.facets.get("collection"):
        slugs = [value for value, _ in results.facets["collection"]]
        titles = dict(
            db.session.execute(
                select(Collection.slug, Collection.title).where(Collection.slug.in_(slugs))
            ).all()
        )
    page = render_template(
        "search/results.html",
        collection_titles=titles,
        args=args,
        results=results,
        error=error,
        moment_url=moment_url,
        facet_labels=FACET_LABELS,
        facet_value=facet_value_label,
    )
    return page, 400 if error else 200


def facet_value_label(name: str, value: object, collection_titles: dict | None = None) -> str:
    """What a reader reads for a facet value: "English" for ``en``, "1950s" for the decade
    ``1950``, "Transcript passage" for ``segment``, the collection's title for its slug."""
    text = "" if value is None else str(value)
    if name == "collection":
        return (collection_titles or {}).get(text, text)
    if name == "decade" and text.isdigit():
        return f"{text}s"
    if name == "kind":
        return KIND_LABELS.get(text, text)
    if name == "language" and text:
        try:
            if langcodes.tag_is_valid(text):
                return langcodes.Language.get(text).display_name()
        except (ValueError, LookupError):
            pass
    return text


#: The kinds of search hit, as readers call them.
KIND_LABELS = {
    "segment": "Transcript passage",
    "index": "Index point",
    "interview": "Interview record",
    "document": "Document",
}

FACET_LABELS = {
    "collection": "Collection",
    "narrator": "Narrator",
    "speaker": "Speaker",
    "decade": "Decade recorded",
    "language": "Language",
    "kind": "Kind of match",
}
