"""Content-addressed, immutable file storage (DESIGN invariant 4).

Every stored file is named by the sha256 of its bytes, never by what the uploader called it.
Uploads stream through a temporary file while being hashed, so memory does not grow with file
size, and a file only appears under its final name once it is complete, synced, validated and
read-only. An upload that fails or is cut off leaves nothing behind.

The rest of the application depends only on the ``Storage`` protocol below (obtained through
``services.recordings.storage()``, chosen by the ``MEDIA_STORAGE`` setting): it never sees a
local path. Bytes are read with ``open``, delivered to a browser with ``send`` (the full file,
a Range, a 304 or a 416: the one place where an nginx ``X-Accel-Redirect`` or an object store's
redirect will plug in), and handed to tools that read files by name (ffprobe) with
``local_file``, which gives a path for the duration of a ``with`` block only (Indico's
``get_local_path``). ``LocalStorage`` keeps files under ``MEDIA_ROOT``; ``MemoryStorage``
(``media/memory.py``) keeps them in a dict, for tests; ``tests/media/test_storage_contract.py``
runs the same contract against both.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import queue
import re
import secrets
import stat
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

if TYPE_CHECKING:
    import datetime as dt
    from contextlib import AbstractContextManager

    from flask import Response

from ..errors import NotFound, TooLarge

try:  # POSIX: an upload's temporary file is locked while its process lives
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

KEY_RE = re.compile(r"[0-9a-f]{64}")
_FANOUT_RE = re.compile(r"[0-9a-f]{2}")
TEMP_DIR = "tmp"
TEMP_SUFFIX = ".part"
READ_ONLY = 0o444


@dataclass(frozen=True)
class StoredFile:
    """The outcome of a save. ``created`` is False when the same content was already stored."""

    key: str
    sha256: str
    size: int
    created: bool


@runtime_checkable
class Storage(Protocol):
    """Where the archive's media files (recordings, attachments) live, by content key."""

    def save_stream(
        self,
        stream: BinaryIO,
        *,
        max_bytes: int | None = None,
        validate: Callable[[Path], None] | None = None,
    ) -> StoredFile:
        """Store everything ``stream`` yields under its sha256, hashing on the way; raise
        ``TooLarge`` past ``max_bytes``; ``validate`` sees the complete bytes (as a local
        file) before they are kept. Nothing is left behind when anything fails."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The stored bytes as a binary stream (the caller closes it); ``NotFound`` if none."""
        ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the bytes, for tools that read files by name, valid inside
        the ``with`` block only (and never to be written)."""
        ...

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
        """The response to the current request for the stored bytes: the whole file, one
        Range (206), 304 for a matching conditional request, or 416 with ``Content-Range:
        bytes */size``. Called after the access check; ``NotFound`` if the file is missing.

        A storage may hand the bytes of a 200 or 206 to the front server (``MEDIA_ACCEL``:
        nginx's ``X-Accel-Redirect``, ``X-Sendfile``), which then answers the request's own
        Range itself; ``accelerate=False`` keeps the bytes in the app (a caller that changed
        the Range, as a listen-only grant's cap does, must not let the client's through)."""
        ...

    def front_path(self, key: str) -> str | None:
        """Where the front server finds the stored bytes itself, for a cached access check
        (``MEDIA_ACCEL_AUTH``, ``web/media_check.py``): a path under the front server's media
        root, or None when it cannot send them (no nginx, not local files, or missing)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The stored size in bytes; ``NotFound`` if missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove a stored file; a missing one is fine."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Every stored key, in order (fixity's list of what is there)."""
        ...

    def hash(self, key: str) -> str:
        """The sha256 of the stored bytes, read again (fixity)."""
        ...

    def sweep_temp(self, older_than_s: float = 3600) -> list[dict[str, int | str]]:
        """Remove what interrupted saves left behind (never a save still in progress in a
        live process); return each removed file's name and size, for fixity's report."""
        ...


def check_key(key: Any) -> str:
    """``key`` if it is a generated key (a sha256 in hex); anything else is ``NotFound``."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise NotFound("No stored file has that name.", key=str(key)[:80])
    return key


def send_stored(
    source: str | os.PathLike[str] | BinaryIO,
    size: int,
    *,
    mimetype: str,
    as_attachment: bool = False,
    download_name: str | None = None,
    etag: str | bool = True,
    last_modified: dt.datetime | None = None,
) -> Response:
    """``Storage.send`` for bytes that are a local file or a seekable stream: Werkzeug's
    ``send_file`` (conditional, one Range: several are answered with the whole file, as no
    multipart/byteranges is made), with a plain 416 naming the size."""
    from flask import request, send_file
    from werkzeug.exceptions import RequestedRangeNotSatisfiable
    from werkzeug.http import parse_range_header
    from werkzeug.wsgi import FileWrapper

    ranges = parse_range_header(request.headers.get("Range"))
    if ranges is not None and len(ranges.ranges) > 1:
        request.environ.pop("HTTP_RANGE", None)
    elif ranges is not None:
        # gunicorn's wsgi.file_wrapper cannot seek, so Werkzeug would read and drop every
        # byte before the range's start; its own wrapper seeks. Full GETs keep sendfile.
        request.environ["wsgi.file_wrapper"] = FileWrapper
    try:
        if isinstance(source, str | os.PathLike | io.BytesIO):
            return send_file(
                source,
                mimetype=mimetype,
                as_attachment=as_attachment,
                download_name=download_name,
                conditional=True,
                etag=etag,
                last_modified=last_modified,
                max_age=0,
            )
        # Another stream (an object store's): Werkzeug cannot know its size, so the
        # conditional and Range handling is asked for with the size given.
        response = send_file(
            source,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=False,
            etag=False,
            last_modified=last_modified,
            max_age=0,
        )
        response.content_length = size
        if isinstance(etag, str):
            response.set_etag(etag)
        try:
            return response.make_conditional(
                request.environ, accept_ranges=True, complete_length=size
            )
        except RequestedRangeNotSatisfiable:
            response.close()
            raise
    except RequestedRangeNotSatisfiable:
        return _unsatisfiable(size)


def _unsatisfiable(size: int) -> Response:
    from flask import make_response

    response = make_response("The requested range is not in this file.\n", 416)
    response.mimetype = "text/plain"
    response.headers["Content-Range"] = f"bytes */{size}"
    return response


class LocalStorage:
    """Files under ``root/ab/cd/abcd...`` (fan-out by the sha256's first two byte pairs)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        chunk_size: int = 1024 * 1024,
        accel: str | None = None,
        accel_prefix: str = "/_media/",
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if accel not in ACCELS:
            raise ValueError(
                f"MEDIA_ACCEL is {accel!r}; it is one of: nginx, sendfile, or None (the app"
                " sends the bytes)."
            )
        if accel == "nginx" and not (accel_prefix.startswith("/") and accel_prefix.endswith("/")):
            raise ValueError(f"MEDIA_ACCEL_PREFIX must start and end with /, not {accel_prefix!r}.")
        self.root = Path(root).resolve()
        self.chunk_size = chunk_size
        self.accel = accel
        self.accel_prefix = accel_prefix

    @property
    def temp_dir(self) -> Path:
        return self.root / TEMP_DIR

    # -- writing -------------------------------------------------------------------------

    def save_stream(
        self,
        stream: BinaryIO,
        *,
        max_bytes: int | None = None,
        validate: Callable[[Path], None] | None = None,
    ) -> StoredFile:
        """Store everything ``stream`` yields and return its key.

        Raises ``TooLarge`` past ``max_bytes``; re-raises whatever the stream or ``validate``
        raise. In every failure case the temporary file is removed.
        """
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        temp, fd = self._new_temp()
        # The lock lives as long as this duplicate: until the file is stored or removed.
        lock_fd = os.dup(fd)
        size = 0
        try:
            with open(fd, "wb", buffering=0) as out, _Hasher() as digest:
                while True:
                    chunk = stream.read(self.chunk_size)
                    if not chunk:
                        break
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(
                            f"The file is larger than this archive accepts ({max_bytes} bytes at "
                            "most).",
                            max_bytes=max_bytes,
                        )
                    digest.update(chunk)
                    out.write(chunk)
                sha256 = digest.hexdigest()
                out.flush()
                os.fsync(out.fileno())
            if validate is not None:
                validate(temp)
            created = self._commit(temp, sha256, size)
        except BaseException:
            _unlink_quietly(temp)
            raise
        finally:
            os.close(lock_fd)
        return StoredFile(key=sha256, sha256=sha256, size=size, created=created)

    def _new_temp(self) -> tuple[Path, int]:
        """Create a temporary upload file, locked (``flock``) for as long as it is open.

        The lock says "a live process is writing this": the kernel drops it when the process
        ends, however it ends (kill -9 included), which is how :meth:`sweep_temp` tells an
        abandoned file from one still arriving. The name also carries the owner's pid, for
        people reading ``media/tmp``.
        """
        while True:
            temp = self.temp_dir / f"{os.getpid()}-{secrets.token_hex(16)}{TEMP_SUFFIX}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
            if fcntl is None:
                return temp, fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino == os.stat(temp).st_ino:
                    return temp, fd
            except (BlockingIOError, FileNotFoundError):
                pass
            os.close(fd)  # a sweep took the new file in that instant: use another name

    def sweep_temp(self, older_than_s: float = 3600) -> list[dict[str, int | str]]:
        """Remove the temporary files of uploads whose process is gone (a crash, kill -9);
        returns each removed file's name and size.

        A file is abandoned when no process holds its lock (see :meth:`_new_temp`), so an
        upload in progress in another live process, or another worker, is never touched,
        however slowly it arrives. Where ``flock`` does not exist (Windows), a file untouched
        for ``older_than_s`` counts as abandoned instead. ``flock`` is per host: keep
        ``media/tmp`` on a local disk, not one shared between hosts over NFS.
        """
        if not self.temp_dir.is_dir():
            return []
        cutoff = time.time() - older_than_s
        removed: list[dict[str, int | str]] = []
        for entry in sorted(self.temp_dir.iterdir()):
            if not entry.name.endswith(TEMP_SUFFIX):
                continue
            try:
                fd = os.open(entry, os.O_RDONLY | _O_BINARY)
            except OSError:  # gone already, or not a file we may read
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a live upload is writing it
                elif info.st_mtime >= cutoff:
                    continue
                try:
                    entry.unlink()
                except FileNotFoundError:
                    continue
                removed.append({"name": entry.name, "size": info.st_size})
            finally:
                os.close(fd)
        return removed

    def _commit(self, temp: Path, sha256: str, size: int) -> bool:
        """Move ``temp`` to its content-addressed place; False when that content was there."""
        final = self._key_path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, READ_ONLY)
        try:
            existing_size = final.stat().st_size
        except FileNotFoundError:
            existing_size = None
        if existing_size == size:
            _unlink_quietly(temp)
            return False
        if existing_size is not None:
            # Same name, different size: the stored copy is damaged (fixity would flag it).
            # The new bytes hash to this key, so they are the good copy: put them in its place.
            os.replace(temp, final)
            _fsync_dir(final.parent)
            return True
        try:
            os.link(temp, final)  # never overwrites: a concurrent save of the same bytes wins
        except FileExistsError:
            _unlink_quietly(temp)
            return False
        except OSError:
            os.replace(temp, final)  # filesystems without hard links
        else:
            _unlink_quietly(temp)
        _fsync_dir(final.parent)
        return True

    # -- reading -------------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """The local path of ``key`` (``LocalStorage`` only: the application uses ``open``,
        ``send`` and ``local_file``). Anything but a generated key raises ``NotFound``."""
        check_key(key)
        path = self._key_path(key)
        if not path.is_relative_to(self.root):  # cannot happen with a valid key; stay safe
            raise NotFound("No stored file has that name.", key=key)
        return path

    def _key_path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / key

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")  # the caller closes it
        except FileNotFoundError:
            raise NotFound("The stored file is missing.", key=key) from None

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """The stored file itself (read-only on disk)."""
        path = self.path(key)
        if not path.is_file():
            raise NotFound("The stored file is missing.", key=key)
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
        """The file by path, so a full GET goes out with the server's sendfile; with
        ``MEDIA_ACCEL``, a 200 or 206 is handed to the front server instead (``_accel``)."""
        path = self.path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise NotFound("The stored file is missing.", key=key) from None
        response = send_stored(
            path,
            size,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            etag=etag,
            last_modified=last_modified,
        )
        if self.accel is None or not accelerate or response.status_code not in (200, 206):
            return response
        return self._accel(key, path, response)

    def _accel(self, key: str, path: Path, decided: Response) -> Response:
        """Werkzeug has decided what this request gets (so the caller's checks of the status,
        such as the play audit, still hold); the front server sends the bytes, and answers the
        Range itself from the same file: nginx through the internal location
        ``MEDIA_ACCEL_PREFIX`` (an ``alias`` of ``MEDIA_ROOT``), Apache/lighttpd through
        ``X-Sendfile`` with the absolute path. No file is read or held open here."""
        from flask import Response as FlaskResponse

        decided.close()  # the file Werkzeug opened: nothing is read from it
        response = FlaskResponse(status=200, mimetype=decided.mimetype)
        for name in ("Content-Type", "Content-Disposition", "ETag", "Last-Modified"):
            if name in decided.headers:
                response.headers[name] = decided.headers[name]
        response.headers["Cache-Control"] = decided.headers.get("Cache-Control", "no-cache")
        if self.accel == "nginx":
            relative = path.relative_to(self.root).as_posix()
            response.headers["X-Accel-Redirect"] = self.accel_prefix + relative
        else:
            response.headers["X-Sendfile"] = str(path)
        response.headers.pop("Content-Length", None)
        return response

    def front_path(self, key: str) -> str | None:
        """The file's path under MEDIA_ROOT (``/ab/abcd...``) when nginx sends media
        (``MEDIA_ACCEL = "nginx"``) and the file is there; else None."""
        if self.accel != "nginx" or not self.exists(key):
            return None
        return "/" + self._key_path(key).relative_to(self.root).as_posix()

    def exists(self, key: str) -> bool:
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            return False
        return self._key_path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound("The stored file is missing.", key=key) from None

    def delete(self, key: str) -> None:
        """Remove a stored file; a missing one is fine. Fan-out folders are kept."""
        _unlink_quietly(self.path(key))

    def iter_keys(self) -> Iterator[str]:
        """Every stored key, in order. Ignores ``tmp/`` and anything not laid out as a key."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not _FANOUT_RE.fullmatch(first.name) or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not _FANOUT_RE.fullmatch(second.name) or not second.is_dir():
                    continue
                for entry in sorted(second.iterdir()):
                    name = entry.name
                    if (
                        KEY_RE.fullmatch(name)
                        and name[:2] == first.name
                        and name[2:4] == second.name
                        and entry.is_file()
                    ):
                        yield name

    def hash(self, key: str) -> str:
        """Recompute the sha256 of the stored bytes (for fixity), streaming."""
        digest = hashlib.sha256()
        with self.open(key) as f:
            while chunk := f.read(self.chunk_size):
                digest.update(chunk)
        return digest.hexdigest()


