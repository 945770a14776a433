"""Uploads through the HTTP stack: disguised and hostile names, limits, cut-off bodies,
deduplication, shared files on delete, labels and order, embedded tags."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from markupsafe import escape

from oralhist.extensions import db
from oralhist.models import Document, Interview, Recording

from .conftest import media_files, recording_count, upload, wav_bytes

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 600


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _no_temp_left(app) -> None:
    assert [p for p in media_files(app) if p.parent.name == "tmp"] == []


def test_upload_records_every_audio_field(app, browser, interviews):
    r = upload(
        browser("contributor"),
        interviews["draft"],
        wav_bytes(2.0),
        "tape.wav",
        label="Tape 1,  side A",
    )
    assert r.status_code == 201, r.json
    body = r.json
    assert body["duration_ms"] == 2000
    assert (body["format"], body["mime"], body["sample_rate"], body["channels"]) == (
        "wav",
        "audio/wav",
        8000,
        1,
    )
    assert body["label"] == "Tape 1, side A"
    assert body["browser_playable"] is True
    assert body["position"] == 0
    with app.app_context():
        rec = db.session.get(Recording, body["id"])
        path = Path(app.config["MEDIA_ROOT"]) / rec.sha256[:2] / rec.sha256[2:4] / rec.sha256
        assert path.is_file() and rec.storage_key == rec.sha256 == body["sha256"]
        assert rec.uploaded_by_id is not None and rec.codec


@pytest.mark.parametrize(
    ("content", "name", "content_type", "accepted"),
    [
        (JPEG, "photo.mp3", "audio/mpeg", False),  # a JPEG renamed .mp3, with a false type
        ("wav", "tape.wav", "image/jpeg", True),  # a false Content-Type is ignored
        ("wav", "x.mp3.php", "audio/mpeg", False),
        ("wav", "x.wav.php", "audio/wav", False),
        ("wav", "tape.flac", "audio/flac", False),  # the name claims another format
        (b"", "empty.wav", "audio/wav", False),
        (b"<?php echo 1; ?>", "shell.wav", "audio/wav", False),
    ],
)
def test_disguised_files(app, browser, interviews, content, name, content_type, accepted):
    content = wav_bytes(0.5) if content == "wav" else content
    before = recording_count(app)
    r = upload(browser("archivist"), interviews["open"], content, name, content_type=content_type)
    if accepted:
        assert r.status_code == 201, r.json
    else:
        assert 400 <= r.status_code < 500
        assert name in r.json["error"]["message"]
        assert recording_count(app) == before
        assert media_files(app) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../etc/evil.wav", "evil.wav"),
        ("C:\\fakepath\\evil.wav", None),  # backslashes: quoted-pair escapes in the header
        ("André.wav", "André.wav"),
        ("مقابلة مع جدتي.wav", "مقابلة مع جدتي.wav"),
        ("<img src=x onerror=alert(1)>.wav", "<img src=x onerror=alert(1)>.wav"),
        ("a" * 300 + ".wav", "a" * 251 + ".wav"),
        ("Andre\u0301.wav", "André.wav"),  # NFC
    ],
)
def test_hostile_and_non_ascii_names(app, browser, interviews, tmp_path, name, shown):
    before = _tree(tmp_path)
    archivist = browser("archivist")
    r = upload(archivist, interviews["open"], wav_bytes(0.4), name)
    assert r.status_code == 201, r.json
    if shown is None:  # whatever the header parsing made of it: one harmless name part
        shown = r.json["original_filename"]
        assert shown.endswith("evil.wav") and "/" not in shown and "\\" not in shown
    assert r.json["original_filename"] == shown
    media = Path(app.config["MEDIA_ROOT"])
    new = _tree(tmp_path) - before
    instance = Path(app.instance_path)  # the database and the search index change there
    assert [p for p in new if not p.is_relative_to(media) and not p.is_relative_to(instance)] == []
    assert not any("evil" in p.name or p.suffix == ".wav" for p in _tree(tmp_path))
    assert not Path("/etc/evil.wav").exists()
    assert all(p.name == r.json["sha256"] for p in new if p.is_relative_to(media))
    page = archivist.get(f"/interviews/{interviews['open']}").get_data(as_text=True)
    assert str(escape(shown)) in page
    if "<img" in name:
        assert "<img src=x" not in page


def test_same_name_different_content_never_collides(app, browser, interviews):
    archivist = browser("archivist")
    a = upload(archivist, interviews["open"], wav_bytes(0.3, freq=300), "tape.wav").json
    b = upload(archivist, interviews["open"], wav_bytes(0.3, freq=600), "tape.wav").json
    assert a["sha256"] != b["sha256"]
    assert len([p for p in media_files(app) if p.parent.name != "tmp"]) == 2


def test_page_upload_shows_browser_playability(app, browser, interviews):
    archivist = browser("archivist")
    r = upload(archivist, interviews["open"], wav_bytes(0.5), "a.wav", api=False, label="Side A")
    assert r.status_code == 302
    page = archivist.get(f"/interviews/{interviews['open']}").get_data(as_text=True)
    assert "Added a.wav" in page and "Side A" in page


def test_page_upload_error_names_the_file(app, browser, interviews):
    r = upload(browser("archivist"), interviews["open"], JPEG, "holiday.mp3", api=False)
    assert r.status_code == 415
    assert "holiday.mp3" in r.get_data(as_text=True)


def test_label_sent_after_the_file_is_kept(app, browser, interviews):
    archivist = browser("archivist")
    boundary = "XyZ"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + wav_bytes(0.2)
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="label"\r\n\r\nTape 2'
            f"\r\n--{boundary}--\r\n"
        ).encode()
    )
    r = archivist.client.post(
        f"/api/v1/interviews/{interviews['open']}/recordings",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-CSRFToken": archivist.token()},
    )
    assert r.status_code == 201, r.json
    assert r.json["label"] == "Tape 2"


def test_no_file_field_is_422(app, browser, interviews):
    archivist = browser("archivist")
    r = archivist.post(f"/api/v1/interviews/{interviews['open']}/recordings", data={"label": "x"})
    assert r.status_code == 422
    r = archivist.post(
        f"/api/v1/interviews/{interviews['open']}/recordings",
        data={"audio": (io.BytesIO(wav_bytes(0.1)), "a.wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    assert recording_count(app) == 0 and media_files(app) == []


def test_csrf_is_still_required_for_cookie_uploads(app, browser, interviews):
    archivist = browser("archivist")
    r = archivist.client.post(
        f"/api/v1/interviews/{interviews['open']}/recordings",
        data={"file": (io.BytesIO(wav_bytes(0.1)), "a.wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert recording_count(app) == 0 and media_files(app) == []


# -- limits and cut-off bodies ---------------------------------------------------------


def test_oversized_upload_is_413_and_leaves_nothing(app, browser, interviews):
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    for api in (True, False):
        r = upload(browser("archivist"), interviews["open"], wav_bytes(2.0), "big.wav", api=api)
        assert r.status_code == 413
        assert "20000 bytes" in r.get_data(as_text=True)
    assert recording_count(app) == 0
    assert media_files(app) == []


def _multipart(archivist, content: bytes, name: str = "t.wav") -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{archivist.token()}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_streamed_body_over_the_limit_without_content_length(app, browser, interviews):
    """A chunked upload (no Content-Length) is cut at MAX_CONTENT_LENGTH while streaming."""
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    archivist = browser("archivist")
    body, ctype = _multipart(archivist, wav_bytes(2.0))
    r = archivist.client.post(
        f"/api/v1/interviews/{interviews['open']}/recordings",
        input_stream=io.BytesIO(body),
        content_type=ctype,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413
    assert recording_count(app) == 0
    _no_temp_left(app)
    assert media_files(app) == []


class _Breaks(io.BytesIO):
    """An input stream that fails after ``limit`` bytes, like a dropped connection."""

    def __init__(self, data: bytes, limit: int):
        super().__init__(data)
        self.limit = limit

    def read(self, size=-1):
        if self.tell() >= self.limit:
            raise OSError("connection reset by peer")
        size = self.limit - self.tell() if size is None or size < 0 else size
        return super().read(min(size, self.limit - self.tell()))

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@pytest.mark.parametrize("how", ["short-body", "raises", "no-closing-boundary"])
def test_cut_off_upload_leaves_no_file_and_no_row(app, browser, interviews, how):
    archivist = browser("archivist")
    body, ctype = _multipart(archivist, wav_bytes(3.0))
    half = len(body) // 2
    if how == "short-body":  # Content-Length says more than arrives
        stream, length = io.BytesIO(body[:half]), len(body)
    elif how == "raises":
        stream, length = _Breaks(body, half), len(body)
    else:  # the client stopped mid-file and closed the request
        stream, length = io.BytesIO(body[:half]), half
    r = archivist.client.post(
        f"/api/v1/interviews/{interviews['open']}/recordings",
        input_stream=stream,
        content_type=ctype,
        headers={"Content-Length": str(length)},
    )
    assert 400 <= r.status_code < 500, r.data
    assert recording_count(app) == 0
    assert media_files(app) == []


def test_failed_commit_removes_the_new_file(app, browser, interviews, monkeypatch):
    from sqlalchemy.orm import scoped_session

    def boom(self):
        raise RuntimeError("database went away")

    archivist = browser("archivist")
    monkeypatch.setattr(scoped_session, "commit", boom)
    r = upload(archivist, interviews["open"], wav_bytes(0.3), "a.wav")
    assert r.status_code == 500
    assert recording_count(app) == 0
    assert media_files(app) == []


# -- dedupe and delete ----------------------------------------------------------------


def test_same_content_is_stored_once_and_kept_while_used(app, browser, interviews):
    archivist = browser("archivist")
    content = wav_bytes(0.5)
    a = upload(archivist, interviews["open"], content, "first.wav").json
    b = upload(archivist, interviews["draft"], content, "second.wav").json
    assert a["sha256"] == b["sha256"] and a["id"] != b["id"]
    assert len(media_files(app)) == 1
    assert archivist.delete(f"/api/v1/recordings/{a['id']}").status_code == 204
    assert len(media_files(app)) == 1  # b still uses it
    with app.app_context():  # a document attachment using the same key keeps it too
        db.session.add(Document(title="Doc", file_key=b["sha256"], file_sha256=b["sha256"]))
        db.session.commit()
    assert archivist.delete(f"/api/v1/recordings/{b['id']}").status_code == 204
    assert len(media_files(app)) == 1
    with app.app_context():
        db.session.execute(db.delete(Document))
        db.session.commit()
    c = upload(archivist, interviews["open"], content, "third.wav").json
    assert archivist.post(f"/recordings/{c['id']}/delete", data={}).status_code == 302
    assert media_files(app) == []


def test_labels_and_order(app, browser, interviews):
    owner = browser("contributor")
    iid = interviews["draft"]
    ids = [
        upload(owner, iid, wav_bytes(0.2 + i / 10, freq=300 + i), f"p{i}.wav").json["id"]
        for i in range(3)
    ]
    r = owner.patch(f"/api/v1/recordings/{ids[2]}", json={"position": 0, "label": "Tape 1, side A"})
    assert r.status_code == 200 and r.json["position"] == 0
    assert owner.patch(f"/api/v1/recordings/{ids[0]}", json={"position": -1}).status_code == 422
    assert owner.post(f"/recordings/{ids[1]}/edit", data={"move": "up"}).status_code == 302
    with app.app_context():
        order = [r.id for r in db.session.get(Interview, iid).recordings]
    assert order == [ids[2], ids[1], ids[0]]
    assert owner.post(f"/recordings/{ids[1]}/edit", data={"label": "Tape 2"}).status_code == 302
    page = owner.get(f"/interviews/{iid}").get_data(as_text=True)
    assert page.index("Tape 1, side A") < page.index("Tape 2")
    assert "Part 3" in page


def test_embedded_tags_offered_for_empty_fields(app, browser, interviews, tmp_path):
    from mutagen.id3 import COMM, TDRC, TIT2
    from mutagen.wave import WAVE

    path = tmp_path / "tagged.wav"
    path.write_bytes(wav_bytes(0.5))
    audio = WAVE(path)
    audio.add_tags()
    audio.tags.add(TIT2(encoding=3, text="Interview with a miner"))
    audio.tags.add(TDRC(encoding=3, text="1957-03-12"))
    audio.tags.add(COMM(encoding=3, lang="eng", desc="", text="Recorded at the kitchen table"))
    audio.save()
    owner = browser("contributor")
    iid = interviews["draft"]
    r = upload(owner, iid, path.read_bytes(), "tagged.wav")
    assert r.status_code == 201, r.json
    assert r.json["tags"]["date"] == "1957-03-12"
    assert r.json["catalogue_suggestions"] == {
        "date_recorded": "1957-03-12",
        "summary": "Recorded at the kitchen table",
    }
    page = owner.get(f"/interviews/{iid}").get_data(as_text=True)
    assert "Use embedded tags" in page
    with app.app_context():
        assert db.session.get(Interview, iid).date_recorded == ""  # nothing filled on its own
    assert owner.post(f"/interviews/{iid}/recordings/apply-tags", data={}).status_code == 302
    with app.app_context():
        interview = db.session.get(Interview, iid)
        assert interview.date_recorded == "1957-03-12"
        assert interview.summary == "Recorded at the kitchen table"
    assert "Use embedded tags" not in owner.get(f"/interviews/{iid}").get_data(as_text=True)


def test_sample_loader_entry_point(app, interviews):
    """``add_recording`` as the sample loader calls it: an archivist Viewer without an account."""
    from oralhist.access.policy import Viewer
    from oralhist.services import recordings

    with app.test_request_context():
        interview = db.session.get(Interview, interviews["open"])
        rec = recordings.add_recording(
            Viewer(user_id=None, role="archivist"),
            interview,
            io.BytesIO(wav_bytes(1)),
            "s.wav",
            label="Sample",
        )
        db.session.commit()
        assert (rec.uploaded_by_id, rec.duration_ms, rec.label) == (None, 1000, "Sample")


def test_upload_file_is_read_only(app, browser, interviews):
    r = upload(browser("archivist"), interviews["open"], wav_bytes(0.2), "a.wav")
    (path,) = media_files(app)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert path.stat().st_mode & 0o222 == 0
    assert r.status_code == 201


# -- several files at once (the page's form) ------------------------------------------------


def _several(client, interview_id: int, files: list[tuple[str, bytes]], *, api: bool = False):
    boundary = "several-files-boundary"
    out = bytearray()
    fields = {"csrf_token": client.token(), "label": "ignored for several files"}
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for filename, content in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    url = (
        f"/api/v1/interviews/{interview_id}/recordings"
        if api
        else f"/interviews/{interview_id}/recordings"
    )
    return client.client.post(
        url,
        data=bytes(out),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-CSRFToken": client.token()},
    )


def test_the_page_takes_several_files_as_parts_in_their_order(app, browser, interviews):
    archivist = browser("archivist")
    files = [("side A.wav", wav_bytes(1.0, freq=300)), ("side B.wav", wav_bytes(2.0, freq=500))]
    r = _several(archivist, interviews["open"], files)
    assert r.status_code == 302
    page = archivist.get(r.headers["Location"]).get_data(as_text=True)
    assert "Added side A.wav (1 s), side B.wav (2 s)." in page
    parts = archivist.get(f"/api/v1/interviews/{interviews['open']}").json["recordings"]
    assert [(p["original_filename"], p["position"], p["label"]) for p in parts] == [
        ("side A.wav", 0, ""),
        ("side B.wav", 1, ""),
    ]


def test_several_files_are_added_together_or_not_at_all(app, browser, interviews):
    archivist = browser("archivist")
    files = [("good.wav", wav_bytes(1.0)), ("bad.wav", b"RIFF not really a wave file")]
    r = _several(archivist, interviews["open"], files)
    assert r.status_code == 415, r.data
    assert "bad.wav" in r.get_data(as_text=True)
    assert recording_count(app) == 0
    assert media_files(app) == []


def test_the_api_takes_one_file_per_request(app, browser, interviews):
    archivist = browser("archivist")
    files = [("a.wav", wav_bytes(1.0, freq=300)), ("b.wav", wav_bytes(1.0, freq=500))]
    r = _several(archivist, interviews["open"], files, api=True)
    assert r.status_code == 422 and "one file per upload" in r.json["error"]["message"]
    assert recording_count(app) == 0
    assert media_files(app) == []
