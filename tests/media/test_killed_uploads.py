"""A killed upload leaves its temporary file; the next sweep (server start, ``oralhist
init``, ``oralhist fixity``) removes it, and never the file of an upload still arriving in
another live process. Real processes, a real kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oralhist.media.storage import LocalStorage

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

UPLOADER = (
    "import sys\n"
    "from oralhist.media.storage import LocalStorage\n"
    "LocalStorage(sys.argv[1], chunk_size=4096).save_stream(sys.stdin.buffer)\n"
)


def _start_upload(root: Path) -> subprocess.Popen:
    """A process storing what arrives on its stdin (an upload that arrives slowly)."""
    process = subprocess.Popen([sys.executable, "-c", UPLOADER, str(root)], stdin=subprocess.PIPE)
    process.stdin.write(b"a" * 8192)  # two chunks: the temporary file has bytes in it
    process.stdin.flush()
    return process


def _part_of(process: subprocess.Popen, root: Path) -> Path:
    """The temporary file of ``process`` (named after its pid), once it holds bytes."""
    deadline = time.monotonic() + 60  # a bound on waiting, not an assertion on speed
    while time.monotonic() < deadline:
        for part in (root / "tmp").glob(f"{process.pid}-*.part"):
            if part.stat().st_size >= 4096:
                return part
        time.sleep(0.05)
    raise AssertionError("the upload never wrote its temporary file")


def test_kill_9_leaves_a_part_that_the_sweep_removes_while_a_live_upload_goes_on(tmp_path):
    root = tmp_path / "media"
    killed, live = _start_upload(root), _start_upload(root)
    try:
        killed_part, live_part = _part_of(killed, root), _part_of(live, root)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert killed_part.exists()  # what kill -9 leaves behind

        removed = LocalStorage(root).sweep_temp()

        assert removed == [{"name": killed_part.name, "size": killed_part_size(removed)}]
        assert not killed_part.exists()
        assert live_part.exists()  # still arriving in a live process: untouched
        live.stdin.write(b"b" * 100)
        live.stdin.close()
        assert live.wait() == 0
        assert not live_part.exists()  # stored under its key, temporary file gone
        assert len(list(LocalStorage(root).iter_keys())) == 1
    finally:
        for process in (killed, live):
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdin and not process.stdin.closed:
                process.stdin.close()


def killed_part_size(removed: list[dict]) -> int:
    assert len(removed) == 1
    assert removed[0]["size"] >= 4096
    return removed[0]["size"]
