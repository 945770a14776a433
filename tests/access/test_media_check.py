"""nginx's cached access check for the player's audio (``MEDIA_ACCEL_AUTH``,
``web/media_check.py``): it names a file for nginx to send only where ``/audio`` would send
those same bytes with the client's own Range (never to a listen-only grant, whose Range the
app cuts; never the master where a redacted or access copy is what the listener gets), audits
the play once per listening session, and leaves to the app, uncached, what holds for one
request only. Through a real nginx: ``tests/test_accel_audio_check.py``."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.media.storage import LocalStorage
from oralhist.models import Recording, User
from oralhist.services import accounts

from .test_listening_audit import events, get


# The module's world (tests/savepoints.py): people, interviews, requests in every state and
# material on every interview, built once; each test is rolled back to it.
@pytest.fixture
def users(world_users):
    return world_users


@pytest.fixture
def people(material_world):
    return material_world[0]


@pytest.fixture
def interviews(material_world, clock):
    return material_world[1]


@pytest.fixture
def states(material_world, clock):
    return material_world[2]


@pytest.fixture
def material(material_world, clock):
    return material_world[3]


CHECK = "/_oh/media-check"


@pytest.fixture
def checking(app):
    """The app as nginx's check answers it: local files sent by nginx, the check enabled."""
    app.config["MEDIA_ACCEL"] = "nginx"
    app.config["MEDIA_ACCEL_AUTH"] = True
    app.extensions["oralhist_storage"] = LocalStorage(app.config["MEDIA_ROOT"], accel="nginx")
    return app


def check(client, rid: int, method: str = "GET", **headers) -> tuple[int, str, dict]:
    """The check's status, the file it names (empty: the app answers) and its headers."""
    status, _, response_headers = get(
        client,
        CHECK,
        **{"X-Original-URI": f"/recordings/{rid}/audio", "X-Original-Method": method, **headers},
    )
    return status, response_headers.get("X-Oh-File", "<absent>"), dict(response_headers)


def _front_path(app, rid: int) -> str:
    """Where the stored file is, under MEDIA_ROOT (nginx's ``root``)."""
    with app.app_context():
        key = db.session.get(Recording, rid).storage_key
    storage = app.extensions["oralhist_storage"]
    return "/" + storage.path(key).relative_to(app.config["MEDIA_ROOT"]).as_posix()


def bearer(app, people, who: str) -> dict:
    """The Authorization header of a new API token of ``who`` (a script: no session)."""
    with app.app_context():
        secret = accounts.create_token(db.session.get(User, people[who]), "script")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_check_is_404_unless_enabled(app, states, material, login):
    rid = material["restricted"]
    client = login("r_approved")
    assert check(client, rid)[0] == 404  # no MEDIA_ACCEL
    app.config["MEDIA_ACCEL"] = "nginx"
    assert check(client, rid)[0] == 404  # nginx, but the check not enabled
    app.config["MEDIA_ACCEL_AUTH"] = True
    app.config["MEDIA_ACCEL"] = None
    assert check(client, rid)[0] == 404
    assert events(app, "recording.play") == []


def test_a_full_grant_gets_the_file_named_and_one_play(
    checking,
    states,
    material,
    login,
):
    app = checking
    rid = material["restricted"]
    client = login("r_approved")
    # A browser session without a listening id yet: the app answers first (and gives it one).
    status, named, headers = check(client, rid, Range="bytes=0-")
    assert (status, named, headers.get("X-Accel-Expires")) == (200, "", "0")
    assert events(app, "recording.play") == []
    assert get(client, f"/recordings/{rid}/audio", Range="bytes=0-9")[0] == 200  # X-Accel
    assert len(events(app, "recording.play")) == 1
    # Now the session has its id: nginx may send the file itself, and the check is cacheable.
    status, named, headers = check(client, rid, **{"X-Original-Range": "bytes=100-"})
    assert (status, named) == (200, _front_path(app, rid))
    assert "X-Accel-Expires" not in headers
    assert headers["X-Oh-Type"] == "audio/wav"
    assert check(client, rid)[1] == _front_path(app, rid)
    assert len(events(app, "recording.play")) == 1  # still one play in this listening session


def test_a_script_with_a_token_is_audited_by_the_check(
    checking,
    people,
    states,
    material,
):
    app = checking
    rid = material["restricted"]
    auth = bearer(app, people, "r_approved")
    client = app.test_client(use_cookies=False)
    assert check(client, rid, **auth)[1] == _front_path(app, rid)
    plays = events(app, "recording.play")
    assert [(p.user_id, p.object_id) for p in plays] == [(people["r_approved"], rid)]
    for _ in range(3):
        assert check(client, rid, **auth, **{"X-Original-Range": "bytes=5-99"})[1]
    assert len(events(app, "recording.play")) == 1


