"""``MEDIA_ACCEL``: once the app has decided what a request gets (200 or 206), the local
storage hands the bytes to the front server: ``X-Accel-Redirect`` to nginx's internal location,
or ``X-Sendfile`` with the path. A 304 or 416 is answered by the app, with no file; a caller
that changed the Range (``accelerate=False``) gets the bytes from the app.
``tests/test_accel_nginx.py`` runs the same responses through a real nginx."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from flask import Flask, request

from oralhist.media.storage import LocalStorage, open_storage

CONTENT = bytes(range(256)) * 40
KEY = hashlib.sha256(CONTENT).hexdigest()
MODIFIED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def client_for(storage: LocalStorage):
    app = Flask(__name__)

    @app.route("/files/<key>", methods=["GET", "HEAD"])
    def send(key: str):
        return storage.send(
            key,
            mimetype="audio/wav",
            etag=key,
            last_modified=MODIFIED,
            download_name="tape.wav",
            accelerate=request.args.get("accelerate") != "no",
        )

    return app.test_client()


@pytest.fixture
def stored(tmp_path: Path):
    def make(**kw) -> tuple[LocalStorage, object]:
        storage = LocalStorage(tmp_path / "media", **kw)
        storage.save_stream(io.BytesIO(CONTENT))
        return storage, client_for(storage)

    return make


def test_nginx_gets_the_internal_path_and_the_apps_headers(stored):
    _storage, client = stored(accel="nginx", accel_prefix="/_media/")
    for headers in ({}, {"Range": "bytes=10-19"}):
        r = client.get(f"/files/{KEY}", headers=headers, buffered=True)
        assert r.status_code == 200  # nginx answers the Range from the file
        assert r.data == b""
        assert r.headers["X-Accel-Redirect"] == f"/_media/{KEY[:2]}/{KEY[2:4]}/{KEY}"
        assert r.headers["Content-Type"] == "audio/wav"
        assert r.headers["Content-Disposition"].startswith("inline")
        assert "tape.wav" in r.headers["Content-Disposition"]
        assert r.headers["ETag"] == f'"{KEY}"'
        assert "Content-Length" not in r.headers or r.headers["Content-Length"] == "0"
    head = client.head(f"/files/{KEY}", buffered=True)
    assert head.status_code == 200 and "X-Accel-Redirect" in head.headers


def test_sendfile_gets_the_absolute_path(stored):
    _storage, client = stored(accel="sendfile")
    r = client.get(f"/files/{KEY}", buffered=True)
    assert r.status_code == 200 and r.data == b""
    assert Path(r.headers["X-Sendfile"]).read_bytes() == CONTENT
    assert Path(r.headers["X-Sendfile"]).is_absolute()


def test_what_the_app_answers_itself(stored):
    _storage, client = stored(accel="nginx")
    unchanged = client.get(f"/files/{KEY}", headers={"If-None-Match": f'"{KEY}"'}, buffered=True)
    assert unchanged.status_code == 304 and "X-Accel-Redirect" not in unchanged.headers
    beyond = client.get(
        f"/files/{KEY}", headers={"Range": f"bytes={len(CONTENT) + 5}-"}, buffered=True
    )
    assert beyond.status_code == 416 and "X-Accel-Redirect" not in beyond.headers
    assert beyond.headers["Content-Range"] == f"bytes */{len(CONTENT)}"
    kept = client.get(
        f"/files/{KEY}?accelerate=no", headers={"Range": "bytes=10-19"}, buffered=True
    )
    assert kept.status_code == 206 and kept.data == CONTENT[10:20]
    assert "X-Accel-Redirect" not in kept.headers


def test_without_accel_the_app_sends_the_bytes(stored):
    _storage, client = stored()
    r = client.get(f"/files/{KEY}", headers={"Range": "bytes=10-19"}, buffered=True)
    assert r.status_code == 206 and r.data == CONTENT[10:20]
    assert "X-Accel-Redirect" not in r.headers and "X-Sendfile" not in r.headers


def test_bad_settings_are_refused_with_what_to_set(tmp_path):
    with pytest.raises(ValueError, match="MEDIA_ACCEL is 'apache'"):
        LocalStorage(tmp_path, accel="apache")
    with pytest.raises(ValueError, match="MEDIA_ACCEL_PREFIX"):
        LocalStorage(tmp_path, accel="nginx", accel_prefix="_media")
    storage = open_storage(
        {"MEDIA_STORAGE": "local", "MEDIA_ROOT": str(tmp_path), "MEDIA_ACCEL": "nginx"}
    )
    assert (storage.accel, storage.accel_prefix) == ("nginx", "/_media/")
