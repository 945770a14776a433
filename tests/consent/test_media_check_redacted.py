"""nginx's cached access check (``web/media_check.py``) and redaction: while the silenced
copy is being made nginx is sent nothing (the app answers 503), then it is told the silenced
access copy, never the master, except for archivists (who get the master from ``/audio`` too)."""

from __future__ import annotations

from oralhist.extensions import db
from oralhist.media.storage import LocalStorage
from oralhist.models import Recording
from oralhist.services import redacted_audio

from .test_redacted_audio import make_copies, recorded  # noqa: F401 (a fixture)


def _check(client, rid: int) -> tuple[str, str | None]:
    response = client.get(
        "/_oh/media-check",
        headers={"X-Original-URI": f"/recordings/{rid}/audio", "X-Original-Method": "GET"},
    )
    try:
        assert response.status_code == 200
        return response.headers["X-Oh-File"], response.headers.get("X-Accel-Expires")
    finally:
        response.close()


def _path(app, key: str) -> str:
    storage = app.extensions["oralhist_storage"]
    return "/" + storage.path(key).relative_to(app.config["MEDIA_ROOT"]).as_posix()


def test_the_check_names_the_silenced_copy_never_the_master(
    app,
    browser,
    archive,
    recorded,  # noqa: F811
):
    app.config["MEDIA_ACCEL"] = "nginx"
    app.config["MEDIA_ACCEL_AUTH"] = True
    app.extensions["oralhist_storage"] = LocalStorage(app.config["MEDIA_ROOT"], accel="nginx")
    with app.app_context():
        master = db.session.get(Recording, recorded).storage_key
    researcher = browser("researcher")
    # a session with its listening id (the app's first answer gives it one)
    assert researcher.get(f"/recordings/{recorded}/audio", headers={"Range": "bytes=0-9"})
    assert _check(researcher, recorded) == (_path(app, master), None)

    made = browser("archivist").post(
        f"/api/v1/interviews/{archive['interview']}/redactions",
        json={"start_ms": 10500, "end_ms": 12000, "reason": "third party"},
    )
    assert made.status_code == 201
    # the copy is not made yet: the app answers (503, "being prepared"), uncached
    assert _check(researcher, recorded) == ("", "0")
    assert make_copies(app) == 2
    with app.test_request_context():
        from oralhist.access import Viewer

        silenced = redacted_audio.served_file(
            Viewer(user_id=None, role="researcher"), db.session.get(Recording, recorded)
        )
        assert silenced.redacted and silenced.key != master
        assert silenced.mime == "audio/mpeg"  # the silenced access copy
    assert _check(researcher, recorded) == (_path(app, silenced.key), None)
    # archivists hear the master, from nginx as from the app
    archivist = browser("archivist")
    assert archivist.get(f"/recordings/{recorded}/audio", headers={"Range": "bytes=0-9"})
    assert _check(archivist, recorded) == (_path(app, master), None)
