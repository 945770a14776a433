"""The policy's list filters: SQL criteria that select the rows a viewer may see.

Each function here is the SQL twin of a predicate in ``policy`` and must select exactly the
rows for which that predicate is true (``tests/access/test_list_filters.py`` checks every role
x level x status x embargo x grant state against both). Lists, counts and pages use these;
single records use the predicates. Building a criterion reads no database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, false, or_, true

from ..models import AccessRequest, Document, Interview, Job
from .policy import Viewer, document_levels, today_of


def visible_interviews_clause(viewer: Viewer) -> Any:
    """Interviews whose catalogue record ``viewer`` may see (``policy.can_view_record``):
    every published one; drafts only to archivists and to the contributor who made them."""
    if viewer.is_archivist:
        return true()
    published = Interview.status == "published"
    if not viewer.signed_in:
        return published
    own = Interview.created_by_id == viewer.user_id
    if viewer.own_interview_ids:
        own = or_(own, Interview.id.in_(sorted(viewer.own_interview_ids)))
    return or_(published, own)


def public_interviews_clause() -> Any:
    """Interviews whose record anyone may see (the home page's recent list, the collections'
    public counts): the same as ``visible_interviews_clause`` for an anonymous viewer."""
    from .policy import ANONYMOUS

    return visible_interviews_clause(ANONYMOUS)


def readable_interviews_clause(viewer: Viewer, now: dt.datetime) -> Any:
    """Interviews whose transcript ``viewer`` may read (``policy.can_read_transcript``), as
    the effective level on ``now``'s date decides (an embargo closes until its date)."""
    if viewer.is_archivist:
        return true()
    today = today_of(now)
    not_embargoed = or_(Interview.embargo_until.is_(None), Interview.embargo_until <= today)
    levels = ["open"] + (["registered"] if viewer.signed_in else [])
    material = and_(
        Interview.status == "published", not_embargoed, Interview.access_level.in_(levels)
    )
    granted = sorted(iid for iid, grant in viewer.grants.items() if grant.valid(now))
    if granted:
        material = or_(
            material,
            and_(
                Interview.status == "published",
                not_embargoed,
                Interview.access_level == "restricted",
                Interview.id.in_(granted),
            ),
        )
    if viewer.signed_in:
        own = Interview.created_by_id == viewer.user_id
        if viewer.own_interview_ids:
            own = or_(own, Interview.id.in_(sorted(viewer.own_interview_ids)))
        material = or_(material, own)
    return material


def visible_documents_clause(viewer: Viewer) -> Any:
    """Documents ``viewer`` may see (``policy.can_view_document``): those of a level the
    viewer's role sees, and those the viewer catalogued."""
    clause = Document.access_level.in_(sorted(document_levels(viewer)))
    if viewer.signed_in:
        clause = or_(clause, Document.created_by_id == viewer.user_id)
    return clause


def visible_requests_clause(viewer: Viewer, *, mine: bool = False) -> Any:
    """Access requests ``viewer`` may see (``policy.can_view_request``): an archivist sees
    all (or, with ``mine``, their own), anyone else only their own; nothing when anonymous."""
    if not viewer.signed_in:
        return false()
    if viewer.is_archivist and not mine:
        return true()
    return AccessRequest.requester_id == viewer.user_id


def visible_jobs_clause(viewer: Viewer) -> Any:
    """Jobs ``viewer`` may see (``policy.can_see_job``): archivists all; a signed-in user
    those they started; anonymous none."""
    if viewer.is_archivist:
        return true()
    if not viewer.signed_in:
        return false()
    return Job.created_by_id == viewer.user_id
