"""Notifications: in-app rows and mail (.eml in instance/outbox without SMTP), written only
after the commit."""

from __future__ import annotations

from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Interview, Notification
from oralhist.services import access_requests as svc
from oralhist.services import notify

from .conftest import outbox, read_mails, viewer

FORM = {
    "purpose": "Family history of dockworkers in the 1950s.",
    "intended_use": "research",
    "agree_terms": True,
}


def _rows(user_id):
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    ).all()


def test_new_request_tells_every_archivist(app, people, interviews, login):
    iid = interviews["restricted"]
    response = login("researcher").post(f"/api/v1/interviews/{iid}/access-requests", json=FORM)
    assert response.status_code == 201
    mails = read_mails(app)
    assert sorted(m["To"] for m in mails) == ["admin@example.org", "archivist@example.org"]
    for mail in mails:
        assert mail["Subject"] == "[oralhist] Access request: Interview restricted"
        body = mail.get_content()
        assert "researcher@example.org" in body and "Family history of dockworkers" in body
        assert "/access/queue" in body
    with app.app_context():
        for role in ("archivist", "admin"):
            rows = _rows(people[role])
            assert len(rows) == 1 and "New access request" in rows[0].message
            assert rows[0].url.startswith("/access/queue")
        assert _rows(people["researcher"]) == []
    # The archivist sees it on the account page.
    assert "New access request from Researcher" in login("archivist").get("/account/").get_data(
        as_text=True
    )


def test_each_decision_tells_the_requester(app, people, interviews, login):
    iid = interviews["restricted"]
    researcher, archivist = login("researcher"), login("archivist")
    rid = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM).json["id"]
    before = set(outbox(app))
    archivist.post(
        f"/api/v1/access-requests/{rid}/approve",
        json={"expires_at": "2099-01-01", "scope": "listen_download"},
    )
    new = [p for p in outbox(app) if p not in before]
    assert len(new) == 1
    text = new[0].read_text()
    assert "To: researcher@example.org" in text
    assert "Subject: [oralhist] Access request approved: Interview restricted" in text
    assert "listen and download" in text and "until 2099-01-01" in text
    archivist.post(f"/api/v1/access-requests/{rid}/revoke", json={"reason": "Misuse."})
    mails = [m for m in read_mails(app) if m["To"] == "researcher@example.org"]
    assert [m["Subject"].split(":")[0] for m in mails] == [
        "[oralhist] Access request approved",
        "[oralhist] Access request revoked",
    ]
    assert "Reason: Misuse." in mails[-1].get_content()
    with app.app_context():
        messages = [n.message for n in _rows(people["researcher"])]
    assert len(messages) == 2 and "revoked" in messages[1]
    account = researcher.get("/account/").get_data(as_text=True)
    assert "was approved" in account and "was revoked" in account


def test_deny_and_withdraw_notify(app, people, interviews, login):
    iid = interviews["restricted"]
    researcher, archivist = login("researcher"), login("archivist")
    rid = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM).json["id"]
    archivist.post(f"/api/v1/access-requests/{rid}/deny", json={"reason": "Not yet catalogued."})
    denial = [m for m in read_mails(app) if m["To"] == "researcher@example.org"][-1]
    assert "denied" in denial["Subject"] and "Not yet catalogued." in denial.get_content()
    rid2 = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM).json["id"]
    researcher.post(f"/api/v1/access-requests/{rid2}/withdraw")
    subjects = [m["Subject"] for m in read_mails(app) if m["To"] == "archivist@example.org"]
    assert any("withdrawn" in s for s in subjects)


def test_no_mail_when_the_transaction_rolls_back(app, people, interviews):
    with app.test_request_context():
        interview = db.session.get(Interview, interviews["restricted"])
        svc.create_request(viewer(people["researcher"]), interview, FORM)
        assert len(notify.pending_mail()) == 2
        db.session.rollback()
        assert notify.pending_mail() == []
        db.session.commit()
    assert outbox(app) == []


def test_smtp_when_configured_and_outbox_when_it_fails(app, people, interviews, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            assert (host, port) == ("mail.example.org", 2525)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr(notify.smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SMTP_HOST="mail.example.org", MAIL_SMTP_PORT=2525)
    with app.test_request_context():
        interview = db.session.get(Interview, interviews["restricted"])
        svc.create_request(viewer(people["researcher"]), interview, FORM)
        db.session.commit()
    assert len(sent) == 2 and outbox(app) == []

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(notify.smtplib, "SMTP", refuse)
    with app.test_request_context():
        interview = db.session.get(Interview, interviews["restricted"])
        svc.create_request(viewer(people["contributor2"]), interview, FORM)
        db.session.commit()
    assert len(outbox(app)) == 2  # nothing is lost
