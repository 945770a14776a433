"""The archive on the in-memory storage (``MEDIA_STORAGE = "memory"``, as Indico's tests swap
theirs): uploads, playback with Range, downloads, document files and fixity all go through the
``Storage`` protocol, so they work unchanged, and nothing is written under ``MEDIA_ROOT``."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import text

from oralhist.extensions import db
from oralhist.media.memory import MemoryStorage
from oralhist.models import Document, Recording

from ..conftest import build_app
from .conftest import media_files, upload, wav_bytes


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path, MEDIA_STORAGE="memory")
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def _storage(app) -> MemoryStorage:
    from oralhist.services import recordings

    with app.app_context():
        media = recordings.storage()
    assert isinstance(media, MemoryStorage)
    return media


def test_upload_play_a_range_and_download(app, browser, interviews):
    content = wav_bytes(0.5, freq=523)
    archivist = browser("archivist")
    r = upload(archivist, interviews["restricted"], content, "tape.wav")
    assert r.status_code == 201, r.json
    assert r.json["sha256"] == hashlib.sha256(content).hexdigest()
    assert media_files(app) == []  # nothing on disk
    url = f"/recordings/{r.json['id']}/audio"
    full = archivist.get(url, buffered=True)
    assert full.status_code == 200 and full.data == content
    part = archivist.get(url, headers={"Range": "bytes=44-143"}, buffered=True)
    assert part.status_code == 206 and part.data == content[44:144]
    assert part.headers["Content-Range"] == f"bytes 44-143/{len(content)}"
    assert archivist.get(url, headers={"Range": "bytes=999999-"}, buffered=True).status_code == 416
    # The access check still comes first: a researcher without a grant gets nothing.
    assert browser("researcher").get(url, buffered=True).status_code == 403
    download = archivist.get(r.json["download_url"], buffered=True)
    assert download.data == content
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_document_file_is_served_from_memory(app, browser):
    pdf = b"%PDF-1.4\n% a pamphlet\n"
    media = _storage(app)
    with app.app_context():
        stored = media.save_stream(io.BytesIO(pdf))
        document = Document(
            title="Pamphlet",
            file_key=stored.key,
            file_sha256=stored.sha256,
            file_size=stored.size,
            file_mime="application/pdf",
            file_name="pamphlet.pdf",
        )
        db.session.add(document)
        db.session.commit()
        url = f"/documents/{document.id}/file"
    r = browser().get(url, buffered=True)
    assert r.status_code == 200 and r.data == pdf
    assert r.headers["Content-Type"] == "application/pdf"
    assert browser().get(url, headers={"Range": "bytes=0-7"}, buffered=True).data == pdf[:8]


def test_fixity_finds_missing_changed_and_orphan_files(app, recorded):
    media = _storage(app)
    with app.app_context():
        missing = db.session.get(Recording, recorded["open"]).storage_key
        changed = db.session.get(Recording, recorded["closed"]).storage_key
    media.delete(missing)
    media.damage(changed, b"not the recorded bytes")
    orphan = media.save_stream(io.BytesIO(b"nobody uses me")).key
    result = app.test_cli_runner().invoke(args=["fixity"])
    assert result.exit_code == 1, result.output
    assert "1 missing, 1 changed, 1 orphans" in result.output
    assert f"MISSING: {missing}" in result.output and f"ORPHAN: {orphan}" in result.output
    assert f"CHANGED: {changed}" in result.output