@pytest.mark.parametrize("role", [None, "researcher", "r_pending", "r_revoked", "r_expired"])
def test_those_refused_are_left_to_the_app(
    checking,
    people,
    states,
    material,
    role,
):
    app = checking
    rid = material["restricted"]
    # by token, without a session cookie: the policy decides, not the listening-id rule
    auth = bearer(app, people, role) if role else {}
    status, named, headers = check(app.test_client(use_cookies=False), rid, **auth)
    assert (status, named) == (200, "")
    assert "X-Accel-Expires" not in headers  # the app refuses again within the cache time
    assert events(app, "recording.play") == []


def test_a_listen_only_grant_is_always_left_to_the_app(
    checking,
    people,
    states,
    material,
):
    app = checking
    rid = material["embargo_past"]  # r_approved may listen, not download
    auth = bearer(app, people, "r_approved")
    status, named, _ = check(
        app.test_client(use_cookies=False), rid, **auth, **{"X-Original-Range": "bytes=0-"}
    )
    assert (status, named) == (200, "")
    assert events(app, "recording.play") == []  # the app audits what it sends


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Original-Method": "HEAD"},
        {"If-None-Match": '"abc"'},
        {"If-Range": '"abc"'},
        {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"},
        {"X-Original-Range": "bytes=0-9,20-29"},
        {"X-Original-Range": "bytes=99999999-"},
        {"X-Original-Range": "pages=1"},
    ],
)
def test_what_holds_for_one_request_goes_to_the_app_uncached(
    checking,
    people,
    states,
    material,
    headers,
):
    app = checking
    rid = material["restricted"]
    auth = bearer(app, people, "r_approved")
    status, named, response_headers = check(
        app.test_client(use_cookies=False), rid, **auth, **headers
    )
    assert (status, named, response_headers["X-Accel-Expires"]) == (200, "", "0")
    assert events(app, "recording.play") == []  # no bytes go out from this answer


@pytest.mark.parametrize("uri", ["/recordings/999999/audio", "/recordings/1/download", "/", ""])
def test_other_requests_are_left_to_the_app(checking, states, material, uri):
    status, _, headers = get(
        checking.test_client(use_cookies=False), CHECK, **{"X-Original-URI": uri}
    )
    assert (status, headers["X-Oh-File"]) == (200, "")


def test_without_local_files_the_app_sends_them(
    checking,
    people,
    states,
    material,
):
    app = checking
    app.extensions["oralhist_storage"] = LocalStorage(app.config["MEDIA_ROOT"])  # no nginx
    rid = material["restricted"]
    auth = bearer(app, people, "r_approved")
    assert check(app.test_client(use_cookies=False), rid, **auth)[1] == ""
    assert events(app, "recording.play") == []


@pytest.mark.parametrize("kind", ["draft", "closed", "registered", "open"])
@pytest.mark.parametrize(
    "role", ["anonymous", "researcher", "contributor", "contributor2", "archivist"]
)
def test_every_role_gets_the_file_only_where_the_app_would_send_it(
    checking,
    people,
    interviews,
    states,
    material,
    role,
    kind,
):
    """The role matrix of the check: the depositor (``contributor``) and archivists get the
    file of a draft or closed interview; others do not; a registered one goes to every
    signed-in role, an open one to all."""
    app = checking
    rid = material[kind]
    auth = {} if role == "anonymous" else bearer(app, people, role)
    named = check(app.test_client(use_cookies=False), rid, **auth)[1]
    sees = {
        "draft": {"contributor", "archivist"},
        "closed": {"contributor", "archivist"},
        "registered": {"researcher", "contributor", "contributor2", "archivist"},
        "open": {"anonymous", "researcher", "contributor", "contributor2", "archivist"},
    }[kind]
    assert named == (_front_path(app, rid) if role in sees else "")
    # plays of material that is not open, by whoever got the file; none otherwise
    plays = [(e.user_id, e.object_id) for e in events(app, "recording.play")]
    audited = role in sees and kind != "open"
    assert plays == ([(people[role], rid)] if audited else [])


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Original-URI": "/recordings/99999999999999999999/audio"},
        {"X-Original-URI": "/recordings/x/audio"},
        {"X-Original-URI": "\x00%%%"},
        {"X-Original-URI": "/recordings/1/audio", "X-Original-Range": "bytes=-"},
        {"X-Original-URI": "/recordings/1/audio", "X-Original-Range": "bytes=5-1"},
        {"X-Original-URI": "/recordings/1/audio", "X-Original-Method": "DELETE"},
    ],
)
def test_junk_from_the_front_server_is_never_a_500(checking, states, material, headers):
    status, _, response_headers = get(checking.test_client(use_cookies=False), CHECK, **headers)
    assert (status, response_headers["X-Oh-File"]) == (200, "")


def test_a_browser_session_gets_open_material_from_nginx_at_once(
    checking,
    states,
    material,
    login,
):
    """Open material is not audited: no listening id is needed, so a signed-in browser's
    first request is already nginx's (it was left to the app, uncached, every time)."""
    app = checking
    rid = material["open"]
    status, named, headers = check(login("researcher"), rid, **{"X-Original-Range": "bytes=0-"})
    assert (status, named) == (200, _front_path(app, rid))
    assert "X-Accel-Expires" not in headers
    assert events(app, "recording.play") == []
