"""The ``Storage`` contract, run against every implementation (local files, memory): saving by
content, reading, delivery of full and Range requests, conditional requests, errors, and
nothing kept from a failed save. Only the protocol is used here: no paths, no folders."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from flask import Flask

from oralhist.errors import NotFound, OralHistError, TooLarge
from oralhist.media.memory import MemoryStorage
from oralhist.media.storage import LocalStorage, Storage, open_storage

CONTENT = bytes(range(256)) * 40  # 10,240 bytes
KEY = hashlib.sha256(CONTENT).hexdigest()
MODIFIED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["local", "memory", "s3"])
def storage(request, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "media", chunk_size=1000)
    if request.param == "s3":
        from oralhist.media.s3 import S3Storage

        client = request.getfixturevalue("s3_client")
        bucket = request.getfixturevalue("s3_bucket")
        return S3Storage(bucket, client=client, prefix="archive", chunk_size=1000)
    return MemoryStorage(chunk_size=1000)


@pytest.fixture
def client(storage: Storage):
    """A tiny app that sends a stored file the way the archive's routes do."""
    app = Flask(__name__)

    @app.route("/files/<key>", methods=["GET", "HEAD"])
    def send(key: str):
        try:
            return storage.send(
                key,
                mimetype="audio/wav",
                etag=key,
                last_modified=MODIFIED,
                as_attachment=bool(app.config.get("ATTACH")),
                download_name="André – tape 1.wav",
            )
        except OralHistError as error:
            return error.message, error.status

    client = app.test_client()
    client.app = app
    return client


def get(client, url: str, **headers: str):
    """A GET read to the end (so the file it streamed is closed)."""
    return client.get(url, headers=headers, buffered=True)


class FailingStream:
    def __init__(self, good: bytes) -> None:
        self.source = io.BytesIO(good)

    def read(self, n: int = -1) -> bytes:
        chunk = self.source.read(n)
        if not chunk:
            raise OSError("the client went away")
        return chunk


def test_the_implementations_follow_the_protocol(storage: Storage):
    assert isinstance(storage, Storage)


def test_save_keys_by_content_once(storage: Storage):
    first = storage.save_stream(io.BytesIO(CONTENT))
    assert (first.key, first.sha256, first.size, first.created) == (KEY, KEY, len(CONTENT), True)
    again = storage.save_stream(io.BytesIO(CONTENT))
    assert (again.key, again.created) == (KEY, False)
    assert storage.exists(KEY) and storage.size(KEY) == len(CONTENT)
    with storage.open(KEY) as f:
        assert f.read() == CONTENT
    assert storage.hash(KEY) == KEY
    assert list(storage.iter_keys()) == [KEY]


def test_iter_keys_in_order_and_delete(storage: Storage):
    keys = [storage.save_stream(io.BytesIO(bytes([n]) * 10)).key for n in range(5)]
    assert list(storage.iter_keys()) == sorted(keys)
    storage.delete(keys[0])
    storage.delete(keys[0])  # a missing file is fine
    assert not storage.exists(keys[0])
    assert list(storage.iter_keys()) == sorted(keys[1:])


def test_too_large_keeps_nothing(storage: Storage):
    with pytest.raises(TooLarge):
        storage.save_stream(io.BytesIO(CONTENT), max_bytes=len(CONTENT) - 1)
    assert not storage.exists(KEY) and list(storage.iter_keys()) == []
    assert storage.save_stream(io.BytesIO(CONTENT), max_bytes=len(CONTENT)).key == KEY


def test_a_stream_failing_halfway_keeps_nothing(storage: Storage):
    with pytest.raises(OSError, match="went away"):
        storage.save_stream(FailingStream(CONTENT))
    assert list(storage.iter_keys()) == []
    assert storage.sweep_temp(older_than_s=0) == []
    assert list(storage.iter_keys()) == []


def test_validate_sees_every_byte_and_a_refusal_keeps_nothing(storage: Storage):
    seen = []

    def refuse(path: Path) -> None:
        seen.append(path.read_bytes())
        raise ValueError("not audio")

    with pytest.raises(ValueError, match="not audio"):
        storage.save_stream(io.BytesIO(CONTENT), validate=refuse)
    assert seen == [CONTENT]
    assert list(storage.iter_keys()) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", KEY.upper(), KEY[:63], KEY + "0", "", "a/b"])
def test_anything_but_a_generated_key_is_not_found(storage: Storage, client, key: str):
    assert storage.exists(key) is False
    for call in (storage.open, storage.size, storage.delete, storage.hash):
        with pytest.raises(NotFound):
            call(key)
    with pytest.raises(NotFound), storage.local_file(key):
        pass


