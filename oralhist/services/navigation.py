"""The counts the navigation shows beside its links: access requests waiting for a decision
and drafts waiting for review (archivists), unread notifications (everyone signed in: the
decisions on their access requests, a proposed transcript ready to check...).

One query per page, whatever the role: each count is a scalar subquery of one ``SELECT``
(``tests/test_navigation.py`` counts the statements a page sends). Anonymous visitors cost
nothing. The counts use indexed columns (``access_request.status``,
``interview.review_requested_at``, ``notification.user_id``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, select

from ..access import policy
from ..access.policy import Viewer
from ..extensions import db
from ..models import AccessRequest, Interview, Notification


@dataclass(frozen=True)
class NavCounts:
    pending_requests: int = 0
    awaiting_review: int = 0
    unread_notifications: int = 0


NOTHING = NavCounts()


def nav_counts(viewer: Viewer) -> NavCounts:
    """The viewer's counts, in one round trip (nothing for an anonymous visitor)."""
    if not viewer.signed_in:
        return NOTHING
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == viewer.user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    if policy.can_decide_requests(viewer):
        pending = (
            select(func.count())
            .select_from(AccessRequest)
            .where(AccessRequest.status == "pending")
            .scalar_subquery()
        )
    else:
        pending = literal(0)
    if policy.can_review(viewer):
        review = (
            select(func.count())
            .select_from(Interview)
            .where(Interview.status == "draft", Interview.review_requested_at.is_not(None))
            .scalar_subquery()
        )
    else:
        review = literal(0)
    row = db.session.execute(select(pending, review, unread)).one()
    return NavCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))
