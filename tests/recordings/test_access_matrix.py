"""Every role against every recordings endpoint, on open / registered / restricted / closed
published interviews and a draft (all deposited by ``contributor``)."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import Recording

from .conftest import recording_count, upload, wav_bytes


@pytest.fixture
def users(world_users):
    """The module's world (tests/savepoints.py): built once, each test rolled back to it."""
    return world_users


@pytest.fixture
def interviews(recorded_world):
    return recorded_world[0]


@pytest.fixture
def recorded(recorded_world):
    return recorded_world[1]


ROLE_COLUMNS = ("anon", "researcher", "contributor", "contributor2", "archivist", "admin")
# expected status per role column, by interview
LISTEN = {
    "open": (200, 200, 200, 200, 200, 200),
    "registered": (302, 200, 200, 200, 200, 200),
    "restricted": (302, 403, 200, 403, 200, 200),
    "closed": (302, 403, 200, 403, 200, 200),
    "draft": (404, 404, 200, 404, 200, 200),
}
API_READ = {  # the record of a published interview is public; a draft's is not
    **{level: (200,) * 6 for level in ("open", "registered", "restricted", "closed")},
    "draft": (404, 404, 200, 404, 200, 200),
}
# A write without credentials is refused before anything is looked up or read: 401 from the
# API, the sign-in page (302) from the pages, whether or not the interview is a draft.
UPLOAD_API = {
    **{
        level: (401, 403, 403, 403, 201, 201)
        for level in ("open", "registered", "restricted", "closed")
    },
    "draft": (401, 404, 201, 404, 201, 201),
}
UPLOAD_PAGE = {
    **{
        level: (302, 403, 403, 403, 302, 302)
        for level in ("open", "registered", "restricted", "closed")
    },
    "draft": (302, 404, 302, 404, 302, 302),
}
DELETE_API = {
    **{
        level: (401, 403, 403, 403, 204, 204)
        for level in ("open", "registered", "restricted", "closed")
    },
    "draft": (401, 404, 403, 404, 204, 204),
}
PATCH_API = {
    **{
        level: (401, 403, 403, 403, 200, 200)
        for level in ("open", "registered", "restricted", "closed")
    },
    "draft": (401, 404, 200, 404, 200, 200),
}
INTERVIEWS = ("open", "registered", "restricted", "closed", "draft")


def _clients(browser):
    return {role: browser(None if role == "anon" else role) for role in ROLE_COLUMNS}


def _check(results, expected):
    got = tuple(results)
    assert got == expected, f"got {got}, expected {expected}"


@pytest.mark.parametrize("name", INTERVIEWS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "RANGE"])
def test_audio(app, browser, recorded, name, method):
    clients = _clients(browser)
    url = f"/recordings/{recorded[name]}/audio"
    statuses = []
    for role in ROLE_COLUMNS:
        c = clients[role]
        if method == "HEAD":
            r = c.head(url, buffered=True)
        elif method == "RANGE":
            r = c.get(url, headers={"Range": "bytes=0-99"}, buffered=True)
        else:
            r = c.get(url, buffered=True)
        ok = 206 if method == "RANGE" else 200
        statuses.append(r.status_code if r.status_code != ok else 200)
        if r.status_code not in (200, 206):
            # A Range request never gets past the access check: no audio, no Content-Range.
            assert "Content-Range" not in r.headers
            assert not r.headers.get("Content-Type", "").startswith("audio/")
    _check(statuses, LISTEN[name])


@pytest.mark.parametrize("name", INTERVIEWS)
def test_download(app, browser, recorded, name):
    clients = _clients(browser)
    url = f"/recordings/{recorded[name]}/download"
    _check([clients[r].get(url, buffered=True).status_code for r in ROLE_COLUMNS], LISTEN[name])


@pytest.mark.parametrize("name", INTERVIEWS)
def test_api_get(app, browser, recorded, name):
    clients = _clients(browser)
    url = f"/api/v1/recordings/{recorded[name]}"
    results = []
    for role in ROLE_COLUMNS:
        r = clients[role].get(url)
        results.append(r.status_code)
        if r.status_code == 200:
            can = LISTEN[name][ROLE_COLUMNS.index(role)] == 200
            assert ("audio_url" in r.json) is can
            assert ("tags" in r.json) is can
    _check(results, API_READ[name])


