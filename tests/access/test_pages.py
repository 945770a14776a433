"""The request form, "My requests", the archivists' queue (waiting time, history, approve with
expiry and scope, deny with reason, bulk, filters, revoke) and the request page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from oralhist.extensions import db
from oralhist.models import AccessRequest

from .conftest import T0

FORM = {
    "purpose": "Research on women's work in the textile mills.",
    "intended_use": "publication",
    "agree_terms": "1",
}


def test_request_form_from_the_interview_page(app, people, interviews, clock, login):
    iid = interviews["restricted"]
    researcher = login("researcher")
    page = researcher.get(f"/interviews/{iid}").get_data(as_text=True)
    assert "Request access" in page and 'name="agree_terms"' in page
    for value, _ in (("research", 1), ("publication", 1), ("teaching", 1)):
        assert f'value="{value}"' in page
    # Invalid: every problem named, the text kept.
    bad = researcher.post(
        f"/interviews/{iid}/request-access", data={"purpose": "short", "intended_use": "gossip"}
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "at least 20" in html and "must be accepted" in html and "must be one of" in html
    assert ">short</textarea>" in html
    ok = researcher.post(f"/interviews/{iid}/request-access", data=FORM)
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/interviews/{iid}")
    page = researcher.get(f"/interviews/{iid}").get_data(as_text=True)
    assert "is pending" in page and 'name="purpose"' not in page and "Withdraw request" in page
    # A second request: 409 with a clear message.
    again = researcher.post(f"/interviews/{iid}/request-access", data=FORM)
    assert again.status_code == 409
    assert "already have an open request" in again.get_data(as_text=True)


def test_anonymous_is_asked_to_sign_in(interviews, login):
    anon = login(None)
    html = anon.get(f"/interviews/{interviews['restricted']}").get_data(as_text=True)
    assert "Sign in to request access" in html and 'name="purpose"' not in html
    response = anon.get(f"/interviews/{interviews['restricted']}/request-access")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_requests(people, interviews, states, login):
    html = login("r_approved").get("/access/mine").get_data(as_text=True)
    hear = html.split("Interviews you can now hear")[1].split("<h2>Requests")[0]
    assert "Interview restricted" in hear and "Interview embargo_past" in hear
    assert "Interview embargo_future" not in hear
    assert "listen and download" in hear
    denied = login("r_denied").get("/access/mine").get_data(as_text=True)
    assert "status-denied" in denied and "Reason: Not enough detail." in denied
    assert "None yet" in denied
    pending = login("r_pending").get("/access/mine").get_data(as_text=True)
    assert "status-pending" in pending and ">Withdraw<" in pending
    assert login(None).get("/access/mine").status_code == 302


def test_queue_oldest_first_with_waiting_time_and_history(app, people, interviews, clock, login):
    for i, who in enumerate(("researcher", "contributor2", "r_denied")):
        clock.set(T0 - dt.timedelta(days=10 - i * 3))
        login(who).post(f"/interviews/{interviews['restricted']}/request-access", data=FORM)
    clock.set(T0 - dt.timedelta(days=20))
    login("researcher").post(f"/interviews/{interviews['embargo_past']}/request-access", data=FORM)
    clock.set(T0)
    html = login("archivist").get("/access/queue").get_data(as_text=True)
    rows = re.findall(r'<tr id="request-(\d+)"', html)
    with app.app_context():
        created = [db.session.get(AccessRequest, int(r)).created_at for r in rows]
    assert created == sorted(created) and len(rows) == 4
    assert "waiting 20 days" in html and "waiting 10 days" in html and "waiting 4 days" in html
    # The researcher's history is shown on each of their rows.
    first = html.split(f'id="request-{rows[0]}"')[1].split("</tr>")[0]
    assert "Interview restricted" in first.split("history")[1]
    # Filters
    by_interview = login("archivist").get(
        f"/access/queue?status=pending&interview={interviews['embargo_past']}"
    )
    assert len(re.findall(r'<tr id="request-', by_interview.get_data(as_text=True))) == 1
    assert login("archivist").get("/access/queue?status=nonsense").status_code == 422


@pytest.mark.parametrize("role", [None, "researcher", "contributor"])
def test_queue_and_audit_are_for_archivists(login, people, role):
    for url in ("/access/queue", "/access/audit", "/access/audit.csv"):
        status = login(role).get(url).status_code
        assert status == (302 if role is None else 403), url


def test_approve_deny_revoke_from_the_queue(app, people, interviews, states, login):
    archivist = login("archivist")
    rid = states["pending"]
    no_reason = archivist.post(f"/access/requests/{rid}/deny", data={"reason": ""})
    assert no_reason.status_code == 302
    assert "Give a reason" in archivist.get("/access/queue").get_data(as_text=True)
    ok = archivist.post(
        f"/access/requests/{rid}/approve",
        data={"expires_at": "2032-01-31", "scope": "listen_download", "next": "/access/queue"},
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/access/queue")
    with app.app_context():
        row = db.session.get(AccessRequest, rid)
        assert row.status == "approved" and row.scope == "listen_download"
        assert row.expires_at == dt.datetime(2032, 1, 31, tzinfo=dt.UTC)
    approved = archivist.get("/access/queue?status=approved").get_data(as_text=True)
    assert f'id="request-{rid}"' in approved and ">Revoke<" in approved
    # An unsafe next is ignored.
    revoked = archivist.post(
        f"/access/requests/{rid}/revoke", data={"next": "https://evil.example/"}
    )
    assert revoked.headers["Location"].endswith("/access/queue")
    # Deciding twice: 409.
    assert archivist.post(f"/access/requests/{rid}/revoke").status_code == 409
    assert login("r_pending").post(f"/access/requests/{rid}/approve").status_code in (403, 409)


def test_bulk_approve_and_deny(app, people, interviews, login):
    ids = []
    for who in ("researcher", "contributor2", "r_other"):
        login(who).post(f"/interviews/{interviews['restricted']}/request-access", data=FORM)
    with app.app_context():
        ids = [r.id for r in db.session.query(AccessRequest).order_by(AccessRequest.id)]
    archivist = login("archivist")
    queue = archivist.get("/access/queue").get_data(as_text=True)
    assert queue.count('form="bulk"') == 3
    # Deny without a reason: nothing changes.
    response = archivist.post("/access/queue/bulk", data={"ids": ids[:2], "action": "deny"})
    assert response.status_code == 302
    assert "Nothing was changed" in archivist.get("/access/queue").get_data(as_text=True)
    archivist.post(
        "/access/queue/bulk", data={"ids": ids[:2], "action": "approve", "scope": "listen"}
    )
    archivist.post(
        "/access/queue/bulk", data={"ids": [ids[2]], "action": "deny", "reason": "Duplicate."}
    )
    with app.app_context():
        statuses = [db.session.get(AccessRequest, i).status for i in ids]
    assert statuses == ["approved", "approved", "denied"]
    assert (
        login("r_other").get(f"/api/v1/interviews/{interviews['restricted']}").json["can_listen"]
        is False
    )
    assert (
        login("researcher").get(f"/api/v1/interviews/{interviews['restricted']}").json["can_listen"]
        is True
    )


def test_request_page(people, interviews, states, login):
    rid = states["denied"]
    own = login("r_denied").get(f"/access/requests/{rid}")
    assert own.status_code == 200 and "Not enough detail." in own.get_data(as_text=True)
    assert login("researcher").get(f"/access/requests/{rid}").status_code == 404
    page = login("archivist").get(f"/access/requests/{rid}").get_data(as_text=True)
    assert "access_request.deny" in page and "access_request.create" in page
    approved = login("archivist").get(f"/access/requests/{states['approved']}")
    assert ">Revoke<" in approved.get_data(as_text=True)


def test_queue_link_in_the_navigation(people, login):
    assert 'href="/access/queue"' in login("archivist").get("/").get_data(as_text=True)
    assert 'href="/access/queue"' not in login("researcher").get("/").get_data(as_text=True)
