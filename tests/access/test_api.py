"""The access-request API: create, list (own / all, filtered, paginated), read, and the four
moves, with the JSON error shape."""

from __future__ import annotations

FORM = {
    "purpose": "A radio documentary on the 1962 flood.",
    "intended_use": "broadcast",
    "agree_terms": True,
}


def test_create_and_read(people, interviews, login):
    researcher = login("researcher")
    url = f"/api/v1/interviews/{interviews['restricted']}/access-requests"
    created = researcher.post(url, json=FORM)
    assert created.status_code == 201
    body = created.json
    assert body["status"] == "pending" and body["intended_use"] == "broadcast"
    assert body["actions"] == ["withdraw"] and body["agreed_terms"] is True
    assert researcher.get(body["url"]).json["id"] == body["id"]
    dup = researcher.post(url, json=FORM)
    assert dup.status_code == 409 and dup.json["error"]["code"] == "conflict"
    assert "open request" in dup.json["error"]["message"]
    bad = login("contributor2").post(url, json={"purpose": "short"})
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]["fields"]) == {
        "purpose",
        "intended_use",
        "agree_terms",
    }
    anonymous = login(None).post(url, json=FORM)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    draft = f"/api/v1/interviews/{interviews['draft']}/access-requests"
    assert researcher.post(draft, json=FORM).status_code == 404
    closed = f"/api/v1/interviews/{interviews['closed']}/access-requests"
    assert researcher.post(closed, json=FORM).status_code == 403
    assert researcher.post(url, data="nope").status_code == 422


def test_list_own_or_all(people, interviews, states, login):
    own = login("r_approved").get("/api/v1/access-requests").json
    assert own["total"] == 3 and {i["requester_id"] for i in own["items"]} == {people["r_approved"]}
    everyone = login("archivist").get("/api/v1/access-requests").json
    assert everyone["total"] == len(states)
    pending = login("archivist").get("/api/v1/access-requests?status=pending").json
    assert [i["id"] for i in pending["items"]] == [states["pending"]]
    expired = login("archivist").get("/api/v1/access-requests?status=expired").json
    assert [i["id"] for i in expired["items"]] == [states["expired"]]
    assert expired["items"][0]["status"] == "expired"
    by_interview = (
        login("archivist")
        .get(f"/api/v1/access-requests?interview={interviews['embargo_past']}")
        .json
    )
    assert by_interview["total"] == 2
    paged = login("archivist").get("/api/v1/access-requests?per_page=2&page=2").json
    assert paged["page"] == 2 and paged["per_page"] == 2 and len(paged["items"]) == 2
    assert login("archivist").get("/api/v1/access-requests?status=bogus").status_code == 422
    assert login(None).get("/api/v1/access-requests").status_code == 401
    assert (
        login("researcher").get(f"/api/v1/access-requests/{states['pending']}").status_code == 404
    )


def test_moves(app, people, interviews, states, login):
    archivist = login("archivist")
    rid = states["pending"]
    assert login("r_pending").post(f"/api/v1/access-requests/{rid}/approve").status_code == 403
    no_reason = archivist.post(f"/api/v1/access-requests/{rid}/deny", json={})
    assert no_reason.status_code == 422
    assert no_reason.json["error"]["details"]["fields"] == {"reason": "is required"}
    bad_date = archivist.post(f"/api/v1/access-requests/{rid}/approve", json={"expires_at": "soon"})
    assert bad_date.status_code == 422
    ok = archivist.post(
        f"/api/v1/access-requests/{rid}/approve",
        json={"expires_at": "2031-12-01", "scope": "listen"},
    )
    assert ok.status_code == 200
    assert ok.json["status"] == "approved" and ok.json["expires_at"].startswith("2031-12-01")
    again = archivist.post(f"/api/v1/access-requests/{rid}/approve")
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    assert archivist.post(f"/api/v1/access-requests/{rid}/revoke").json["status"] == "revoked"
    assert archivist.post(f"/api/v1/access-requests/{rid}/frobnicate").status_code == 404
    withdrawn = login("r_withdrawn").post(f"/api/v1/access-requests/{states['withdrawn']}/withdraw")
    assert withdrawn.status_code == 409


def test_bearer_token_needs_no_csrf(app, people, interviews):
    from oralhist.services import accounts

    with app.app_context():
        from oralhist.extensions import db
        from oralhist.models import User

        secret = accounts.create_token(db.session.get(User, people["researcher"]), "script")
        db.session.commit()
    client = app.test_client()
    response = client.post(
        f"/api/v1/interviews/{interviews['restricted']}/access-requests",
        json=FORM,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