@pytest.mark.parametrize("name", INTERVIEWS)
def test_api_upload(app, browser, interviews, name):
    clients = _clients(browser)
    results = []
    for index, role in enumerate(ROLE_COLUMNS):
        before = recording_count(app)
        r = upload(clients[role], interviews[name], wav_bytes(0.2, freq=200 + index), "a.wav")
        results.append(r.status_code)
        assert recording_count(app) == before + (1 if r.status_code == 201 else 0)
    _check(results, UPLOAD_API[name])


@pytest.mark.parametrize("name", INTERVIEWS)
def test_page_upload(app, browser, interviews, name):
    clients = _clients(browser)
    results = []
    for index, role in enumerate(ROLE_COLUMNS):
        before = recording_count(app)
        r = upload(
            clients[role], interviews[name], wav_bytes(0.2, freq=200 + index), "a.wav", api=False
        )
        results.append(r.status_code)
        if r.status_code == 302 and role != "anon":
            assert f"/interviews/{interviews[name]}" in r.headers["Location"]
            assert recording_count(app) == before + 1
        else:
            assert recording_count(app) == before
    _check(results, UPLOAD_PAGE[name])


def _fresh_recording(app, interview_id: int, freq: float) -> int:
    import io

    from oralhist.access.policy import Viewer
    from oralhist.models import Interview
    from oralhist.services import recordings

    with app.test_request_context():
        interview = db.session.get(Interview, interview_id)
        rec = recordings.add_recording(
            Viewer(role="archivist"), interview, io.BytesIO(wav_bytes(0.2, freq=freq)), "x.wav"
        )
        db.session.commit()
        return rec.id


@pytest.mark.parametrize("name", INTERVIEWS)
def test_api_delete(app, browser, interviews, name):
    clients = _clients(browser)
    results = []
    for index, role in enumerate(ROLE_COLUMNS):
        rid = _fresh_recording(app, interviews[name], 500 + index)
        r = clients[role].delete(f"/api/v1/recordings/{rid}")
        results.append(r.status_code)
        with app.app_context():
            assert (db.session.get(Recording, rid) is None) is (r.status_code == 204)
    _check(results, DELETE_API[name])


@pytest.mark.parametrize("name", INTERVIEWS)
def test_api_patch(app, browser, recorded, name):
    clients = _clients(browser)
    url = f"/api/v1/recordings/{recorded[name]}"
    results = [clients[r].patch(url, json={"label": f"by {r}"}).status_code for r in ROLE_COLUMNS]
    _check(results, PATCH_API[name])


@pytest.mark.parametrize("name", ["open", "draft"])
def test_page_delete(app, browser, interviews, name):
    clients = _clients(browser)
    expected = {"open": (302, 403, 403, 403, 302, 302), "draft": (302, 404, 403, 404, 302, 302)}
    results = []
    for index, role in enumerate(ROLE_COLUMNS):
        rid = _fresh_recording(app, interviews[name], 700 + index)
        r = clients[role].post(f"/recordings/{rid}/delete", data={})
        results.append(r.status_code)
        with app.app_context():
            deleted = db.session.get(Recording, rid) is None
        assert deleted is (role in ("archivist", "admin"))
    _check(results, expected[name])


def test_fixity_page(app, browser):
    clients = _clients(browser)
    _check(
        [clients[r].get("/admin/fixity").status_code for r in ROLE_COLUMNS],
        (302, 403, 403, 403, 200, 200),
    )


@pytest.mark.parametrize("name", INTERVIEWS)
def test_interview_page_shows_player_or_level_sentence(app, browser, recorded, name):
    clients = _clients(browser)
    for role in ROLE_COLUMNS:
        r = clients[role].get(f"/interviews/{recorded and name and _iid(app, recorded[name])}")
        if r.status_code != 200:
            continue
        html = r.get_data(as_text=True)
        may_listen = LISTEN[name][ROLE_COLUMNS.index(role)] == 200
        assert ('id="oh-audio"' in html) is may_listen, role
        assert ('id="player-denied"' in html) is (not may_listen), role
        may_upload = UPLOAD_API[name][ROLE_COLUMNS.index(role)] == 201
        assert ('id="oh-upload"' in html) is may_upload, role


def _iid(app, recording_id: int) -> int:
    with app.app_context():
        return db.session.get(Recording, recording_id).interview_id
