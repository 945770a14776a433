"""Time moves by the injected clock (``oralhist.access.clock``), never by sleeping: an approval
expires, an embargo lifts."""

from __future__ import annotations

import datetime as dt

from oralhist.access import now, policy
from oralhist.extensions import db
from oralhist.models import AccessRequest, Interview
from oralhist.services import access_requests as svc

from .conftest import T0, read_mails, viewer

FORM = {
    "purpose": "Oral testimony on the mill closures.",
    "intended_use": "teaching",
    "agree_terms": "1",
}


def test_an_approval_expires(app, people, interviews, clock, login):
    researcher, archivist = login("researcher"), login("archivist")
    iid = interviews["restricted"]
    rid = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM).json["id"]
    expiry = (T0 + dt.timedelta(days=7)).date().isoformat()
    approved = archivist.post(f"/api/v1/access-requests/{rid}/approve", json={"expires_at": expiry})
    assert approved.status_code == 200, approved.json
    assert researcher.get(f"/api/v1/interviews/{iid}").json["can_listen"] is True

    clock.advance(days=6, hours=11)  # the last day of access
    assert researcher.get(f"/api/v1/interviews/{iid}").json["can_listen"] is True
    clock.advance(hours=1)  # midnight UTC of the expiry date: access ends
    body = researcher.get(f"/api/v1/interviews/{iid}").json
    assert body["can_listen"] is False and body["can_read_transcript"] is False
    assert researcher.get(f"/api/v1/access-requests/{rid}").json["status"] == "expired"
    with app.app_context():
        # Computed before it is stored: the row still says approved ...
        assert db.session.get(AccessRequest, rid).status == "approved"
    # ... an archivist can no longer revoke it ...
    assert archivist.post(f"/api/v1/access-requests/{rid}/revoke").status_code == 409
    # ... "My requests" shows it expired, and stores nothing: GET never writes ...
    page = researcher.get("/access/mine").get_data(as_text=True)
    assert "status-expired" in page
    with app.app_context():
        assert db.session.get(AccessRequest, rid).status == "approved"
    assert not any("expired" in m["Subject"] for m in read_mails(app))
    # ... `oralhist access expire` (the worker runs it too) stores it and tells them.
    result = app.test_cli_runner().invoke(args=["access", "expire"])
    assert result.exit_code == 0 and "1 approval expired" in result.output
    with app.app_context():
        assert db.session.get(AccessRequest, rid).status == "expired"
    assert any("expired" in m["Subject"] for m in read_mails(app))
    # The slot is free again: the researcher may ask anew.
    again = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM)
    assert again.status_code == 201


def test_a_new_request_expires_the_stale_approval_first(app, people, interviews, clock):
    with app.test_request_context():
        interview = db.session.get(Interview, interviews["restricted"])
        first = svc.create_request(viewer(people["researcher"]), interview, FORM)
        svc.decide(viewer(people["archivist"]), first, "approve", {"expires_at": "2031-06-20"})
        db.session.commit()
        clock.set(dt.datetime(2031, 6, 20, tzinfo=dt.UTC))
        second = svc.create_request(viewer(people["researcher"]), interview, FORM)
        db.session.commit()
        assert first.status == "expired" and second.status == "pending"


def test_the_worker_stores_expiries_and_tells_the_requester(app, people, interviews, clock):
    from oralhist.worker import Worker

    with app.test_request_context():
        interview = db.session.get(Interview, interviews["restricted"])
        first = svc.create_request(viewer(people["researcher"]), interview, FORM)
        svc.decide(viewer(people["archivist"]), first, "approve", {"expires_at": "2031-06-20"})
        db.session.commit()
        rid = first.id
    clock.set(dt.datetime(2031, 6, 21, tzinfo=dt.UTC))
    assert not any("expired" in m["Subject"] for m in read_mails(app))
    Worker(app).run(once=True)
    with app.app_context():
        assert db.session.get(AccessRequest, rid).status == "expired"
    assert any("expired" in m["Subject"] for m in read_mails(app))


def test_an_embargo_lifts_on_its_date(app, people, interviews, clock, login):
    lift = T0.date() + dt.timedelta(days=1)
    with app.app_context():
        interview = db.session.get(Interview, interviews["open"])
        interview.embargo_until = lift
        db.session.commit()
    iid = interviews["open"]
    anon = login(None)
    before = anon.get(f"/api/v1/interviews/{iid}").json
    assert before["effective_access_level"] == "closed" and before["can_listen"] is False
    page = anon.get(f"/interviews/{iid}").get_data(as_text=True)
    assert f"closed until {lift:%-d %B %Y}" in page

    clock.set(dt.datetime(lift.year, lift.month, lift.day, tzinfo=dt.UTC))
    after = anon.get(f"/api/v1/interviews/{iid}").json
    assert after["effective_access_level"] == "open" and after["can_listen"] is True
    assert "open to everyone" in anon.get(f"/interviews/{iid}").get_data(as_text=True)


def test_embargo_wins_over_a_grant_until_it_lifts(app, people, interviews, states, clock):
    with app.app_context():
        interview = db.session.get(Interview, interviews["embargo_future"])
        assert not policy.can_listen(viewer(people["r_approved"]), interview, now())
        clock.set(dt.datetime.combine(interview.embargo_until, dt.time(), tzinfo=dt.UTC))
        assert policy.can_listen(viewer(people["r_approved"]), interview, now())
        assert not policy.can_listen(viewer(people["researcher"]), interview, now())


def test_expire_command(app, people, interviews, states, clock):
    with app.app_context():
        assert db.session.get(AccessRequest, states["expired"]).status == "approved"
    result = app.test_cli_runner().invoke(args=["access", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 approval expired" in result.output
    with app.app_context():
        assert db.session.get(AccessRequest, states["expired"]).status == "expired"
