"""A truthful audit log of listening and downloading, and what a listen-only grant is served.

A play is written when audio bytes go out, once per listening session (user, recording and
client, for 30 minutes): not per Range request, not for opening the page (the player fetches
nothing before playback), not for HEAD, 304 or 416, and also for clients that are not the
player (whatever the Range). A listen-only grant gets Range responses cut to
``LISTEN_ONLY_RANGE_BYTES`` and never the whole file. Publication and access changes are
audited with before/after values.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import AuditEvent, Recording, User

from .test_material_matrix import material  # noqa: F401 (a fixture)


def events(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))


def get(client, url, **headers):
    response = client.get(url, headers=headers)
    try:
        return response.status_code, response.get_data(), response.headers
    finally:
        response.close()


def head(client, url) -> int:
    response = client.head(url)
    response.close()
    return response.status_code


def size_of(app, rid: int) -> int:
    with app.app_context():
        return db.session.get(Recording, rid).size


def test_opening_the_page_is_not_a_play(app, interviews, states, material, login):  # noqa: F811
    client = login("r_approved")
    page = client.get(f"/interviews/{interviews['restricted']}").get_data(as_text=True)
    assert '<audio id="oh-audio" controls preload="none"' in page
    assert events(app, "recording.play") == []


def test_one_play_per_listening_session_whatever_the_range(
    app,
    people,
    interviews,
    states,
    material,  # noqa: F811
    login,
    clock,
):
    rid = material["restricted"]
    url = f"/recordings/{rid}/audio"
    client = login("r_approved")
    # the old rule logged only ranges starting at 0: a reader starting at byte 1 was unseen
    status, body, _ = get(client, url, Range="bytes=1-")
    assert status == 206 and len(body) == size_of(app, rid) - 1  # a full grant: as asked
    for byte_range in ("bytes=0-99", "bytes=100-", "bytes=-500", "bytes=5000-6000"):
        assert get(client, url, Range=byte_range)[0] == 206
    plays = events(app, "recording.play")
    assert len(plays) == 1
    assert plays[0].user_id == people["r_approved"] and plays[0].object_id == rid
    assert plays[0].details["interview_id"] == interviews["restricted"]
    assert plays[0].details["range"] == "bytes=1-"
    # HEAD, a 304 and a 416 send no audio and write nothing, even in a new session
    clock.advance(minutes=31)
    assert head(client, url) == 200
    etag = get(client, url, Range="bytes=0-9")[2]["ETag"]
    assert len(events(app, "recording.play")) == 2  # a new session after 30 minutes
    clock.advance(minutes=31)
    assert get(client, url, **{"If-None-Match": etag})[0] == 304
    assert get(client, url, Range="bytes=99999999-")[0] == 416
    assert len(events(app, "recording.play")) == 2
    # another browser session of the same user is another listening session
    assert get(login("r_approved"), url, Range="bytes=0-")[0] == 206
    assert len(events(app, "recording.play")) == 3


def test_scripts_are_audited_too(app, people, interviews, states, material):  # noqa: F811
    """A client without a session cookie (a token, curl) reading /audio without Range."""
    from oralhist.services import accounts

    with app.app_context():
        secret = accounts.create_token(db.session.get(User, people["r_approved"]), "script")
        db.session.commit()
    url = f"/recordings/{material['restricted']}/audio"
    auth = {"Authorization": f"Bearer {secret}", "User-Agent": "curl/8"}
    client = app.test_client(use_cookies=False)
    for headers in (auth, {**auth, "Range": "bytes=10-"}):
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 206)
        response.close()
    plays = events(app, "recording.play")
    assert len(plays) == 1 and plays[0].user_id == people["r_approved"]
    other = client.get(url, headers={**auth, "User-Agent": "wget/1"})
    other.close()
    assert len(events(app, "recording.play")) == 2  # another client program


def test_downloads_once_per_session(app, people, states, material, login):  # noqa: F811
    client = login("r_approved")
    url = f"/recordings/{material['restricted']}/download"
    assert get(client, url)[0] == 200
    assert get(client, url, Range="bytes=100-")[0] == 206  # a resumed download
    downloads = events(app, "recording.download")
    assert [e.user_id for e in downloads] == [people["r_approved"]]
    assert events(app, "recording.play") == []


def test_open_material_is_not_audited(app, states, material, login):  # noqa: F811
    assert get(login("researcher"), f"/recordings/{material['open']}/audio")[0] == 200
    assert events(app, "recording.play") == []


def test_a_listen_only_grant_gets_no_whole_file(app, states, material, login):  # noqa: F811
    """r_approved's grant on embargo_past is listen-only."""
    app.config["LISTEN_ONLY_RANGE_BYTES"] = 1000
    rid = material["embargo_past"]
    size = size_of(app, rid)
    url = f"/recordings/{rid}/audio"
    client = login("r_approved")
    status, body, _ = get(client, url)
    assert status == 403 and b"listen-and-download" in body
    assert get(client, f"/recordings/{rid}/download")[0] == 403
    assert events(app, "recording.play") == []
    # the player's requests: at most 1000 bytes each, the Content-Range says where it stops
    status, body, headers = get(client, url, Range="bytes=1-")
    assert status == 206 and len(body) == 1000
    assert headers["Content-Range"] == f"bytes 1-1000/{size}"
    # the deposited file's name is not a listener's to know (policy.recording_fields)
    assert "embargo_past.wav" not in headers["Content-Disposition"]
    assert "-part1.wav" in headers["Content-Disposition"]
    status, body, headers = get(client, url, Range="bytes=0-199")
    assert status == 206 and len(body) == 200
    # ways round the cut that fall back to the whole file are refused
    assert get(client, url, Range="bytes=0-10,20-30")[0] == 403
    assert get(client, url, Range="bytes=0-", **{"If-Range": '"stale"'})[0] == 403
    assert head(client, url) == 200
    assert len(events(app, "recording.play")) == 1
    # a listen-and-download grant is served what it asks for
    whole = material["restricted"]
    status, body, _ = get(client, f"/recordings/{whole}/audio", Range="bytes=1-")
    assert len(body) == size_of(app, whole) - 1