STORAGES = ("local", "memory", "s3")
ACCELS = (None, "nginx", "sendfile")


def open_storage(config: Any) -> Storage:
    """The storage ``config["MEDIA_STORAGE"]`` names: ``local`` (files under ``MEDIA_ROOT``,
    the default), ``memory`` (a dict, for tests) or ``s3`` (an object store: ``media/s3.py``)."""
    kind = config.get("MEDIA_STORAGE") or "local"
    if kind == "local":
        return LocalStorage(
            config["MEDIA_ROOT"],
            accel=config.get("MEDIA_ACCEL") or None,
            accel_prefix=config.get("MEDIA_ACCEL_PREFIX") or "/_media/",
        )
    if kind == "memory":
        from .memory import MemoryStorage

        return MemoryStorage()
    if kind == "s3":
        from .s3 import open_s3

        return open_s3(config)
    raise ValueError(f"MEDIA_STORAGE is {kind!r}; the storages are: {', '.join(STORAGES)}.")


_O_BINARY = getattr(os, "O_BINARY", 0)


class _Hasher:
    """sha256 on a helper thread, so hashing one chunk overlaps writing (and receiving) the
    next: hashlib and file writes both release the GIL. At most ``depth`` chunks wait, so
    memory stays bounded whichever side is slower. ``bench/bench_upload.py`` measures it."""

    def __init__(self, depth: int = 4) -> None:
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | bytearray | memoryview | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="oralhist-sha256", daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> _Hasher:
        self._thread.start()
        return self

    def _run(self) -> None:
        update = self._digest.update
        while (chunk := self._queue.get()) is not None:
            try:
                update(chunk)
            except BaseException as exc:  # pragma: no cover - sha256 does not fail
                self._error = exc

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Queue ``chunk``. The hash is computed later, so a buffer the caller may reuse (a
        bytearray, a writable memoryview) is copied first; bytes and read-only views are not."""
        if isinstance(chunk, bytearray) or (isinstance(chunk, memoryview) and not chunk.readonly):
            chunk = bytes(chunk)
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait for every queued chunk; the digest of them all."""
        self._finish()
        if self._error is not None:  # pragma: no cover
            raise self._error
        return self._digest.hexdigest()

    def _finish(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __exit__(self, *exc_info: object) -> None:
        self._finish()  # also on errors: never leave the thread behind


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the uploader's name, for display only ------------------------------------------------

MAX_DISPLAY_NAME = 255
_MAX_EXTENSION = 16
# Bidirectional embedding/override/isolate controls can make "gpj.exe" read as "exe.jpg".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def display_filename(name: str | None) -> str:
    """What the uploader called the file, made safe to show: never used as a path.

    Keeps only the last path part (``/`` or ``\\``), drops control characters, NULs and
    bidi overrides, NFC-normalises, and trims to 255 characters keeping the extension.
    """
    text = name or ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(
        ch
        for ch in text
        if ch not in _BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs")
    )
    text = unicodedata.normalize("NFC", text).strip()
    if text in ("", ".", ".."):
        return "unnamed"
    if len(text) > MAX_DISPLAY_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= _MAX_EXTENSION and " " not in ext:
            text = stem[: MAX_DISPLAY_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:MAX_DISPLAY_NAME].rstrip()
    return text
