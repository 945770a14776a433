"""Every state-changing route of the access blueprint and API refuses a cookie-authenticated
request without the CSRF token (400), and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import AccessRequest, AuditEvent

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
API_ENDPOINTS = {"api.create_access_request", "api.act_on_access_request"}


def _my_write_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if (rule.endpoint.startswith("access.") or rule.endpoint in API_ENDPOINTS)
        and rule.methods & WRITE_METHODS
    ]


def _urls(rule, ids):
    values = {"interview_id": ids["interview"], "request_id": ids["request"]}
    if "action" in rule.arguments:
        return [
            rule.build({**values, "action": a}, append_unknown=False)[1]
            for a in ("approve", "deny", "withdraw", "revoke")
        ]
    return [rule.build(values, append_unknown=False)[1]]


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
        tuple(db.session.scalars(select(AccessRequest.status).order_by(AccessRequest.id))),
    )


def test_every_write_needs_the_token(app, people, interviews, states, login):
    rules = _my_write_rules(app)
    endpoints = {r.endpoint for r in rules}
    assert {"access.request_access", "access.act", "access.bulk"} <= endpoints
    assert endpoints >= API_ENDPOINTS
    ids = {"interview": interviews["restricted"], "request": states["pending"]}
    with app.app_context():
        before = _counts()
    refused = []
    for role in ("researcher", "r_pending", "archivist"):
        raw = login(role).client  # cookie-authenticated, no token sent
        for rule in rules:
            for url in _urls(rule, ids):
                body = {
                    "purpose": "x" * 30,
                    "intended_use": "research",
                    "agree_terms": "1",
                    "reason": "r",
                    "ids": str(states["pending"]),
                    "action": "approve",
                }
                if url.startswith("/api/"):
                    response = raw.post(url, json=body)
                else:
                    response = raw.post(url, data=body)
                refused.append((role, url, response.status_code))
    wrong = [r for r in refused if r[2] != 400]
    assert wrong == [], wrong
    with app.app_context():
        assert _counts() == before


def test_with_the_token_it_works(people, interviews, states, login):
    archivist = login("archivist")
    response = archivist.post(
        f"/access/requests/{states['pending']}/deny", data={"reason": "Incomplete."}
    )
    assert response.status_code == 302
