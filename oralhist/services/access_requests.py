"""Access requests: ask, decide, withdraw, revoke, expire.

Every move goes through ``access.workflow.check_move`` (the one transition table), is written
to the audit log, and is told to the requester (in the app and by mail); every new request is
told to all archivists. Services flush and never commit: the view commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from ..access import clauses, now, policy, workflow
from ..access.policy import Viewer
from ..errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationError
from ..extensions import db
from ..models import AccessRequest, Interview, User
from ..models.types import REQUEST_SCOPES, REQUEST_STATUSES
from . import audit, notify
from .fields import Fields

INTENDED_USES = ("research", "publication", "teaching", "broadcast", "exhibition", "other")
PURPOSE_MIN, PURPOSE_MAX = 20, 5000
REASON_MAX = 2000


# --- reading -------------------------------------------------------------------------------


def get_request(request_id: int, viewer: Viewer) -> AccessRequest:
    """A request its requester or an archivist may see; 'not found' to everyone else."""
    if not viewer.signed_in:
        raise AccessDenied("Please sign in first.")
    found = db.session.get(AccessRequest, request_id)
    if found is None or not policy.can_view_request(viewer, found):
        raise NotFound(f"There is no access request {request_id}.")
    return found


def open_request(user_id: int, interview_id: int) -> AccessRequest | None:
    return db.session.scalar(
        select(AccessRequest).where(
            AccessRequest.requester_id == user_id,
            AccessRequest.interview_id == interview_id,
            AccessRequest.status.in_(workflow.OPEN_STATUSES),
        )
    )


def latest_request(user_id: int, interview_id: int) -> AccessRequest | None:
    return db.session.scalar(
        select(AccessRequest)
        .where(AccessRequest.requester_id == user_id, AccessRequest.interview_id == interview_id)
        .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
        .limit(1)
    )


def history_of(user_ids: Sequence[int]) -> dict[int, list[AccessRequest]]:
    """Every request of these users, newest first, by user id (the queue's history column)."""
    if not user_ids:
        return {}
    out: dict[int, list[AccessRequest]] = {uid: [] for uid in user_ids}
    for row in db.session.scalars(
        select(AccessRequest)
        .where(AccessRequest.requester_id.in_(set(user_ids)))
        .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
    ):
        out[row.requester_id].append(row)
    return out


def request_query(viewer: Viewer, args: Mapping[str, Any]) -> Select:
    """Requests this viewer may list: their own, or (archivists) everyone's, filtered by
    ``status``, ``interview`` (id), ``requester`` (id) and, for archivists, ``mine=1``.
    Pending requests come oldest first (a queue); others newest first."""
    if not viewer.signed_in:
        raise AccessDenied("Please sign in first.")
    fields = Fields(args)
    fields.choice("status", REQUEST_STATUSES, default="")
    fields.integer("interview", minimum=1)
    fields.integer("requester", minimum=1)
    values = fields.check()
    mine = bool(args.get("mine"))
    stmt = select(AccessRequest).where(clauses.visible_requests_clause(viewer, mine=mine))
    if not mine and values.get("requester"):
        stmt = stmt.where(AccessRequest.requester_id == values["requester"])
    status = values.get("status")
    at = now()
    if status == "expired":
        stmt = stmt.where(
            (AccessRequest.status == "expired")
            | ((AccessRequest.status == "approved") & (AccessRequest.expires_at <= at))
        )
    elif status == "approved":
        stmt = stmt.where(
            AccessRequest.status == "approved",
            AccessRequest.expires_at.is_(None) | (AccessRequest.expires_at > at),
        )
    elif status:
        stmt = stmt.where(AccessRequest.status == status)
    if values.get("interview"):
        stmt = stmt.where(AccessRequest.interview_id == values["interview"])
    if status == "pending":
        return stmt.order_by(AccessRequest.created_at.asc(), AccessRequest.id.asc())
    return stmt.order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())


@dataclass(frozen=True)
class AudibleInterview:
    """An interview the viewer may hear thanks to a grant, as "My requests" lists it."""

    interview: Interview
    can_download: bool
    until: dt.datetime | None


def audible_interviews(viewer: Viewer) -> list[AudibleInterview]:
    """Interviews this viewer may now hear thanks to an approved request, by title."""
    at = now()
    grants = policy.grants_in_force(viewer, at)
    if not grants:
        return []
    rows = db.session.scalars(select(Interview).where(Interview.id.in_(sorted(grants)))).all()
    return [
        AudibleInterview(i, policy.can_download_master(viewer, i, at), grants[i.id].expires_at)
        for i in sorted(rows, key=lambda i: i.title.lower())
        if policy.can_listen(viewer, i, at)
    ]


# --- asking --------------------------------------------------------------------------------


