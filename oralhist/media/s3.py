"""``S3Storage``: the ``Storage`` protocol over an S3-compatible object store
(``MEDIA_STORAGE = "s3"``; AWS S3, MinIO, Ceph RGW, Garage...), through boto3, the one module
that talks to it.

- **Saving streams**: the bytes go up as a multipart upload (``MEDIA_S3_PART_MB`` parts, one
  part in memory at a time) to a temporary object while the sha256 is computed on the way;
  then the object is copied by the store itself to its content-addressed key
  (``<prefix>media/<sha256>``) and the temporary one deleted. An existing object of the same
  key and size is never overwritten (keys are immutable). A failed or cut-off upload is aborted
  and leaves nothing; ``sweep_temp`` aborts what a killed process left. When the caller needs
  to ``validate`` the bytes (ffprobe reads files), they are also written to a local
  temporary file, removed at once.
- **Reading**: ``open`` gives a seekable stream reading by HTTP Range (a sequential read is
  one streamed GET; a seek starts another), so a Range request of a 1.7 GB master costs the
  range, not the file.
- **Delivery** (``MEDIA_S3_DELIVERY``): ``proxy`` (default: the app streams the range from
  the store, after the access check) or ``presigned`` (a 302 to a presigned GET valid for
  ``MEDIA_S3_PRESIGN_SECONDS``, naming the type and file name; the store answers the Range).
- **Fixity**: ``hash`` reads the object again and computes its sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import NotFound, TooLarge
from .storage import KEY_RE, StoredFile, check_key, send_stored

if TYPE_CHECKING:
    import datetime as dt

    from flask import Response

MIB = 1024 * 1024
DELIVERIES = ("proxy", "presigned")


class _RangeReader(io.RawIOBase):
    """A stored object as a seekable raw stream: one streamed GET from the position, opened
    again after a seek."""

    def __init__(self, client, bucket: str, name: str, size: int) -> None:
        self._client, self._bucket, self._name, self._size = client, bucket, name, size
        self._pos = 0
        self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset}.get(
            whence, self._size + offset
        )
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._pos:
            self._drop_body()
            self._pos = target
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None:
            self._body = self._client.get_object(
                Bucket=self._bucket, Key=self._name, Range=f"bytes={self._pos}-"
            )["Body"]
        data = self._body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()


class S3Storage:
    """Stored files as objects ``<prefix>media/<sha256>`` of one bucket."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        delivery: str = "proxy",
        presign_seconds: int = 300,
        part_size: int = 8 * MIB,
        chunk_size: int = MIB,
    ) -> None:
        if not bucket:
            raise ValueError("MEDIA_STORAGE is 's3': set MEDIA_S3_BUCKET to the bucket's name.")
        if delivery not in DELIVERIES:
            raise ValueError(
                f"MEDIA_S3_DELIVERY is {delivery!r}; it is one of: {', '.join(DELIVERIES)}."
            )
        if part_size < 5 * MIB:
            raise ValueError("MEDIA_S3_PART_MB must be at least 5 (S3's smallest part).")
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                config=Config(signature_version="s3v4", retries={"mode": "standard"}),
            )
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.delivery = delivery
        self.presign_seconds = presign_seconds
        self.part_size = part_size
        self.chunk_size = chunk_size

    # -- names ---------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return f"{self.prefix}media/{check_key(key)}"

    @property
    def _temp_prefix(self) -> str:
        return f"{self.prefix}tmp/"

    def _missing(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if self._missing(error):
                return None
            raise

    # -- writing -------------------------------------------------------------------------

    def save_stream(
        self,
        stream: BinaryIO,
        *,
        max_bytes: int | None = None,
        validate: Callable[[Path], None] | None = None,
    ) -> StoredFile:
        """Upload everything ``stream`` yields (multipart, hashed on the way), then copy it
        to its content key. Nothing is left behind when anything fails."""
        temp = f"{self._temp_prefix}{time.time_ns()}-{secrets.token_hex(8)}"
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=temp)["UploadId"]
        local = (
            tempfile.NamedTemporaryFile(  # noqa: SIM115 (removed in finally)
                prefix="oralhist-s3-", suffix=".part", delete=False
            )
            if validate is not None
            else None
        )
        digest = hashlib.sha256()
        parts: list[dict] = []
        buffer = bytearray()
        size = 0
        completed = False
        try:
            while chunk := stream.read(self.chunk_size):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(
                        f"The file is larger than this archive accepts ({max_bytes} bytes at"
                        " most).",
                        max_bytes=max_bytes,
                    )
                digest.update(chunk)
                if local is not None:
                    local.write(chunk)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    parts.append(self._part(temp, upload, len(parts) + 1, buffer))
                    buffer = bytearray()
            if buffer or not parts:
                parts.append(self._part(temp, upload, len(parts) + 1, buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=temp, UploadId=upload, MultipartUpload={"Parts": parts}
            )
            completed = True
            sha256 = digest.hexdigest()
            if local is not None:
                local.close()
                validate(Path(local.name))
            existing = self._head(sha256)
            created = existing is None or existing["ContentLength"] != size
            if created:
                self.client.copy(
                    {"Bucket": self.bucket, "Key": temp},
                    self.bucket,
                    self._name(sha256),
                    ExtraArgs={"Metadata": {"sha256": sha256}, "MetadataDirective": "REPLACE"},
                )
        except BaseException:
            if not completed:
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=temp, UploadId=upload
                    )
            raise
        finally:
            if completed:
                with contextlib.suppress(Exception):
                    self.client.delete_object(Bucket=self.bucket, Key=temp)
            if local is not None:
                local.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(local.name)
        return StoredFile(key=sha256, sha256=sha256, size=size, created=created)

    def _part(self, name: str, upload: str, number: int, data: bytearray) -> dict:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=name, UploadId=upload, PartNumber=number, Body=bytes(data)
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    # -- reading -------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        head = self._head(key)
        if head is None:
            raise NotFound("The stored file is missing.", key=key)
        raw = _RangeReader(self.client, self.bucket, self._name(key), head["ContentLength"])
        return io.BufferedReader(raw, buffer_size=self.chunk_size)

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        source = self.open(key)
        fd, name = tempfile.mkstemp(prefix="oralhist-s3-", suffix=".part")
        try:
            with source, os.fdopen(fd, "wb") as out:
                while chunk := source.read(self.chunk_size):
                    out.write(chunk)
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    def send(
        self,
        key: str,
        *,
        mimetype: str,
        as_attachment: bool = False,
        download_name: str | None = None,
        etag: str | bool = True,
        last_modified: dt.datetime | None = None,
        accelerate: bool = True,
    ) -> Response:
        """Proxied: the requested range streamed from the store; presigned: a redirect to
        the store (only when ``accelerate``: a caller that cut the Range keeps proxying)."""
        size = self.size(key)
        if self.delivery == "presigned" and accelerate:
            return self._redirect(key, mimetype, as_attachment, download_name)
        return send_stored(
            self.open(key),
            size,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            etag=key if etag is True else etag,
            last_modified=last_modified,
        )

    def _redirect(self, key: str, mimetype: str, as_attachment: bool, name: str | None):
        from flask import redirect
        from werkzeug.http import dump_options_header

        kind = "attachment" if as_attachment else "inline"
        disposition = (
            dump_options_header(kind, {"filename*": f"UTF-8''{_quote(name)}"}) if name else kind
        )
        url = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._name(key),
                "ResponseContentType": mimetype,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=self.presign_seconds,
        )
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    def front_path(self, key: str) -> str | None:
        """None: the front server cannot read these bytes itself (the app sends them)."""
        return None

    def exists(self, key: str) -> bool:
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            return False
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise NotFound("The stored file is missing.", key=key)
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def iter_keys(self) -> Iterator[str]:
        start = f"{self.prefix}media/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start
        )
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(start) :]
                if KEY_RE.fullmatch(name):
                    yield name

    def hash(self, key: str) -> str:
        """The sha256 of the object, read again from the store (fixity)."""
        digest = hashlib.sha256()
        with self.open(key) as f:
            while chunk := f.read(self.chunk_size):
                digest.update(chunk)
        return digest.hexdigest()

    def sweep_temp(self, older_than_s: float = 3600) -> list[dict[str, int | str]]:
        """Abort the multipart uploads and delete the temporary objects that interrupted
        saves left (older than ``older_than_s``: a save still running is younger)."""
        removed: list[dict[str, int | str]] = []
        cutoff = time.time() - older_than_s
        uploads = self.client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=self._temp_prefix
        ).get("Uploads", ())
        for upload in uploads:
            if self._started(upload["Key"], upload["Initiated"].timestamp()) <= cutoff:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                removed.append({"name": upload["Key"], "size": 0})
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._temp_prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                if item["LastModified"].timestamp() <= cutoff:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                    removed.append({"name": item["Key"], "size": int(item["Size"])})
        return removed

    def _started(self, name: str, reported: float) -> float:
        """When a temporary upload began: from its name (``tmp/<time_ns>-...``, written by
        ``save_stream``), as some S3-compatible stores report no real initiation time."""
        stamp = name[len(self._temp_prefix) :].split("-", 1)[0]
        return int(stamp) / 1e9 if stamp.isdigit() else reported


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def open_s3(config: Any) -> S3Storage:
    """The S3 storage of these settings (``MEDIA_S3_*``)."""
    return S3Storage(
        config.get("MEDIA_S3_BUCKET") or "",
        prefix=config.get("MEDIA_S3_PREFIX") or "",
        endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL"),
        region=config.get("MEDIA_S3_REGION"),
        access_key=config.get("MEDIA_S3_ACCESS_KEY_ID"),
        secret_key=config.get("MEDIA_S3_SECRET_ACCESS_KEY"),
        delivery=config.get("MEDIA_S3_DELIVERY") or "proxy",
        presign_seconds=int(config.get("MEDIA_S3_PRESIGN_SECONDS") or 300),
        part_size=int(config.get("MEDIA_S3_PART_MB") or 8) * MIB,
    )
