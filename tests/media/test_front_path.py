"""``Storage.front_path``: where nginx finds a stored file itself (the cached access check,
``web/media_check.py``), and None wherever it cannot: no nginx, not local files, no file."""

from __future__ import annotations

import io
from pathlib import Path

from oralhist.media.memory import MemoryStorage
from oralhist.media.storage import LocalStorage


def test_local_files_behind_nginx_have_a_path_under_media_root(tmp_path: Path):
    storage = LocalStorage(tmp_path, accel="nginx")
    saved = storage.save_stream(io.BytesIO(b"some audio bytes"))
    front = storage.front_path(saved.key)
    assert front is not None and front.startswith("/") and front.endswith(saved.key)
    assert (tmp_path / front.lstrip("/")).read_bytes() == b"some audio bytes"
    assert storage.front_path("0" * 64) is None  # no such file
    assert storage.front_path("../../etc/passwd") is None  # not a key


def test_nothing_for_nginx_without_it_or_without_local_files(tmp_path: Path):
    for storage in (LocalStorage(tmp_path), LocalStorage(tmp_path, accel="sendfile")):
        saved = storage.save_stream(io.BytesIO(b"bytes"))
        assert storage.front_path(saved.key) is None
    memory = MemoryStorage()
    assert memory.front_path(memory.save_stream(io.BytesIO(b"bytes")).key) is None