def create_request(viewer: Viewer, interview: Interview, data: Mapping[str, Any]) -> AccessRequest:
    """A signed-in user asks to hear a restricted interview (one open request at a time)."""
    if not viewer.signed_in:
        raise AccessDenied("Please sign in to request access.")
    at = now()
    expire_due(user_id=viewer.user_id, interview_id=interview.id)
    existing = open_request(viewer.user_id, interview.id)
    if existing is not None:
        raise Conflict(
            "You already have an open request for this interview "
            f"(request {existing.id}, {workflow.effective_status(existing, at)}).",
            request_id=existing.id,
        )
    if not policy.can_request_access(viewer, interview, at):
        if policy.can_listen(viewer, interview, at):
            raise Conflict("You can already hear this interview; there is nothing to request.")
        raise AccessDenied(
            "Access to this interview cannot be requested: "
            + policy.level_sentence(interview, at).lower().rstrip(".")
            + "."
        )
    values = _request_fields(data)
    row = AccessRequest(
        requester_id=viewer.user_id,
        interview_id=interview.id,
        purpose=values["purpose"],
        intended_use=values["intended_use"],
        agreed_terms=True,
        status="pending",
        scope="listen",
        created_at=at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # The partial unique index caught a concurrent duplicate.
        raise Conflict("You already have an open request for this interview.") from None
    audit.record(
        viewer,
        "access_request.create",
        "access_request",
        row.id,
        interview_id=interview.id,
        intended_use=row.intended_use,
    )
    requester = db.session.get(User, viewer.user_id)
    path, absolute = notify.link("access.queue", status="pending")
    for archivist in notify.archivists():
        notify.notify(
            archivist,
            f"New access request from {requester.display_name} for “{interview.title}”.",
            path,
            subject=f"[oralhist] Access request: {interview.title}",
            body=(
                f"{requester.display_name} <{requester.email}> asks for access to\n"
                f"{interview.accession} “{interview.title}”.\n\n"
                f"Intended use: {row.intended_use}\n\nPurpose:\n{row.purpose}\n\n"
                f"Decide it in the queue: {absolute}\n"
            ),
        )
    return row


def _request_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = Fields(data)
    fields.string("purpose", required=True, max_length=PURPOSE_MAX)
    fields.choice("intended_use", INTENDED_USES)
    purpose = fields.values.get("purpose")
    if purpose is not None and len(purpose) < PURPOSE_MIN:
        fields.errors["purpose"] = (
            f"is too short ({len(purpose)} characters; at least {PURPOSE_MIN}): "
            "say what your research is about"
        )
    if not _truthy(data.get("agree_terms")):
        fields.errors["agree_terms"] = "must be accepted to request access"
    return fields.check()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes", "y")


# --- deciding ------------------------------------------------------------------------------


def parse_expiry(value: Any, at: dt.datetime) -> dt.datetime | None:
    """An approval's expiry: ISO date (access ends at the start of that day, UTC, the way an
    embargo lifts on its date) or an ISO datetime (naive = UTC). Must be in the future."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError(
            "expires_at must be an ISO date, e.g. 2030-01-31.",
            fields={"expires_at": "must be a date YYYY-MM-DD"},
        )
    text = value.strip()
    try:
        if "T" in text or " " in text:
            expires = dt.datetime.fromisoformat(text)
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
        else:
            day = dt.date.fromisoformat(text)
            expires = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    except ValueError:
        raise ValidationError(
            f"expires_at {text!r} is not a date; use YYYY-MM-DD.",
            fields={"expires_at": "must be a date YYYY-MM-DD"},
        ) from None
    if expires <= at:
        raise ValidationError(
            "The expiry date must be in the future.", fields={"expires_at": "must be in the future"}
        )
    return expires


def decide(
    viewer: Viewer, request: AccessRequest, action: str, data: Mapping[str, Any] | None = None
) -> AccessRequest:
    """Make one move of the workflow table on ``request``: approve (optional ``expires_at``,
    ``scope``), deny (``reason`` required), withdraw, revoke (optional ``reason``)."""
    data = data or {}
    at = now()
    move = workflow.check_move(viewer, action, request, at)
    before = request.status
    details: dict[str, Any] = {"interview_id": request.interview_id, "from": before}
    reason = _reason(data, required=(action == "deny"))
    changes: dict[str, Any] = {}
    if action == "approve":
        fields = Fields(data)
        fields.choice("scope", REQUEST_SCOPES, default="listen")
        scope = fields.check()["scope"]
        expires_at = parse_expiry(data.get("expires_at"), at)
        changes.update(expires_at=expires_at, scope=scope)
        details.update(
            scope=scope,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    if action != "withdraw":
        changes.update(decided_by_id=viewer.user_id, decided_at=at, decision_note=reason)
    if reason:
        details["reason"] = reason
    details["to"] = move.target
    store_move(request, move, changes)
    audit.record(viewer, f"access_request.{action}", "access_request", request.id, **details)
    _tell_requester(request, move, reason)
    if action == "withdraw":
        _tell_archivists_withdrawn(request)
    return request


def store_move(request: AccessRequest, move: workflow.Move, changes: Mapping[str, Any]) -> None:
    """Store ``move`` (and ``changes``) only if the request is still in the move's source
    status, by a conditional UPDATE (see ``access.workflow`` for why): of two decisions at once,
    exactly one is stored; the other raises ``InvalidTransition`` (409) naming the status that
    is now in force, and its caller's transaction, audit event and mail are rolled back."""
    db.session.flush()  # nothing of ours pending that an autoflush could write unguarded
    result = db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == request.id, AccessRequest.status == move.source)
        .values(status=move.target, **changes)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(request)  # what the database now holds, ours or the winner's
    if result.rowcount != 1:
        current = workflow.effective_status(request, now())
        raise InvalidTransition(
            f"Request {request.id} is now {current}: it was decided at the same time by someone "
            f"else, so it cannot be {move.verb} (only a {move.source} request can).",
            status=current,
            action=move.action,
        )


