"""Access: the pure policy (``policy``), the request workflow, and the request-time glue that
builds the ``Viewer`` for the signed-in user once per request."""

from __future__ import annotations

import datetime as dt

from ..errors import AccessDenied
from .policy import ANONYMOUS, Grant, Viewer, effective_level


def now() -> dt.datetime:
    """The application clock. Tests replace ``oralhist.access.clock`` to move time."""
    return clock()


def _system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


clock = _system_clock


def load_viewer(user, at: dt.datetime | None = None) -> Viewer:
    """Build the policy's ``Viewer`` for ``user`` (a ``User`` or None/anonymous).

    Grants are the user's approved requests on interviews that are published and restricted
    *now*: a grant never opens an embargoed (closed) interview, and the search scope built
    from these ids stays identical to ``can_read_transcript``.
    """
    from sqlalchemy import select

    from ..extensions import db
    from ..models import AccessRequest, Interview

    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    at = at or now()
    grants: dict[int, Grant] = {}
    rows = db.session.execute(
        select(AccessRequest, Interview)
        .join(Interview, Interview.id == AccessRequest.interview_id)
        .where(AccessRequest.requester_id == user.id, AccessRequest.status == "approved")
    ).all()
    for request, interview in rows:
        if interview.status == "published" and effective_level(interview, at) == "restricted":
            grant = Grant(request.id, request.scope, request.expires_at)
            if grant.valid(at):
                grants[interview.id] = grant
    own = db.session.scalars(select(Interview.id).where(Interview.created_by_id == user.id))
    return Viewer(user_id=user.id, role=user.role, grants=grants, own_interview_ids=frozenset(own))


def current_viewer() -> Viewer:
    """The viewer for this request, built once and kept on ``flask.g``."""
    from flask import g
    from flask_login import current_user

    viewer = g.get("_oh_viewer")
    if viewer is None:
        viewer = load_viewer(current_user)
        g._oh_viewer = viewer
    return viewer


def forget_viewer() -> None:
    """Drop the cached viewer (after sign-in, or after a grant changes)."""
    from flask import g

    g.pop("_oh_viewer", None)


def require(allowed: bool, message: str = "You do not have access to this.") -> None:
    """Raise ``AccessDenied`` unless ``allowed``."""
    if not allowed:
        raise AccessDenied(message)
