"""The audit log: decisions recorded with who/what/when/IP, the archivists' page with filters
and pages, the streamed CSV export, and append-only (no route, no function, a flush guard)."""

from __future__ import annotations

import csv
import inspect
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

import oralhist
from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import AuditEvent
from oralhist.services import audit


def test_decisions_are_logged_with_ip(app, people, interviews, states):
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("access_request."))
        ).all()
    actions = sorted(e.action for e in events)
    assert actions.count("access_request.create") == 8
    assert actions.count("access_request.approve") == 5
    assert {"access_request.deny", "access_request.revoke", "access_request.withdraw"} <= set(
        actions
    )


def test_http_events_carry_the_ip(app, people, interviews, login):
    login("researcher").post(
        f"/api/v1/interviews/{interviews['restricted']}/access-requests",
        json={"purpose": "x" * 25, "intended_use": "other", "agree_terms": True},
    )
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
    assert event.ip == "127.0.0.1" and event.user_id == people["researcher"]
    assert event.details["interview_id"] == interviews["restricted"]


def test_audit_page_filters_and_pages(app, people, interviews, states, login):
    with app.app_context():
        for n in range(30):
            audit.record(
                Viewer(people["researcher"], "researcher"), "recording.play", "recording", n
            )
        db.session.commit()
    archivist = login("archivist")
    page = archivist.get("/access/audit").get_data(as_text=True)
    assert "Page 1 of" in page and "Export CSV" in page
    plays = archivist.get("/access/audit?action=recording.play&per_page=10&page=3")
    html = plays.get_data(as_text=True)
    assert html.count("<code>recording.play</code>") == 10 and "Page 3 of 3" in html
    prefix = archivist.get("/access/audit?action=access_request.*&per_page=100")
    assert "recording.play" not in prefix.get_data(as_text=True).split("<tbody>")[1]
    by_user = archivist.get("/access/audit?user=r_denied@example.org").get_data(as_text=True)
    assert len(re.findall(r"<code>access_request\.create</code>", by_user)) == 1
    by_object = archivist.get(
        f"/access/audit?object_type=access_request&object_id={states['revoked']}"
    )
    assert by_object.get_data(as_text=True).count("<code>access_request.") == 3
    none = archivist.get("/access/audit?date_from=2000-01-01&date_to=2000-01-02")
    assert "No events match." in none.get_data(as_text=True)
    assert archivist.get("/access/audit?date_from=yesterday").status_code == 422


def test_csv_export(app, people, interviews, states, login):
    with app.app_context():
        audit.record(None, "transcript.download", "interview", 1, reason="=HYPERLINK(1)")
        db.session.commit()
    response = login("archivist").get("/access/audit.csv?action=transcript.download")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "id",
        "at",
        "user_id",
        "user_email",
        "action",
        "object_type",
        "object_id",
        "ip",
        "details",
    ]
    assert len(rows) == 2 and rows[1][4] == "transcript.download"
    everything = login("archivist").get("/access/audit.csv").get_data(as_text=True)
    assert "r_denied@example.org" in everything and "access_request.deny" in everything


def test_no_route_modifies_the_audit_log(app):
    writes = {"POST", "PUT", "PATCH", "DELETE"}
    offenders = [
        (rule.rule, sorted(rule.methods & writes))
        for rule in app.url_map.iter_rules()
        if "audit" in rule.rule.lower() and rule.methods & writes
    ]
    assert offenders == []
    audit_views = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert {r.endpoint for r in audit_views} == {"access.audit_log", "access.audit_csv"}


def test_no_code_updates_or_deletes_audit_events():
    functions = {
        name
        for name, obj in inspect.getmembers(audit, inspect.isfunction)
        if obj.__module__ == audit.__name__ and not name.startswith("_")
    }
    assert not {n for n in functions if re.search("update|delete|remove|edit|purge|change", n)}
    pattern = re.compile(r"(update|delete)\(\s*AuditEvent|AuditEvent\)\.(update|delete)")
    root = Path(oralhist.__file__).parent
    hits = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert hits == []


def test_the_session_refuses_to_change_an_event(app, people):
    with app.app_context():
        event = audit.record(None, "test.event", "thing", 1)
        db.session.commit()
        event.action = "tampered"
        with pytest.raises(audit.AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event.id))
        with pytest.raises(audit.AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEvent, event.id).action == "test.event"


def test_the_database_refuses_to_change_or_delete_an_event(app, people):
    """Below the ORM: a bulk UPDATE or DELETE (a console, a script) is refused by triggers;
    only the user link may become NULL (a deleted user)."""
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    table = AuditEvent.__table__
    with app.app_context():
        event = audit.record(Viewer(people["researcher"], "researcher"), "test.event", "thing", 1)
        db.session.commit()
        for statement in (
            update(table).where(table.c.id == event.id).values(action="tampered"),
            update(table).where(table.c.id == event.id).values(details={}),
            delete(table).where(table.c.id == event.id),
        ):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(statement)
            db.session.rollback()
        db.session.execute(update(table).where(table.c.id == event.id).values(user_id=None))
        db.session.commit()
        kept = db.session.get(AuditEvent, event.id)
        assert (kept.action, kept.user_id) == ("test.event", None)
