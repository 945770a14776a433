"""The audio endpoints: headers, ranges, conditional requests, HEAD, download names, audit."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from oralhist.models import AuditEvent, Recording

from .conftest import upload, wav_bytes


def _rec(app, rid):
    with app.app_context():
        rec = db.session.get(Recording, rid)
        db.session.expunge(rec)
        return rec


def test_full_get_headers(app, browser, recorded):
    rec = _rec(app, recorded["open"])
    r = browser().get(f"/recordings/{rec.id}/audio", buffered=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "audio/wav"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["ETag"] == f'"{rec.sha256}"'
    assert r.headers["Last-Modified"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("inline")
    assert "private" in r.headers["Cache-Control"]
    assert int(r.headers["Content-Length"]) == rec.size == len(r.data)


def test_single_range_206(app, browser, recorded):
    rec = _rec(app, recorded["open"])
    full = browser().get(f"/recordings/{rec.id}/audio", buffered=True).data
    r = browser().get(
        f"/recordings/{rec.id}/audio", headers={"Range": "bytes=100-199"}, buffered=True
    )
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes 100-199/{rec.size}"
    assert r.data == full[100:200]
    suffix = browser().get(
        f"/recordings/{rec.id}/audio", headers={"Range": "bytes=-10"}, buffered=True
    )
    assert suffix.status_code == 206 and suffix.data == full[-10:]
    open_ended = browser().get(
        f"/recordings/{rec.id}/audio", headers={"Range": f"bytes={rec.size - 5}-"}, buffered=True
    )
    assert open_ended.status_code == 206 and open_ended.data == full[-5:]


def test_multi_range_gets_the_whole_file(app, browser, recorded):
    rec = _rec(app, recorded["open"])
    r = browser().get(
        f"/recordings/{rec.id}/audio", headers={"Range": "bytes=0-9,20-29"}, buffered=True
    )
    assert r.status_code == 200 and len(r.data) == rec.size


@pytest.mark.parametrize("header", [lambda n: f"bytes={n}-", lambda n: f"bytes={n + 10}-{n + 20}"])
def test_unsatisfiable_range_416(app, browser, recorded, header):
    rec = _rec(app, recorded["open"])
    r = browser().get(
        f"/recordings/{rec.id}/audio", headers={"Range": header(rec.size)}, buffered=True
    )
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{rec.size}"


def test_head(app, browser, recorded):
    rec = _rec(app, recorded["open"])
    r = browser().head(f"/recordings/{rec.id}/audio", buffered=True)
    assert r.status_code == 200
    assert r.data == b""
    assert int(r.headers["Content-Length"]) == rec.size
    assert r.headers["Content-Type"] == "audio/wav"
    assert r.headers["ETag"] == f'"{rec.sha256}"'


def test_if_none_match_304_and_if_modified_since(app, browser, recorded):
    rec = _rec(app, recorded["open"])
    url = f"/recordings/{rec.id}/audio"
    first = browser().get(url, buffered=True)
    r = browser().get(url, headers={"If-None-Match": f'"{rec.sha256}"'}, buffered=True)
    assert r.status_code == 304 and r.data == b""
    r = browser().get(
        url, headers={"If-Modified-Since": first.headers["Last-Modified"]}, buffered=True
    )
    assert r.status_code == 304
    other = browser().get(url, headers={"If-None-Match": '"nope"'}, buffered=True)
    assert other.status_code == 200


def test_if_none_match_never_bypasses_access(app, browser, recorded):
    rec = _rec(app, recorded["closed"])
    r = browser("researcher").get(
        f"/recordings/{rec.id}/audio",
        headers={"If-None-Match": f'"{rec.sha256}"', "Range": "bytes=0-1"},
        buffered=True,
    )
    assert r.status_code == 403


def test_download_is_an_attachment_with_the_original_name(app, browser, interviews):
    archivist = browser("archivist")
    r = upload(archivist, interviews["open"], wav_bytes(0.3), "André – entretien.wav")
    assert r.status_code == 201, r.json
    d = archivist.get(r.json["download_url"], buffered=True)
    assert d.status_code == 200
    disposition = d.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''Andr%C3%A9%20%E2%80%93%20entretien.wav" in disposition


def test_missing_file_is_404_not_500(app, browser, recorded):
    from oralhist.services import recordings

    rec = _rec(app, recorded["open"])
    with app.app_context():
        recordings.storage().path(rec.storage_key).unlink()
    assert browser().get(f"/recordings/{rec.id}/audio", buffered=True).status_code == 404


def _events(app, action):
    with app.app_context():
        return db.session.query(AuditEvent).filter_by(action=action).count()


def test_plays_of_non_open_recordings_are_audited_once_per_session(app, browser, recorded):
    """One listening session (user, recording, browser session) is one play, whatever its
    Range requests (tests/access/test_listening_audit.py has the session's edges)."""
    owner = browser("contributor")
    url = f"/recordings/{recorded['restricted']}/audio"
    owner.get(url, buffered=True)
    assert _events(app, "recording.play") == 1
    owner.get(url, headers={"Range": "bytes=0-"}, buffered=True)
    owner.get(url, headers={"Range": "bytes=1000-2000"}, buffered=True)
    owner.head(url, buffered=True)
    assert _events(app, "recording.play") == 1
    browser("contributor").get(url, headers={"Range": "bytes=0-"}, buffered=True)
    assert _events(app, "recording.play") == 2  # another browser session
    owner.get(f"/recordings/{recorded['restricted']}/download", buffered=True)
    assert _events(app, "recording.download") == 1
    # open recordings are not audited; refused requests are not plays
    browser().get(f"/recordings/{recorded['open']}/audio", buffered=True)
    browser("researcher").get(url, buffered=True)
    assert _events(app, "recording.play") == 2
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="recording.play").first()
        assert (event.object_type, event.object_id) == ("recording", recorded["restricted"])