def test_a_missing_file_is_not_found(storage: Storage, client):
    for call in (storage.open, storage.size, storage.hash):
        with pytest.raises(NotFound):
            call(KEY)
    with pytest.raises(NotFound), storage.local_file(KEY):
        pass
    assert get(client, f"/files/{KEY}").status_code == 404


def test_local_file_holds_the_bytes(storage: Storage):
    storage.save_stream(io.BytesIO(CONTENT))
    with storage.local_file(KEY) as path:
        assert path.read_bytes() == CONTENT


def test_send_the_whole_file(storage: Storage, client):
    storage.save_stream(io.BytesIO(CONTENT))
    r = get(client, f"/files/{KEY}")
    assert r.status_code == 200 and r.data == CONTENT
    assert r.headers["Content-Type"] == "audio/wav"
    assert int(r.headers["Content-Length"]) == len(CONTENT)
    assert r.headers["ETag"] == f'"{KEY}"'
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Last-Modified"] == "Sun, 01 Mar 2026 12:00:00 GMT"
    assert r.headers["Content-Disposition"].startswith("inline")
    head = client.head(f"/files/{KEY}", buffered=True)
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(CONTENT)


def test_send_as_an_attachment_with_its_name(storage: Storage, client):
    storage.save_stream(io.BytesIO(CONTENT))
    client.app.config["ATTACH"] = True
    disposition = get(client, f"/files/{KEY}").headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''Andr%C3%A9%20%E2%80%93%20tape%201.wav" in disposition


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=100-199", 100, 200),
        ("bytes=-10", len(CONTENT) - 10, len(CONTENT)),
        ("bytes=10000-", 10000, len(CONTENT)),
    ],
)
def test_send_one_range(storage: Storage, client, header: str, start: int, end: int):
    storage.save_stream(io.BytesIO(CONTENT))
    r = get(client, f"/files/{KEY}", Range=header)
    assert r.status_code == 206
    assert r.data == CONTENT[start:end]
    assert r.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(CONTENT)}"
    assert int(r.headers["Content-Length"]) == end - start


def test_several_ranges_get_the_whole_file(storage: Storage, client):
    storage.save_stream(io.BytesIO(CONTENT))
    r = get(client, f"/files/{KEY}", Range="bytes=0-9,20-29")
    assert r.status_code == 200 and r.data == CONTENT


@pytest.mark.parametrize(
    "header", [f"bytes={len(CONTENT)}-", f"bytes={len(CONTENT) + 5}-{len(CONTENT) + 9}"]
)
def test_a_range_past_the_end_is_416_naming_the_size(storage: Storage, client, header: str):
    storage.save_stream(io.BytesIO(CONTENT))
    r = get(client, f"/files/{KEY}", Range=header)
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_conditional_requests(storage: Storage, client):
    storage.save_stream(io.BytesIO(CONTENT))
    url = f"/files/{KEY}"
    assert get(client, url, **{"If-None-Match": f'"{KEY}"'}).status_code == 304
    since = get(client, url).headers["Last-Modified"]
    assert get(client, url, **{"If-Modified-Since": since}).status_code == 304
    assert get(client, url, **{"If-None-Match": '"other"'}).status_code == 200
    # A Range with an If-Range that no longer matches gets the whole (changed) file.
    r = get(client, url, **{"Range": "bytes=0-9", "If-Range": '"other"'})
    assert r.status_code == 200 and r.data == CONTENT


def test_open_storage_by_setting(tmp_path: Path):
    assert isinstance(open_storage({"MEDIA_ROOT": str(tmp_path)}), LocalStorage)
    assert isinstance(open_storage({"MEDIA_STORAGE": "memory"}), MemoryStorage)
    with pytest.raises(ValueError, match=r"'ftp'.*local, memory, s3"):
        open_storage({"MEDIA_STORAGE": "ftp", "MEDIA_ROOT": str(tmp_path)})
    with pytest.raises(ValueError, match="MEDIA_S3_BUCKET"):
        open_storage({"MEDIA_STORAGE": "s3", "MEDIA_ROOT": str(tmp_path)})


def test_no_local_path_or_file_sending_outside_the_storage_module():
    """The seam holds: only ``oralhist/media/`` names ``LocalStorage``, asks a storage for a
    path (``.path(``) or sends a file (``send_file``); everything else uses ``Storage``."""
    package = Path(__file__).resolve().parents[2] / "oralhist"
    reach = re.compile(r"\bLocalStorage\b|\bsend_file\b|\.path\(|\._key_path\(")
    found = [
        f"{path.relative_to(package)}:{n}: {line.strip()}"
        for path in package.rglob("*.py")
        if path.parent.name != "media"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reach.search(line)
    ]
    assert found == []
