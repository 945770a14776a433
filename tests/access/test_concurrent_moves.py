"""Two decisions at once on one request: exactly one is stored, the other is a 409 naming the
status now in force, and the audit log never shows a move the transition table forbids.

Issue 12 item 4: approve together with deny (or withdraw) both succeeded in 8 of 8 trials.
The threaded test runs against the real app and database (a file SQLite database, or the
PostgreSQL server named by ``OH_TEST_DATABASE_URL``); the stale-read test makes the lost race
deterministic.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from oralhist.errors import InvalidTransition
from oralhist.extensions import db
from oralhist.models import AccessRequest, AuditEvent, Interview
from oralhist.services import access_requests as svc
from tests.concurrency import at_once
from tests.conftest import Browser

from .conftest import viewer

#: Threads or other processes use the database: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


FORM = {
    "purpose": "Comparing memories of the 1957 strike.",
    "intended_use": "research",
    "agree_terms": "on",
}
TRIALS = 8
#: Each trial's pair of rival moves: (who, action, body).
RIVALS = [
    (("archivist", "approve", {}), ("admin", "deny", {"reason": "Not enough detail."})),
    (("archivist", "approve", {}), ("requester", "withdraw", {})),
]
TARGET = {"approve": "approved", "deny": "denied", "withdraw": "withdrawn"}


def _decisions(request_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.object_type == "access_request",
                AuditEvent.object_id == request_id,
                AuditEvent.action != "access_request.create",
            )
            .order_by(AuditEvent.id)
        )
    )


def test_a_stale_read_loses_with_a_409_naming_the_current_state(app_ctx, people, interviews):
    """The request is read as pending, then withdrawn by someone else before the approval is
    stored: the approval must not overwrite the withdrawal."""
    interview = db.session.get(Interview, interviews["restricted"])
    request = svc.create_request(viewer(people["researcher"]), interview, FORM)
    db.session.commit()
    assert request.status == "pending"  # read, and held in the session as pending
    with db.engine.begin() as other:
        other.execute(
            update(AccessRequest).where(AccessRequest.id == request.id).values(status="withdrawn")
        )
    with pytest.raises(InvalidTransition) as lost:
        svc.decide(viewer(people["archivist"]), request, "approve", {})
    assert "is now withdrawn" in lost.value.message
    assert lost.value.details["status"] == "withdrawn"
    db.session.rollback()
    assert db.session.get(AccessRequest, request.id).status == "withdrawn"
    assert _decisions(request.id) == []


def test_expiry_that_loses_to_a_revocation_is_skipped(
    app_ctx, people, interviews, clock, monkeypatch
):
    """An archivist revokes the approval between the expiry sweep's read and its write: the
    sweep skips it (no ``expired`` over ``revoked``, no expiry in the audit log)."""
    import datetime as dt

    from oralhist.access import workflow

    interview = db.session.get(Interview, interviews["restricted"])
    request = svc.create_request(viewer(people["researcher"]), interview, FORM)
    svc.decide(
        viewer(people["archivist"]),
        request,
        "approve",
        {"expires_at": (clock.now + dt.timedelta(days=2)).date().isoformat()},
    )
    db.session.commit()
    clock.advance(days=3)
    real_check = workflow.check_move

    def check_then_rival_revokes(*args, **kwargs):
        move = real_check(*args, **kwargs)
        with db.engine.begin() as other:
            other.execute(
                update(AccessRequest).where(AccessRequest.id == request.id).values(status="revoked")
            )
        return move

    monkeypatch.setattr(workflow, "check_move", check_then_rival_revokes)
    assert svc.expire_due(interview_id=interview.id) == 0
    db.session.commit()
    assert db.session.get(AccessRequest, request.id).status == "revoked"
    assert _decisions(request.id) == ["access_request.approve"]


def _poster(client: Browser, request_id: int, action: str, body: dict):
    def call():
        response = client.post(f"/api/v1/access-requests/{request_id}/{action}", json=body)
        return action, response.status_code, response.json

    return call


def test_two_decisions_at_once_move_the_request_once(app, people, interviews):
    """Threads post rival moves at the same instant through the real app, 8 trials."""
    from oralhist.services import accounts

    with app.test_request_context():
        requester_ids = []
        request_ids = []
        for trial in range(TRIALS):
            user = accounts.create_user(
                f"rival{trial}@example.org", "correct horse battery", role="researcher"
            )
            db.session.flush()
            interview = db.session.get(Interview, interviews["restricted"])
            made = svc.create_request(viewer(user.id), interview, FORM)
            requester_ids.append(user.id)
            request_ids.append(made.id)
        db.session.commit()

    outcomes = []
    for trial, request_id in enumerate(request_ids):
        pair = RIVALS[trial % len(RIVALS)]
        calls = []
        for who, action, body in pair:
            email = f"rival{trial}@example.org" if who == "requester" else f"{who}@example.org"
            calls.append(_poster(Browser(app, email), request_id, action, body))
        answers = at_once(calls, timeout=60)
        outcomes.append(answers)

        with app.app_context():
            final = db.session.get(AccessRequest, request_id).status
            decisions = _decisions(request_id)
        winners = [a for a in answers if a[1] == 200]
        losers = [a for a in answers if a[1] != 200]
        assert len(winners) == 1, answers
        assert [a[1] for a in losers] == [409], answers
        won_action = winners[0][0]
        assert final == TARGET[won_action]
        assert decisions == [f"access_request.{won_action}"]
        message = losers[0][2]["error"]["message"]
        assert f"is {final}" in message or f"is now {final}" in message
    assert len(outcomes) == TRIALS
