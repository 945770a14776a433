"""LocalStorage: content addressing, dedupe, nothing left behind on failure, safe paths,
bounded memory; and display_filename."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest

from oralhist.errors import NotFound, TooLarge, UnsupportedMedia
from oralhist.media.storage import LocalStorage, display_filename

CONTENT = b"an interview, tape 1 side A\n" * 1000
KEY = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", chunk_size=4096)


def leftovers(storage: LocalStorage) -> list[Path]:
    """Every file under the storage root: after a failed save there must be none."""
    return [p for p in storage.root.rglob("*") if p.is_file()]


class ZeroStream:
    """``size`` bytes of zeros, produced on demand (never held in memory at once)."""

    def __init__(self, size: int, *, fail_at: int | None = None) -> None:
        self.remaining = size
        self.sent = 0
        self.fail_at = fail_at

    def read(self, n: int = -1) -> bytes:
        if self.fail_at is not None and self.sent >= self.fail_at:
            raise OSError("client went away")
        n = self.remaining if n < 0 else min(n, self.remaining)
        self.remaining -= n
        self.sent += n
        return bytes(n)


def test_save_stores_by_sha256_read_only(storage: LocalStorage) -> None:
    stored = storage.save_stream(io.BytesIO(CONTENT))
    assert stored.key == stored.sha256 == KEY
    assert stored.size == len(CONTENT)
    assert stored.created is True
    path = storage.path(KEY)
    assert path == storage.root / KEY[:2] / KEY[2:4] / KEY
    assert path.read_bytes() == CONTENT
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert storage.exists(KEY)
    assert storage.size(KEY) == len(CONTENT)
    assert storage.hash(KEY) == KEY
    with storage.open(KEY) as f:
        assert f.read() == CONTENT
    assert list(storage.iter_keys()) == [KEY]
    assert list((storage.root / "tmp").iterdir()) == []


def test_same_content_is_stored_once(storage: LocalStorage) -> None:
    first = storage.save_stream(io.BytesIO(CONTENT))
    second = storage.save_stream(io.BytesIO(CONTENT))
    assert first.created is True
    assert second.created is False
    assert second.key == first.key
    assert leftovers(storage) == [storage.path(KEY)]


def test_a_damaged_stored_copy_is_replaced_by_a_good_upload(storage: LocalStorage) -> None:
    path = storage.path(KEY)
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT[:10])  # truncated: what fixity would flag
    stored = storage.save_stream(io.BytesIO(CONTENT))
    assert stored.created is True
    assert path.read_bytes() == CONTENT
    assert storage.hash(KEY) == KEY


def test_too_large_leaves_nothing(storage: LocalStorage) -> None:
    with pytest.raises(TooLarge) as caught:
        storage.save_stream(ZeroStream(100_000), max_bytes=50_000)
    assert "50000" in caught.value.message
    assert leftovers(storage) == []


def test_exactly_max_bytes_is_accepted(storage: LocalStorage) -> None:
    stored = storage.save_stream(ZeroStream(50_000), max_bytes=50_000)
    assert stored.size == 50_000


def test_stream_failing_halfway_leaves_nothing(storage: LocalStorage) -> None:
    with pytest.raises(OSError, match="client went away"):
        storage.save_stream(ZeroStream(100_000, fail_at=40_000))
    assert leftovers(storage) == []


def hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "oralhist-sha256"]


class Pieces:
    """Memoryviews of uneven size, as the streamed multipart reader hands them on."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.turn = memoryview(data), 0, 0

    def read(self, size: int) -> memoryview:
        self.turn += 1
        piece = self.data[self.at : self.at + min(size, 1 + (self.turn * 7919) % 9000)]
        self.at += len(piece)
        return piece


