"""Access: the pure policy (``policy``), the request workflow, and the request-time glue that
builds the ``Viewer`` for the signed-in user once per request."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

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

    One query (built once, plain columns): this runs on every signed-in request.
    """
    from types import SimpleNamespace

    from ..extensions import db

    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    at = at or now()
    grants: dict[int, Grant] = {}
    own: set[int] = set()
    for row in db.session.execute(_viewer_rows(), {"user_id": user.id}):
        if row.request_id is None:
            own.add(row.interview_id)
            continue
        interview = SimpleNamespace(access_level=row.access_level, embargo_until=row.embargo_until)
        if row.status == "published" and effective_level(interview, at) == "restricted":
            grant = Grant(row.request_id, row.scope, row.expires_at)
            if grant.valid(at):
                grants[row.interview_id] = grant
    return Viewer(user_id=user.id, role=user.role, grants=grants, own_interview_ids=frozenset(own))


@functools.cache
def _viewer_rows():
    """The user's approved requests with their interviews' state, then (request_id NULL)
    the ids of the interviews the user created: one round trip for ``load_viewer``."""
    from sqlalchemy import bindparam, null, select, union_all

    from ..models import AccessRequest, Interview

    user_id = bindparam("user_id")
    approved = (
        select(
            AccessRequest.id.label("request_id"),
            AccessRequest.scope,
            AccessRequest.expires_at,
            Interview.id.label("interview_id"),
            Interview.status,
            Interview.access_level,
            Interview.embargo_until,
        )
        .join(Interview, Interview.id == AccessRequest.interview_id)
        .where(AccessRequest.requester_id == user_id, AccessRequest.status == "approved")
    )
    own = select(null(), null(), null(), Interview.id, null(), null(), null()).where(
        Interview.created_by_id == user_id
    )
    return union_all(approved, own)


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


def require(
    allowed: bool, message: str | Callable[[], str] = "You do not have access to this."
) -> None:
    """Raise ``AccessDenied`` unless ``allowed``; ``message`` may be a function, called only
    on refusal (when saying why costs a query: ``policy.edit_refusal``)."""
    if not allowed:
        raise AccessDenied(message() if callable(message) else message)
