"""Drafts submitted for review: the contributor's submit/withdraw buttons and the archivists'
review queue (linked from the navigation with its count)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..access import current_viewer, policy, require
from ..models import Interview
from ..services import catalogue, review
from .catalogue import interview_panel
from .helpers import paginate

bp = Blueprint("review", __name__)


@interview_panel
def review_panel(interview: Interview, viewer) -> dict:
    """What the interview page's review partial needs (``review/_panel.html``)."""
    return {
        "review_can_submit": policy.can_submit_for_review(viewer, interview),
        "review_requested_at": interview.review_requested_at,
        "review_can_publish": policy.can_manage(viewer, interview),
    }


@bp.get("/review")
def queue():
    viewer = current_viewer()
    require(policy.can_review(viewer), "Only archivists review drafts.")
    return render_template("review/queue.html", page=paginate(review.awaiting_review(viewer)))


@bp.post("/interviews/<int:interview_id>/review")
def submit(interview_id: int):
    """Submit the draft for review (``action=withdraw`` takes it back)."""
    viewer = current_viewer()
    found = catalogue.get_interview(interview_id, viewer)
    if request.form.get("action") == "withdraw":
        review.withdraw_review(viewer, found)
        flash("The draft is no longer waiting for review: submit it when it is ready.", "info")
    else:
        review.submit_for_review(viewer, found)
        flash(
            "Submitted for review: the archivists are told, and you will be notified when it is "
            "published.",
            "success",
        )
    return redirect(url_for("catalogue.interview", interview_id=found.id))