def decide_many(
    viewer: Viewer, request_ids: Sequence[int], action: str, data: Mapping[str, Any] | None = None
) -> list[AccessRequest]:
    """A bulk decision: all or nothing (the first invalid one raises and the view rolls back)."""
    if action not in ("approve", "deny"):
        raise ValidationError("Bulk actions are approve and deny.", fields={"action": "invalid"})
    ids = sorted({int(i) for i in request_ids})
    if not ids:
        raise ValidationError("Tick at least one request.", fields={"ids": "none selected"})
    return [decide(viewer, get_request(i, viewer), action, data) for i in ids]


def _reason(data: Mapping[str, Any], *, required: bool) -> str:
    raw = data.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    if required and not reason:
        raise ValidationError(
            "Give a reason for the denial; the researcher will read it.",
            fields={"reason": "is required"},
        )
    if len(reason) > REASON_MAX:
        raise ValidationError(
            f"The reason is too long (at most {REASON_MAX} characters).",
            fields={"reason": "is too long"},
        )
    return reason


def expire_due(*, user_id: int | None = None, interview_id: int | None = None) -> int:
    """Store ``expired`` on approvals whose ``expires_at`` has passed (optionally only one
    user's / one interview's), audit and tell the requester. Returns how many."""
    at = now()
    stmt = select(AccessRequest).where(
        AccessRequest.status == "approved",
        AccessRequest.expires_at.is_not(None),
        AccessRequest.expires_at <= at,
    )
    if user_id is not None:
        stmt = stmt.where(AccessRequest.requester_id == user_id)
    if interview_id is not None:
        stmt = stmt.where(AccessRequest.interview_id == interview_id)
    count = 0
    for request in db.session.scalars(stmt).all():
        move = workflow.check_move(None, "expire", request, at)
        try:
            # Under a savepoint, so losing a race (a revoke at the same moment) undoes nothing
            # else of the caller's transaction: the request is simply no longer ours to expire.
            with db.session.begin_nested():
                store_move(request, move, {})
        except InvalidTransition:
            continue
        audit.record(
            None,
            "access_request.expire",
            "access_request",
            request.id,
            interview_id=request.interview_id,
            expires_at=request.expires_at.isoformat(),
        )
        _tell_requester(request, move, "")
        count += 1
    if count:
        db.session.flush()
    return count


# --- telling -------------------------------------------------------------------------------


def _tell_requester(request: AccessRequest, move: workflow.Move, reason: str) -> None:
    requester = db.session.get(User, request.requester_id)
    interview = db.session.get(Interview, request.interview_id)
    if requester is None or interview is None:
        return
    from . import consent

    title = consent.title_for(requester, interview)
    sentence = f"Your access request for “{title}” was {move.verb}."
    if move.action == "approve":
        scope = "listen and download" if request.scope == "listen_download" else "listen"
        sentence = f"Your access request for “{title}” was approved ({scope})"
        if request.expires_at:
            sentence += f" until {request.expires_at:%Y-%m-%d}"
        sentence += "."
    elif move.action == "expire":
        sentence = f"Your access to “{title}” has expired."
    if reason:
        sentence += f" Reason: {reason}"
    path, absolute = notify.link("catalogue.interview", interview_id=interview.id)
    _mine_path, mine_abs = notify.link("access.my_requests")
    notify.notify(
        requester,
        sentence,
        path,
        subject=f"[oralhist] Access request {move.verb}: {title}",
        body=(
            f"Dear {requester.display_name},\n\n{sentence}\n\n"
            f"Interview: {interview.accession} “{title}”\n{absolute}\n\n"
            f"Your requests: {mine_abs}\n"
        ),
    )


def _tell_archivists_withdrawn(request: AccessRequest) -> None:
    interview = db.session.get(Interview, request.interview_id)
    requester = db.session.get(User, request.requester_id)
    path, absolute = notify.link("access.queue", status="withdrawn")
    for archivist in notify.archivists():
        notify.notify(
            archivist,
            f"{requester.display_name} withdrew their request for “{interview.title}”.",
            path,
            subject=f"[oralhist] Access request withdrawn: {interview.title}",
            body=f"{requester.display_name} withdrew request {request.id}.\n{absolute}\n",
        )