def test_publication_and_access_changes_are_audited(app, people, interviews, login):
    archivist = login("archivist")
    iid = interviews["open"]
    assert (
        archivist.patch(
            f"/api/v1/interviews/{iid}",
            json={"access_level": "restricted", "embargo_until": "2040-01-01"},
        ).status_code
        == 200
    )
    assert (
        archivist.patch(f"/api/v1/interviews/{iid}", json={"embargo_until": None}).status_code
        == 200
    )
    assert archivist.post(f"/api/v1/interviews/{iid}/unpublish").status_code == 200
    assert archivist.post(f"/api/v1/interviews/{iid}/publish").status_code == 200
    archivist.patch(f"/api/v1/interviews/{iid}", json={"access_level": "restricted"})  # same
    got = [
        (e.action, e.object_type, e.object_id, e.user_id, e.details["before"], e.details["after"])
        for e in events(app)
        if e.action.startswith("interview.")
    ]
    who = people["archivist"]
    assert got == [
        ("interview.access_level", "interview", iid, who, "open", "restricted"),
        ("interview.embargo", "interview", iid, who, None, "2040-01-01"),
        ("interview.embargo", "interview", iid, who, "2040-01-01", None),
        ("interview.unpublish", "interview", iid, who, "published", "draft"),
        ("interview.publish", "interview", iid, who, "draft", "published"),
    ]
    page = archivist.get("/access/audit?action=interview.*").get_data(as_text=True)
    assert page.count("<code>interview.") == 5 and "before=open" in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                archivist.get("/access/audit.csv?action=interview.*").get_data(as_text=True)
            )
        )
    )
    assert len(rows) == 5
    assert all(f'"interview_id": {iid}' in row["details"] for row in rows)
    assert '"after": "restricted"' in rows[-1]["details"] or any(
        '"after": "restricted"' in row["details"] for row in rows
    )


@pytest.mark.parametrize("role", ["contributor", "researcher"])
def test_contributors_changes_of_their_drafts_are_not_access_changes(app, people, login, role):
    """A deposit sets an access level without an audit event (a creation, not a change)."""
    if role == "researcher":
        assert login(role).post("/api/v1/interviews", json={"title": "x"}).status_code == 403
    else:
        made = login(role).post("/api/v1/interviews", json={"title": "x", "access_level": "closed"})
        assert made.status_code == 201
    assert [e for e in events(app) if e.action.startswith("interview.")] == []


def test_the_audit_log_filters_by_interview(app, people, interviews, states, material, login):  # noqa: F811
    """Who listened to, downloaded or changed one interview: its own events and those of its
    recordings and requests (which carry its id)."""
    iid = interviews["restricted"]
    client = login("r_approved")
    assert get(client, f"/recordings/{material['restricted']}/audio", Range="bytes=0-")[0] == 206
    assert get(client, f"/recordings/{material['registered']}/audio", Range="bytes=0-")[0] == 206
    archivist = login("archivist")
    archivist.patch(f"/api/v1/interviews/{iid}", json={"access_level": "closed"})
    page = archivist.get(f"/access/audit?interview={iid}&per_page=100").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert "<code>recording.play</code>" in body and "<code>interview.access_level</code>" in body
    assert body.count("<code>recording.play</code>") == 1  # not the registered one's play
    assert body.count("<code>access_request.create</code>") == 6  # its six requests
    rows = archivist.get(f"/access/audit.csv?interview={iid}").get_data(as_text=True)
    assert "recording.play" in rows and "interview.access_level" in rows
    assert archivist.get("/access/audit?interview=x").status_code == 422
