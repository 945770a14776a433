"""Media sent by nginx (``MEDIA_ACCEL = "nginx"``): Debian's nginx, run with the site of
``docs/deploy/nginx-oralhist.conf`` (its ports, paths and certificates filled in), in front of
a real gunicorn (``oralhist serve``) on free ports.

The app checks access, audits, and answers with ``X-Accel-Redirect``; nginx sends the file,
whole or by Range, from its internal location, which no client can reach directly. Skipped
with a reason where nginx is not installed (``.ci/run`` installs ``nginx-light``)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only"),
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (Debian: apt install nginx-light)"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "deploy" / "nginx-oralhist.conf"
CHECK_SNIPPET = ROOT / "docs" / "deploy" / "nginx-oralhist-audio-check.conf"
ORALHIST = [sys.executable, "-m", "oralhist.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120  # a bound on start-up, not an assertion on speed
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not start")


def site_for_test(
    port: int,
    redirect_port: int,
    app_port: int,
    media: Path,
    *,
    audio_check_cache: Path | None = None,
    audio_check_seconds: int = 30,
) -> str:
    """The deploy site with this test's ports and paths (the lines marked ``@...@``); with
    ``audio_check_cache``, the cached access check of ``nginx-oralhist-audio-check.conf``
    enabled (its cache in that folder, answers kept ``audio_check_seconds``)."""
    static = ROOT / "oralhist" / "static"
    out = []
    for line in SITE.read_text().splitlines():
        if "@SSL@" in line:
            continue
        if "@AUDIO_CACHE@" in line:
            if audio_check_cache is not None:
                line = line.split("#", 1)[1].split("#", 1)[0].strip()
                line = line.replace("/var/cache/nginx/oralhist-audio", str(audio_check_cache))
            out.append(line)
            continue
        if "@AUDIO_CHECK@" in line:
            if audio_check_cache is not None:
                out.append(audio_check_snippet(media, audio_check_seconds))
            continue
        if "@LISTEN@" in line:
            line = f"    listen 127.0.0.1:{port};"
        elif "@APP@" in line:
            line = f"    server 127.0.0.1:{app_port};"
        elif "@MEDIA@" in line:
            line = f"        alias {media}/;"
        elif "@STATIC@" in line:
            line = f"        alias {static}/;"
        elif line.strip() == "listen 80;":
            line = f"    listen 127.0.0.1:{redirect_port};"
        out.append(line)
    return "\n".join(out)


def audio_check_snippet(media: Path, seconds: int = 30) -> str:
    """``nginx-oralhist-audio-check.conf`` with this test's media folder and cache time."""
    text = CHECK_SNIPPET.read_text()
    out = []
    for line in text.splitlines():
        if "@MEDIA_ROOT@" in line:
            line = f"    root {media};"
        elif "proxy_cache_valid 200" in line:
            line = f"    proxy_cache_valid 200 {seconds}s;"
        out.append(line)
    return "\n".join(out)


def _nginx_conf(work: Path, site: str) -> Path:
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / name).mkdir()
    (work / "site.conf").write_text(site)
    conf = work / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
"""
    )
    return conf


@pytest.fixture
def front(tmp_path):
    """(nginx port, project folder, a token of a registered user) with the sample loaded."""
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OH_")}
    env["OH_MEDIA_ACCEL"] = "nginx"
    run = lambda *args: subprocess.run(  # noqa: E731
        [*ORALHIST, *args], cwd=project, env=env, check=True, capture_output=True, text=True
    )
    run("init")
    run("load-sample")
    run("create-user", "reader@example.org", "--role", "researcher", "--password", "pw-123456789")
    token = run("create-token", "reader@example.org").stdout.strip().splitlines()[-1]
    app_port, port, redirect_port = _free_port(), _free_port(), _free_port()
    env["OH_TRUSTED_HOSTS"] = '["127.0.0.1", "localhost"]'
    serve = ["serve", "--port", str(app_port), "--workers", "1", "--threads", "4"]
    server = subprocess.Popen(
        [*ORALHIST, *serve, "--no-indexer"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = tmp_path / "nginx"
    work.mkdir()
    conf = _nginx_conf(work, site_for_test(port, redirect_port, app_port, project / "media"))
    nginx = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(app_port, server, "oralhist serve")
        _wait_for(port, nginx, "nginx")
        yield port, project, token
    finally:
        for process in (nginx, server):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if nginx.stderr:
            nginx.stderr.close()


def _db(project: Path) -> sqlite3.Connection:
    return sqlite3.connect(project / "instance" / "oralhist.sqlite3")


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_nginx_sends_the_bytes_after_the_app_checks_and_audits(front):
    port, project, token = front
    with _db(project) as db:
        rid, key, size, iid = db.execute(
            "SELECT r.id, r.storage_key, r.size, r.interview_id FROM recording r"
        ).fetchone()
    stored = next((project / "media").rglob(key)).read_bytes()
    assert len(stored) == size

    # Whole file, anonymous, open interview: nginx's answer, the app's headers.
    status, headers, body = _get(port, f"/recordings/{rid}/audio")
    assert status == 200
    assert body == stored
    assert headers["server"].startswith("nginx")
    assert "x-accel-redirect" not in headers
    assert headers["content-type"] == "audio/mpeg"
    assert headers["content-length"] == str(size)
    assert headers["accept-ranges"] == "bytes"

    # One Range: nginx answers it from the file.
    status, headers, body = _get(port, f"/recordings/{rid}/audio", {"Range": "bytes=1000-4999"})
    assert status == 206
    assert headers["content-range"] == f"bytes 1000-4999/{size}"
    assert body == stored[1000:5000]
    status, headers, body = _get(port, f"/recordings/{rid}/audio", {"Range": "bytes=-100"})
    assert (status, body) == (206, stored[-100:])
    # Several ranges: the whole file, as the app answers them (no multipart).
    status, _, body = _get(port, f"/recordings/{rid}/audio", {"Range": "bytes=0-9,20-29"})
    assert (status, body) == (200, stored)
    # Out of range: the app's 416, no bytes.
    status, headers, _ = _get(port, f"/recordings/{rid}/audio", {"Range": f"bytes={size + 10}-"})
    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"

    # The internal location is not reachable by a client.
    relative = next((project / "media").rglob(key)).relative_to(project / "media").as_posix()
    status, _, body = _get(port, f"/_media/{relative}")
    assert status == 404
    assert stored[:1000] not in body

    # A registered-only interview: refused to an anonymous listener, no bytes...
    with _db(project) as db:
        db.execute("UPDATE interview SET access_level = 'registered' WHERE id = ?", (iid,))
    status, _, body = _get(port, f"/recordings/{rid}/audio", {"Range": "bytes=0-999"})
    assert status in (302, 401, 403)  # the sign-in page, never the bytes
    assert stored[:1000] not in body
    with _db(project) as db:
        plays = db.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'recording.play'"
        ).fetchone()[0]
    assert plays == 0  # open interviews are not audited; nothing was sent since
    # ...and sent by nginx to a signed-in one, with the play in the audit log.
    auth = {"Authorization": f"Bearer {token}"}
    status, headers, body = _get(port, f"/recordings/{rid}/audio", {"Range": "bytes=0-999", **auth})
    assert (status, body) == (206, stored[:1000])
    assert headers["server"].startswith("nginx")
    with _db(project) as db:
        events = db.execute(
            "SELECT u.email, a.object_id FROM audit_event a JOIN user u ON u.id = a.user_id"
            " WHERE a.action = 'recording.play'"
        ).fetchall()
    assert [(email, int(object_id)) for email, object_id in events] == [("reader@example.org", rid)]
