"""The transition table (pure) and the request service: every move, who may make it, the
one-open-request rule, validation, audit rows."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from oralhist.access import workflow
from oralhist.access.policy import Viewer
from oralhist.errors import AccessDenied, Conflict, InvalidTransition, ValidationError
from oralhist.extensions import db
from oralhist.models import AccessRequest, AuditEvent, Interview
from oralhist.models.types import REQUEST_STATUSES
from oralhist.services import access_requests as svc

from .conftest import T0, viewer

REQUESTER = Viewer(user_id=1, role="researcher")
STRANGER = Viewer(user_id=2, role="researcher")
ARCHIVIST = Viewer(user_id=3, role="archivist")
ADMIN = Viewer(user_id=4, role="admin")

#: (status, action) -> who may: the table written out again, by hand, as the spec.
ALLOWED = {
    ("pending", "approve"): {"archivist", "admin"},
    ("pending", "deny"): {"archivist", "admin"},
    ("pending", "withdraw"): {"requester"},
    ("approved", "revoke"): {"archivist", "admin"},
}
ACTORS = {"requester": REQUESTER, "stranger": STRANGER, "archivist": ARCHIVIST, "admin": ADMIN}


def fake(status: str, expires_at=None):
    return SimpleNamespace(id=9, status=status, requester_id=1, expires_at=expires_at)


@pytest.mark.parametrize("status", REQUEST_STATUSES)
@pytest.mark.parametrize("action", workflow.USER_ACTIONS)
def test_transition_table(status, action):
    for name, who in ACTORS.items():
        allowed_here = name in ALLOWED.get((status, action), set())
        if allowed_here:
            move = workflow.check_move(who, action, fake(status), T0)
            assert move.source == status
            continue
        with pytest.raises((InvalidTransition, AccessDenied)):
            workflow.check_move(who, action, fake(status), T0)


def test_table_shape():
    assert {(m.source, m.target) for m in workflow.MOVES} == {
        ("pending", "approved"),
        ("pending", "denied"),
        ("pending", "withdrawn"),
        ("approved", "revoked"),
        ("approved", "expired"),
    }
    assert workflow.MOVES_BY_ACTION["expire"].actor == workflow.SYSTEM


def test_wrong_state_is_409_wrong_person_is_403():
    with pytest.raises(InvalidTransition) as exc:
        workflow.check_move(ARCHIVIST, "approve", fake("denied"), T0)
    assert exc.value.status == 409 and "denied" in exc.value.message
    with pytest.raises(AccessDenied):
        workflow.check_move(REQUESTER, "approve", fake("pending"), T0)
    with pytest.raises(AccessDenied):
        workflow.check_move(STRANGER, "withdraw", fake("pending"), T0)
    with pytest.raises(InvalidTransition):
        workflow.check_move(ARCHIVIST, "frobnicate", fake("pending"), T0)


def test_expired_is_computed_and_only_the_system_expires():
    past = fake("approved", T0 - dt.timedelta(seconds=1))
    assert workflow.effective_status(past, T0) == "expired"
    assert workflow.effective_status(fake("approved", T0 + dt.timedelta(days=1)), T0) == "approved"
    # An expired approval can no longer be revoked; the system stores the expiry.
    with pytest.raises(InvalidTransition):
        workflow.check_move(ARCHIVIST, "revoke", past, T0)
    assert workflow.check_move(None, "expire", past, T0).target == "expired"
    with pytest.raises(InvalidTransition):
        workflow.check_move(None, "expire", fake("approved"), T0)
    with pytest.raises(AccessDenied):
        workflow.check_move(ARCHIVIST, "expire", past, T0)
    assert workflow.allowed_actions(ARCHIVIST, past, T0) == []
    assert workflow.allowed_actions(REQUESTER, fake("pending"), T0) == ["withdraw"]
    assert workflow.allowed_actions(ARCHIVIST, fake("pending"), T0) == ["approve", "deny"]


# --- the service ---------------------------------------------------------------------------

FORM = {
    "purpose": "Comparing memories of the 1957 strike.",
    "intended_use": "publication",
    "agree_terms": "on",
}


def _interview(kind_id):
    return db.session.get(Interview, kind_id)


def test_create_validates_every_field(app_ctx, people, interviews):
    who = viewer(people["researcher"])
    with pytest.raises(ValidationError) as exc:
        svc.create_request(
            who,
            _interview(interviews["restricted"]),
            {"purpose": "too short", "intended_use": "gossip"},
        )
    fields = exc.value.details["fields"]
    assert set(fields) == {"purpose", "intended_use", "agree_terms"}
    assert "at least 20" in fields["purpose"]
    with pytest.raises(ValidationError) as exc:
        svc.create_request(
            who, _interview(interviews["restricted"]), {**FORM, "purpose": "x" * 5001}
        )
    assert "purpose" in exc.value.details["fields"]


def test_one_open_request_per_user_and_interview(app_ctx, people, interviews):
    who = viewer(people["researcher"])
    interview = _interview(interviews["restricted"])
    first = svc.create_request(who, interview, FORM)
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        svc.create_request(who, interview, FORM)
    assert exc.value.status == 409 and "already have an open request" in exc.value.message
    db.session.rollback()
    # After a denial the researcher may ask again.
    svc.decide(viewer(people["archivist"]), first, "deny", {"reason": "Say more, please."})
    db.session.commit()
    second = svc.create_request(viewer(people["researcher"]), interview, FORM)
    db.session.commit()
    assert second.id != first.id


def test_database_index_is_the_backstop(app_ctx, people, interviews, monkeypatch):
    who = viewer(people["researcher"])
    interview = _interview(interviews["restricted"])
    svc.create_request(who, interview, FORM)
    db.session.commit()
    monkeypatch.setattr(svc, "open_request", lambda *a: None)  # a racing second request
    with pytest.raises(Conflict):
        svc.create_request(who, interview, FORM)
    db.session.rollback()
    count = db.session.scalar(
        select(db.func.count())
        .select_from(AccessRequest)
        .where(AccessRequest.requester_id == people["researcher"])
    )
    assert count == 1


@pytest.mark.parametrize(
    ("kind", "who", "error"),
    [
        ("open", "researcher", Conflict),  # can already hear it
        ("closed", "researcher", AccessDenied),
        ("embargo_future", "researcher", AccessDenied),
        ("restricted", None, AccessDenied),
        ("restricted", "archivist", Conflict),
    ],
)
def test_cannot_request_where_it_makes_no_sense(app_ctx, people, interviews, kind, who, error):
    with pytest.raises(error):
        svc.create_request(viewer(people[who] if who else None), _interview(interviews[kind]), FORM)


def test_decisions_are_audited_and_validated(app_ctx, people, interviews, clock):
    archivist = viewer(people["archivist"])
    req = svc.create_request(
        viewer(people["researcher"]), _interview(interviews["restricted"]), FORM
    )
    with pytest.raises(ValidationError):
        svc.decide(archivist, req, "deny", {"reason": "  "})
    with pytest.raises(ValidationError):
        svc.decide(archivist, req, "approve", {"expires_at": "next tuesday"})
    with pytest.raises(ValidationError):
        svc.decide(archivist, req, "approve", {"expires_at": T0.date().isoformat()})
    with pytest.raises(ValidationError):
        svc.decide(archivist, req, "approve", {"scope": "everything"})
    assert req.status == "pending"
    svc.decide(archivist, req, "approve", {"expires_at": "2031-12-31", "scope": "listen_download"})
    assert req.expires_at == dt.datetime(2031, 12, 31, tzinfo=dt.UTC)
    assert req.scope == "listen_download" and req.decided_by_id == people["archivist"]
    svc.decide(archivist, req, "revoke", {"reason": "Terms breached."})
    db.session.commit()
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "access_request", AuditEvent.object_id == req.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "access_request.create",
        "access_request.approve",
        "access_request.revoke",
    ]
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.user_id == people["archivist"]
    assert last.details["reason"] == "Terms breached." and last.details["to"] == "revoked"


def test_bulk_is_all_or_nothing(app_ctx, people, interviews):
    archivist = viewer(people["archivist"])
    a = svc.create_request(viewer(people["researcher"]), _interview(interviews["restricted"]), FORM)
    b = svc.create_request(
        viewer(people["contributor2"]), _interview(interviews["restricted"]), FORM
    )
    db.session.commit()
    svc.decide(archivist, b, "deny", {"reason": "No."})
    db.session.commit()
    with pytest.raises(InvalidTransition):
        svc.decide_many(archivist, [a.id, b.id], "approve")
    db.session.rollback()
    assert db.session.get(AccessRequest, a.id).status == "pending"
    with pytest.raises(ValidationError):
        svc.decide_many(archivist, [a.id], "deny", {})
    with pytest.raises(ValidationError):
        svc.decide_many(archivist, [], "approve")
    done = svc.decide_many(archivist, [a.id], "approve", {"scope": "listen"})
    assert [r.status for r in done] == ["approved"]


def test_requests_are_private(app_ctx, people, interviews):
    from oralhist.errors import NotFound

    req = svc.create_request(
        viewer(people["researcher"]), _interview(interviews["restricted"]), FORM
    )
    db.session.commit()
    with pytest.raises(NotFound):
        svc.get_request(req.id, viewer(people["contributor2"]))
    with pytest.raises(AccessDenied):
        svc.get_request(req.id, viewer(None))
    assert svc.get_request(req.id, viewer(people["archivist"])) is req
