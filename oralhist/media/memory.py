"""``MemoryStorage``: the ``Storage`` protocol over a dict, for tests (``MEDIA_STORAGE =
"memory"``), as Indico swaps its storage for an in-memory one. Same keys, same errors, same
responses as ``LocalStorage``; nothing touches the disk but the short-lived files that
``validate`` and ``local_file`` need, removed at once."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import NotFound, TooLarge
from .storage import KEY_RE, StoredFile, check_key, send_stored

if TYPE_CHECKING:
    import datetime as dt

    from flask import Response


class MemoryStorage:
    """Stored files as bytes in a dict, by sha256 key. Thread-safe (one lock)."""

    def __init__(self, *, chunk_size: int = 1024 * 1024) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.chunk_size = chunk_size
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def save_stream(
        self,
        stream: BinaryIO,
        *,
        max_bytes: int | None = None,
        validate: Callable[[Path], None] | None = None,
    ) -> StoredFile:
        buffer = io.BytesIO()
        digest = hashlib.sha256()
        size = 0
        while chunk := stream.read(self.chunk_size):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise TooLarge(
                    f"The file is larger than this archive accepts ({max_bytes} bytes at most).",
                    max_bytes=max_bytes,
                )
            digest.update(chunk)
            buffer.write(chunk)
        data = buffer.getvalue()
        if validate is not None:
            with _temporary_file(data) as path:
                validate(path)
        key = digest.hexdigest()
        with self._lock:
            existing = self._files.get(key)
            # As LocalStorage: a stored copy of another size is damaged, and replaced.
            created = existing is None or len(existing) != size
            if created:
                self._files[key] = data
        return StoredFile(key=key, sha256=key, size=size, created=created)

    def _bytes(self, key: str) -> bytes:
        check_key(key)
        with self._lock:
            data = self._files.get(key)
        if data is None:
            raise NotFound("The stored file is missing.", key=key)
        return data

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._bytes(key))

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        with _temporary_file(self._bytes(key)) as path:
            yield path

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
        """The bytes from memory (there is no file to hand to a front server)."""
        data = self._bytes(key)
        return send_stored(
            io.BytesIO(data),
            len(data),
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            etag=key if etag is True else etag,  # no file to hash: the key is the content's
            last_modified=last_modified,
        )

    def front_path(self, key: str) -> str | None:
        """None: the front server cannot read these bytes itself (the app sends them)."""
        return None

    def exists(self, key: str) -> bool:
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            return False
        with self._lock:
            return key in self._files

    def size(self, key: str) -> int:
        return len(self._bytes(key))

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._files.pop(key, None)

    def iter_keys(self) -> Iterator[str]:
        with self._lock:
            keys = sorted(self._files)
        yield from keys

    def hash(self, key: str) -> str:
        return hashlib.sha256(self._bytes(key)).hexdigest()

    def sweep_temp(self, older_than_s: float = 3600) -> list[dict[str, int | str]]:
        """Nothing to sweep: a save that fails keeps nothing."""
        return []

    def damage(self, key: str, data: bytes) -> None:
        """Replace a stored file's bytes (tests of fixity: a changed file)."""
        check_key(key)
        with self._lock:
            self._files[key] = data


@contextlib.contextmanager
def _temporary_file(data: bytes) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="oralhist-memory-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
