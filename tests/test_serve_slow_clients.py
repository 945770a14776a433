"""Slow request bodies against the real server (``oralhist serve``, gunicorn gthread), over
loopback, bounded in count and time: clients that announce a body and never send it must not
keep the archive from answering others.

The reported case: 16 anonymous POSTs that announced more body than they sent made 13 of 19
probes of ``/`` time out for 45 s. Here one worker with 4 threads faces 16 such POSTs to
``/login`` (the one form an anonymous client may send, so its body is read) and 8 to the API
(refused before their body is read); every probe of ``/`` must still be answered."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")

ORALHIST = [sys.executable, "-m", "oralhist.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a bound on start-up, not an assertion on speed
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"oralhist serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("oralhist serve did not start")


def _stalled_post(port: int, path: str, announced: int) -> socket.socket:
    """A POST whose headers announce ``announced`` bytes, of which only a few are sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {announced}\r\n\r\nemail="
        ).encode()
    )
    return sock


def _status_line(sock: socket.socket) -> str:
    try:
        data = sock.recv(200)
    except OSError:
        return ""
    return data.split(b"\r\n", 1)[0].decode("latin-1")


@pytest.fixture
def served(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OH_")}
    subprocess.run([*ORALHIST, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            *ORALHIST,
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            "4",
            "--body-timeout",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_slow_bodies_do_not_stop_the_server_answering(served: int, tmp_path: Path):
    port = served
    stalled = [_stalled_post(port, "/login", 100_000) for _ in range(16)]
    refused = [_stalled_post(port, "/api/v1/interviews", 1_000_000) for _ in range(8)]
    try:
        answers = []
        for _ in range(19):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                answers.append(response.status)
        assert answers == [200] * 19
        # The API posts were refused without waiting for their body; the stalled sign-ins
        # ended with 400 once their body stopped arriving.
        assert all(_status_line(s).startswith("HTTP/1.1 401") for s in refused)
        assert all(_status_line(s).startswith("HTTP/1.1 400") for s in stalled)
    finally:
        for sock in stalled + refused:
            sock.close()
