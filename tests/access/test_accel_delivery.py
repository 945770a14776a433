"""Audio handed to nginx (``MEDIA_ACCEL = "nginx"``) only after the access check and the audit,
and never for a listen-only grant, whose Range the app cuts (nginx would answer the client's
own, uncut Range)."""

from __future__ import annotations

from oralhist.media.storage import LocalStorage

from .test_listening_audit import events, get, size_of
from .test_material_matrix import material  # noqa: F401 (a fixture)


def _accelerate(app) -> None:
    app.extensions["oralhist_storage"] = LocalStorage(app.config["MEDIA_ROOT"], accel="nginx")


def test_nginx_sends_what_the_policy_allows_and_the_play_is_audited(
    app,
    states,
    material,  # noqa: F811
    login,
):
    _accelerate(app)
    rid = material["restricted"]
    url = f"/recordings/{rid}/audio"
    status, body, headers = get(login("r_approved"), url, Range="bytes=1-")
    assert status == 200 and body == b""
    assert headers["X-Accel-Redirect"].startswith("/_media/")
    assert len(events(app, "recording.play")) == 1
    for role in ("researcher", None):
        client = login(role) if role else app.test_client()
        status, body, headers = get(client, url, Range="bytes=1-")
        assert status in (302, 401, 403, 404)
        assert "X-Accel-Redirect" not in headers
    assert len(events(app, "recording.play")) == 1


def test_a_listen_only_grant_is_cut_by_the_app_not_handed_to_nginx(
    app,
    states,
    material,  # noqa: F811
    login,
):
    _accelerate(app)
    app.config["LISTEN_ONLY_RANGE_BYTES"] = 1000
    rid = material["embargo_past"]
    status, body, headers = get(login("r_approved"), f"/recordings/{rid}/audio", Range="bytes=1-")
    assert status == 206 and len(body) == 1000
    assert headers["Content-Range"] == f"bytes 1-1000/{size_of(app, rid)}"
    assert "X-Accel-Redirect" not in headers
