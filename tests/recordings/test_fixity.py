"""``oralhist fixity``: missing, changed and orphan files, the exit status, and the page."""

from __future__ import annotations

import io
import os

from oralhist.extensions import db
from oralhist.models import FixityCheck


def _run(app):
    return app.test_cli_runner().invoke(args=["fixity"])


def test_clean_archive_passes(app, browser, recorded):
    result = _run(app)
    assert result.exit_code == 0, result.output
    assert f"Checked {len(recorded)} files: 0 missing, 0 changed, 0 orphans;" in result.output
    page = browser("archivist").get("/admin/fixity").get_data(as_text=True)
    assert "All files are intact" in page


def test_missing_changed_and_orphan_files_fail(app, browser, recorded):
    from oralhist.services import recordings

    with app.app_context():
        from oralhist.models import Recording

        missing = db.session.get(Recording, recorded["open"]).storage_key
        changed = db.session.get(Recording, recorded["closed"]).storage_key
        media = recordings.storage()
        media.path(missing).unlink()
        path = media.path(changed)
        os.chmod(path, 0o644)  # stored files are read-only: make it writable to damage it
        with open(path, "r+b") as fh:
            fh.seek(100)
            fh.write(b"\x00\x01\x02\x03")
        orphan = media.save_stream(io.BytesIO(b"nobody uses me")).key
    result = _run(app)
    assert result.exit_code == 1, result.output
    assert "1 missing, 1 changed, 1 orphans" in result.output
    assert f"MISSING: {missing} (recording {recorded['open']})" in result.output
    assert f"CHANGED: {changed} (recording {recorded['closed']})" in result.output
    assert f"ORPHAN: {orphan} (no row)" in result.output
    with app.app_context():
        check = db.session.query(FixityCheck).one()
        assert (check.checked, check.failures) == (len(recorded), 3)
        assert check.report["changed"][0]["expected_sha256"] == changed
    page = browser("archivist").get("/admin/fixity").get_data(as_text=True)
    assert "3 problems found" in page
    for key in (missing, changed, orphan):
        assert key in page


def test_document_attachments_are_checked_too(app, recorded):
    from oralhist.models import Document
    from oralhist.services import recordings

    with app.app_context():
        stored = recordings.storage().save_stream(io.BytesIO(b"%PDF-1.4 attachment"))
        db.session.add(
            Document(
                title="Pamphlet",
                file_key=stored.key,
                file_sha256=stored.sha256,
                file_size=stored.size,
            )
        )
        db.session.commit()
    result = _run(app)
    assert result.exit_code == 0, result.output
    assert f"Checked {len(recorded) + 1} files" in result.output


def test_fixity_page_before_any_check(app, browser):
    page = browser("admin").get("/admin/fixity").get_data(as_text=True)
    assert "No fixity check has been run yet" in page


def test_abandoned_upload_temp_files_are_swept(app, recorded):
    """A .part that no live process holds is an abandoned upload: removed and reported. One
    whose upload is still arriving (its lock held) is never touched, however old."""
    import fcntl
    import time
    from pathlib import Path

    media = Path(app.config["MEDIA_ROOT"])
    temp = next(p for p in media.rglob("*") if p.is_dir() and p.name == "tmp")
    old = temp / "crashed-upload.part"
    live = temp / "uploading-now.part"
    old.write_bytes(b"half an upload")
    live.write_bytes(b"still arriving")
    hour_ago = time.time() - 7200
    os.utime(live, (hour_ago, hour_ago))
    with open(live, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # as LocalStorage does while writing
        result = _run(app)
    assert result.exit_code == 0, result.output
    assert "ABANDONED UPLOAD: tmp/crashed-upload.part (14 bytes" in result.output
    assert "1 abandoned upload files removed" in result.output
    assert not old.exists()
    assert live.exists()  # an upload in progress is never touched
    with app.app_context():
        check = db.session.query(FixityCheck).one()
        assert check.report["abandoned_uploads_removed"] == 1
        assert check.report["abandoned_uploads"] == [{"name": "crashed-upload.part", "size": 14}]
