"""What is the S3 storage's own (the shared contract is ``test_storage_contract.py``): uploads in
several parts with nothing temporary left, immutable keys, reads by Range, presigned delivery,
the sweep of interrupted uploads, and ``oralhist media migrate`` between storages. Against
moto's S3-compatible server, started on a free port (``conftest.s3_server``)."""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.request

import pytest
from flask import Flask

from oralhist.media.migrate import migrate
from oralhist.media.storage import LocalStorage

MIB = 1024 * 1024


@pytest.fixture
def s3(s3_client, s3_bucket):
    from oralhist.media.s3 import S3Storage

    def make(**kw) -> S3Storage:
        return S3Storage(s3_bucket, client=s3_client, prefix="archive", **kw)

    return make


def _objects(client, bucket: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", ())]


def test_a_large_upload_goes_in_parts_and_leaves_only_its_content_key(s3, s3_client, s3_bucket):
    storage = s3(part_size=5 * MIB)
    data = os.urandom(12 * MIB + 123)
    key = hashlib.sha256(data).hexdigest()
    seen = []
    stored = storage.save_stream(io.BytesIO(data), validate=lambda p: seen.append(p.stat().st_size))
    assert (stored.key, stored.size, stored.created) == (key, len(data), True)
    assert seen == [len(data)]  # validate saw a complete local copy
    assert _objects(s3_client, s3_bucket) == [f"archive/media/{key}"]
    head = s3_client.head_object(Bucket=s3_bucket, Key=f"archive/media/{key}")
    assert head["Metadata"]["sha256"] == key
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    # immutable: the same content again is not written again
    again = storage.save_stream(io.BytesIO(data))
    assert (again.key, again.created) == (key, False)
    # reads by Range: a seek far into the object reads only from there
    with storage.open(key) as f:
        f.seek(10 * MIB)
        assert f.read(100) == data[10 * MIB : 10 * MIB + 100]
        f.seek(5)
        assert f.read(10) == data[5:15]
    assert storage.hash(key) == key


def test_validate_files_are_removed(s3, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    storage = s3()
    storage.save_stream(io.BytesIO(b"x" * 1000), validate=lambda p: None)
    assert list(tmp_path.iterdir()) == []


def test_presigned_delivery_redirects_to_the_store_which_answers_the_range(s3):
    storage = s3(delivery="presigned", presign_seconds=60)
    data = bytes(range(256)) * 100
    key = storage.save_stream(io.BytesIO(data)).key
    app = Flask(__name__)

    @app.get("/f/<key>")
    def send(key):
        return storage.send(key, mimetype="audio/wav", download_name="Tape 1.wav")

    @app.get("/cut/<key>")
    def cut(key):
        return storage.send(key, mimetype="audio/wav", accelerate=False)

    response = app.test_client().get(f"/f/{key}")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "private, no-store"
    request = urllib.request.Request(response.headers["Location"], headers={"Range": "bytes=10-19"})
    with urllib.request.urlopen(request, timeout=30) as stored:
        assert stored.status == 206
        assert stored.read() == data[10:20]
        assert stored.headers["Content-Type"] == "audio/wav"
        assert "Tape%201.wav" in stored.headers["Content-Disposition"]
    # a caller that cut the Range keeps the bytes in the app
    kept = app.test_client().get(f"/cut/{key}", headers={"Range": "bytes=0-9"}, buffered=True)
    assert (kept.status_code, kept.data) == (206, data[:10])


def test_sweep_aborts_interrupted_uploads(s3, s3_client, s3_bucket):
    storage = s3()
    upload = f"archive/tmp/{time.time_ns()}-abc"  # as save_stream names them
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key=upload)
    s3_client.put_object(Bucket=s3_bucket, Key="archive/tmp/456-def", Body=b"left")
    assert storage.sweep_temp(older_than_s=3600) == []  # too young: a save may be running
    removed = storage.sweep_temp(older_than_s=0)
    assert {r["name"] for r in removed} == {upload, "archive/tmp/456-def"}
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert _objects(s3_client, s3_bucket) == []


def test_migrate_copies_what_is_missing_checks_each_file_and_resumes(s3, tmp_path):
    local = LocalStorage(tmp_path / "media")
    keys = [local.save_stream(io.BytesIO(os.urandom(1000 + n))).key for n in range(3)]
    target = s3()
    first = migrate(local, target)
    assert (first.copied, first.skipped, first.damaged) == (3, 0, [])
    assert sorted(target.iter_keys()) == sorted(keys)
    assert all(target.hash(k) == k for k in keys)
    # a damaged source file is reported and never stored under its name
    damaged = local.path(keys[0])
    damaged.chmod(0o644)
    damaged.write_bytes(b"bit rot")
    target.delete(keys[0])
    again = migrate(local, target)
    assert (again.copied, again.skipped, again.damaged) == (0, 2, [keys[0]])
    assert sorted(target.iter_keys()) == sorted(keys[1:])
    assert "oralhist fixity" in str(again)


def test_media_migrate_command(app, s3_server, s3_bucket):
    from oralhist.services.recordings import storage

    app.config.update(
        MEDIA_S3_BUCKET=s3_bucket,
        MEDIA_S3_ENDPOINT_URL=s3_server,
        MEDIA_S3_REGION="us-east-1",
        MEDIA_S3_ACCESS_KEY_ID="test",
        MEDIA_S3_SECRET_ACCESS_KEY="test",
    )
    with app.app_context():
        key = storage().save_stream(io.BytesIO(b"a recording" * 100)).key
    runner = app.test_cli_runner()
    result = runner.invoke(args=["media", "migrate", "--to", "s3"])
    assert result.exit_code == 0, result.output
    assert "1 files copied" in result.output
    resumed = runner.invoke(args=["media", "migrate", "--to", "s3"])
    assert "0 files copied" in resumed.output and "1 already there" in resumed.output
    assert key in _s3_keys(app)
    same = runner.invoke(args=["media", "migrate", "--from", "s3", "--to", "s3"])
    assert same.exit_code != 0 and "same storage" in same.output
    app.config["MEDIA_S3_BUCKET"] = None
    missing = runner.invoke(args=["media", "migrate", "--to", "s3"])
    assert missing.exit_code != 0 and "MEDIA_S3_BUCKET" in missing.output


def _s3_keys(app) -> set[str]:
    from oralhist.media.storage import open_storage

    return set(open_storage({**app.config, "MEDIA_STORAGE": "s3"}).iter_keys())
