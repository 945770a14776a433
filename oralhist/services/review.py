"""Drafts submitted for review: the contributor's "please publish this" and the archivists'
queue of drafts waiting for them.

A draft stays a draft (status ``draft``) while it waits: ``Interview.review_requested_at``
says since when. Publishing clears it (``catalogue.publish``). Each submission and withdrawal
is audited, and a submission tells every archivist (in the app and by mail)."""

from __future__ import annotations

from sqlalchemy import Select, select

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict
from ..extensions import db
from ..models import Interview
from . import audit, notify


def submit_for_review(viewer: Viewer, interview: Interview) -> Interview:
    """Ask the archivists to review the draft; they are told. Submitting twice is a 409."""
    require(
        policy.can_submit_for_review(viewer, interview),
        "Only the contributor of a draft submits it for review.",
    )
    if interview.review_requested_at is not None:
        raise Conflict(
            f"{interview.accession} was submitted for review already, on "
            f"{interview.review_requested_at:%-d %B %Y}."
        )
    interview.review_requested_at = now()
    db.session.flush()
    audit.record(
        viewer, "interview.review_requested", "interview", interview.id, interview_id=interview.id
    )
    path, absolute = notify.link("catalogue.interview", interview_id=interview.id)
    _queue_path, queue_abs = notify.link("review.queue")
    for archivist in notify.archivists():
        notify.notify(
            archivist,
            f"Draft {interview.accession} “{interview.title}” is ready for review.",
            path,
            subject=f"[oralhist] Ready for review: {interview.accession} {interview.title}"[:200],
            body=(
                f"The contributor of {interview.accession} “{interview.title}” submitted it "
                f"for review.\n\nThe draft: {absolute}\nDrafts awaiting review: {queue_abs}\n"
            ),
        )
    return interview


def tell_contributor_published(interview: Interview) -> None:
    """The draft its contributor submitted for review is published: tell them (in the app and
    by mail), as the submit button promised."""
    from ..models import User

    contributor = db.session.get(User, interview.created_by_id) if interview.created_by_id else None
    if contributor is None or not contributor.active:
        return
    from . import consent

    title = consent.title_for(contributor, interview)
    path, absolute = notify.link("catalogue.interview", interview_id=interview.id)
    notify.notify(
        contributor,
        f"{interview.accession} “{title}” is reviewed and published.",
        path,
        subject=f"[oralhist] Published: {interview.accession} {title}"[:200],
        body=(
            f"The archivists reviewed and published {interview.accession} "
            f"“{title}”.\n\nIt is here: {absolute}\n"
        ),
    )


def withdraw_review(viewer: Viewer, interview: Interview) -> Interview:
    """Take a submission back (to keep working on the draft)."""
    require(
        policy.can_submit_for_review(viewer, interview),
        "Only the contributor of a draft withdraws it from review.",
    )
    if interview.review_requested_at is None:
        raise Conflict(f"{interview.accession} is not waiting for review.")
    interview.review_requested_at = None
    db.session.flush()
    audit.record(
        viewer, "interview.review_withdrawn", "interview", interview.id, interview_id=interview.id
    )
    return interview


def awaiting_review(viewer: Viewer) -> Select:
    """Drafts submitted for review, oldest submission first (archivists only)."""
    require(policy.can_review(viewer), "Only archivists review drafts.")
    return (
        select(Interview)
        .where(Interview.status == "draft", Interview.review_requested_at.is_not(None))
        .order_by(Interview.review_requested_at, Interview.id)
    )
