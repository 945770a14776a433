"""The access-request workflow: ONE table of allowed moves, and who may make each.

::

    pending  --approve-->  approved     archivist
    pending  --deny----->  denied       archivist (a reason is required)
    pending  --withdraw->  withdrawn    the requester, on their own request
    approved --revoke--->  revoked      archivist
    approved --expire--->  expired      the system, once ``expires_at`` has passed

"Expired" is computed first and stored lazily: an approved request whose ``expires_at`` has
passed *is* expired (``effective_status``) wherever it is shown or decided on, and the policy's
``Grant.valid(now)`` already ignores it. ``services.access_requests.expire_due`` then stores the
``expired`` status (pages and the ``oralhist access expire`` command call it), which also frees
the one-open-request slot so the researcher may ask again.

Pure: no Flask, no database. The service asks ``check_move`` before it changes anything.

Two decisions at once (approve and deny, approve and withdraw...) must not both win: in 8 of 8
trials both used to succeed, leaving requests approved after a denial and moves in the audit log
that this table forbids. ``check_move`` answers from the row as read, which may already be
stale, so the service then stores the move with a *conditional update*,
``UPDATE access_requests SET status = :target ... WHERE id = :id AND status = :source``, and
treats a row count of 0 as "someone moved it first" (409 naming the status now in force). We
chose this over a row lock (``SELECT ... FOR UPDATE``) because it is one statement, needs no
lock held between the read and the write, and is equally correct on both databases: PostgreSQL
re-checks the ``WHERE`` against the winner's committed row once the winner's row lock is
released; SQLite serialises writers, so the loser's update runs after the winner's commit and
matches nothing. ``with_for_update`` would be silently ignored by SQLite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import AccessDenied, InvalidTransition
from .policy import Viewer

#: Who may make a move.
REQUESTER = "requester"
ARCHIVIST = "archivist"
SYSTEM = "system"

#: Statuses in which a request still holds the user's one open slot (see the DB index).
OPEN_STATUSES = ("pending", "approved")
FINAL_STATUSES = ("denied", "withdrawn", "revoked", "expired")


@dataclass(frozen=True)
class Move:
    action: str
    source: str
    target: str
    actor: str
    #: past tense for messages ("approved", "withdrawn").
    verb: str


#: THE transition table.
MOVES: tuple[Move, ...] = (
    Move("approve", "pending", "approved", ARCHIVIST, "approved"),
    Move("deny", "pending", "denied", ARCHIVIST, "denied"),
    Move("withdraw", "pending", "withdrawn", REQUESTER, "withdrawn"),
    Move("revoke", "approved", "revoked", ARCHIVIST, "revoked"),
    Move("expire", "approved", "expired", SYSTEM, "expired"),
)

MOVES_BY_ACTION: dict[str, Move] = {move.action: move for move in MOVES}
#: Actions a person may take (the system's ``expire`` is not among them).
USER_ACTIONS = tuple(m.action for m in MOVES if m.actor != SYSTEM)


def effective_status(request, now: dt.datetime) -> str:
    """The status in force now: an approval past its ``expires_at`` is ``expired``."""
    if (
        request.status == "approved"
        and request.expires_at is not None
        and request.expires_at <= now
    ):
        return "expired"
    return request.status


def may_act(viewer: Viewer, move: Move, request) -> bool:
    """Whether ``viewer`` is the kind of person the table names for ``move``."""
    if move.actor == ARCHIVIST:
        return viewer.is_archivist
    if move.actor == REQUESTER:
        return viewer.signed_in and viewer.user_id == request.requester_id
    return False  # SYSTEM moves are made by the service, never on a person's behalf


def check_move(viewer: Viewer | None, action: str, request, now: dt.datetime) -> Move:
    """The move ``action`` on ``request`` by ``viewer`` (None = the system), or an error:
    ``InvalidTransition`` (409) for an unknown action or a move the table does not allow from
    the request's current status, ``AccessDenied`` (403) when someone else must make it."""
    move = MOVES_BY_ACTION.get(action)
    if move is None:
        raise InvalidTransition(
            f"Unknown action {action!r}; use one of: {', '.join(USER_ACTIONS)}.", action=action
        )
    if viewer is None:
        if move.actor != SYSTEM:
            raise AccessDenied(f"Only a person may {action} a request.")
    elif not may_act(viewer, move, request):
        who = "the requester" if move.actor == REQUESTER else "an archivist"
        raise AccessDenied(f"Only {who} may {action} this request.")
    current = effective_status(request, now)
    if action == "expire":
        # The system stores a computed expiry; nothing else may expire a request.
        allowed = request.status == "approved" and current == "expired"
    else:
        allowed = current == move.source
    if not allowed:
        raise InvalidTransition(
            f"Request {request.id} is {current}; it cannot be {move.verb} "
            f"(only a {move.source} request can).",
            status=current,
            action=action,
        )
    return move


def allowed_actions(viewer: Viewer, request, now: dt.datetime) -> list[str]:
    """The actions ``viewer`` may take on ``request`` now (for buttons)."""
    current = effective_status(request, now)
    return [
        m.action
        for m in MOVES
        if m.actor != SYSTEM and m.source == current and may_act(viewer, m, request)
    ]