def test_hashing_on_its_own_thread_gives_the_sha256_and_ends(storage: LocalStorage) -> None:
    data = os.urandom(300_000)
    stored = storage.save_stream(Pieces(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    with storage.open(stored.key) as f:
        assert f.read() == data
    with pytest.raises(OSError, match="client went away"):
        storage.save_stream(ZeroStream(100_000, fail_at=40_000))
    with pytest.raises(TooLarge):
        storage.save_stream(io.BytesIO(CONTENT), max_bytes=10)
    assert hashing_threads() == []


class ReusedBuffer:
    """A stream that reads into one bytearray and returns it again and again."""

    def __init__(self, data: bytes) -> None:
        self.source, self.buffer = io.BytesIO(data), bytearray(5000)

    def read(self, size: int) -> memoryview:
        n = self.source.readinto(self.buffer)
        return memoryview(self.buffer)[:n]


def test_a_reused_read_buffer_still_hashes_right(storage: LocalStorage) -> None:
    data = os.urandom(200_000)
    stored = storage.save_stream(ReusedBuffer(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_failing_validation_leaves_nothing(storage: LocalStorage) -> None:
    seen: list[bytes] = []

    def validate(path: Path) -> None:
        seen.append(path.read_bytes())
        raise UnsupportedMedia("x.mp3 is not audio", filename="x.mp3")

    with pytest.raises(UnsupportedMedia):
        storage.save_stream(io.BytesIO(CONTENT), validate=validate)
    assert seen == [CONTENT]  # validate saw the whole, synced file
    assert leftovers(storage) == []
    assert not storage.exists(KEY)


def test_validation_with_the_audio_probe(storage: LocalStorage, testdata_dir: Path) -> None:
    from oralhist.media.probe import probe_audio

    jpeg = (testdata_dir / "mutagen" / "data" / "image.jpg").read_bytes()
    with pytest.raises(UnsupportedMedia, match="JPEG"):
        storage.save_stream(io.BytesIO(jpeg), validate=lambda p: probe_audio(p, "cover.mp3"))
    assert leftovers(storage) == []

    mp3 = (testdata_dir / "jfk-speech" / "jfk.mp3").read_bytes()
    stored = storage.save_stream(io.BytesIO(mp3), validate=lambda p: probe_audio(p, "jfk.mp3"))
    assert storage.hash(stored.key) == hashlib.sha256(mp3).hexdigest()


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "/etc/passwd",
        "../" * 20 + "etc/passwd",
        KEY.upper(),
        KEY[:63],
        KEY + "0",
        KEY[:62] + "/x",
        KEY[:63] + "\x00",
        "",
        " " + KEY[1:],
        "ab/cd/" + KEY,
    ],
)
def test_path_refuses_anything_but_a_generated_key(storage: LocalStorage, key: str) -> None:
    with pytest.raises(NotFound):
        storage.path(key)
    with pytest.raises(NotFound):
        storage.open(key)
    with pytest.raises(NotFound):
        storage.delete(key)
    assert storage.exists(key) is False


def test_missing_key_is_not_found(storage: LocalStorage) -> None:
    assert storage.path(KEY).is_relative_to(storage.root)
    assert not storage.exists(KEY)
    with pytest.raises(NotFound):
        storage.open(KEY)
    with pytest.raises(NotFound):
        storage.size(KEY)
    storage.delete(KEY)  # missing is fine


def test_delete(storage: LocalStorage) -> None:
    stored = storage.save_stream(io.BytesIO(CONTENT))
    storage.delete(stored.key)
    assert not storage.exists(stored.key)
    assert list(storage.iter_keys()) == []


def test_iter_keys_ignores_temp_and_strays(storage: LocalStorage) -> None:
    a = storage.save_stream(io.BytesIO(b"a")).key
    b = storage.save_stream(io.BytesIO(b"b")).key
    (storage.root / "tmp" / "abandoned.part").write_bytes(b"x")
    (storage.root / "README").write_text("stray")
    wrong_place = storage.root / "00" / "00" / a  # a key-shaped name in the wrong folder
    wrong_place.parent.mkdir(parents=True)
    wrong_place.write_bytes(b"a")
    assert list(storage.iter_keys()) == sorted([a, b])


def test_iter_keys_of_an_empty_store(tmp_path: Path) -> None:
    assert list(LocalStorage(tmp_path / "nothing-yet").iter_keys()) == []


def test_sweep_temp_removes_only_part_files_no_process_holds(storage: LocalStorage) -> None:
    import fcntl

    tmp = storage.root / "tmp"
    tmp.mkdir(parents=True)
    dead, live, other = tmp / "dead.part", tmp / "live.part", tmp / "keep.txt"
    for path in (dead, live, other):
        path.write_bytes(b"x")
    with open(live, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        assert storage.sweep_temp() == [{"name": "dead.part", "size": 1}]
    assert not dead.exists()
    assert live.exists() and other.exists()


def test_fifty_megabytes_are_saved_in_bounded_memory(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")  # default 1 MiB chunks
    size = 50 * 1024 * 1024
    tracemalloc.start()
    try:
        stored = storage.save_stream(ZeroStream(size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size
    assert stored.sha256 == hashlib.sha256(bytes(size)).hexdigest()
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("interview.mp3", "interview.mp3"),
        ("André.mp3", "André.mp3"),
        ("Andre\u0301.mp3", "André.mp3"),  # decomposed é is NFC-normalised
        ("مقابلة مع جدي.mp3", "مقابلة مع جدي.mp3"),
        ("../../etc/passwd.mp3", "passwd.mp3"),
        ("C:\\Users\\ann\\tape 1.wav", "tape 1.wav"),
        ("/var/tmp/", "unnamed"),
        ("tape\x00.mp3", "tape.mp3"),
        ("tape\r\n1\t.mp3", "tape1.mp3"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("", "unnamed"),
        ("..", "unnamed"),
        ("   ", "unnamed"),
        (None, "unnamed"),
    ],
)
def test_display_filename(given: str | None, shown: str) -> None:
    assert display_filename(given) == shown


def test_display_filename_trims_long_names_keeping_the_extension() -> None:
    shown = display_filename("x" * 300 + ".flac")
    assert len(shown) == 255
    assert shown.endswith("x.flac")
    arabic = display_filename("ب" * 400 + ".mp3")
    assert len(arabic) == 255 and arabic.endswith("ب.mp3")
    assert len(display_filename("y" * 300)) == 255
