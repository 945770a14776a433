"""nginx answering the player's repeated Range requests itself (``MEDIA_ACCEL_AUTH``):
Debian's nginx with ``docs/deploy/nginx-oralhist.conf`` and its optional
``nginx-oralhist-audio-check.conf`` (the access check by ``auth_request``, its answer cached
per listener) in front of a real gunicorn, on free ports.

Checked: full and Range requests sent by nginx from the file; refusals answered by the app;
the play audited once per listening session; a listener's repeated requests answered with the
app stopped (nginx alone); a revocation taking effect within the stated cache time; a
listen-only grant's Range still capped by the app. Skipped where nginx is not installed
(``.ci/run`` installs ``nginx-light``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_accel_nginx import (
    NGINX,
    ORALHIST,
    _db,
    _free_port,
    _get,
    _nginx_conf,
    _wait_for,
    pytestmark,  # noqa: F401 (skips without nginx or on Windows)
    site_for_test,
)

#: How long nginx keeps the check's answer in the revocation test (the shipped site: 30 s,
#: which the other tests keep, so no cached answer expires while they run).
CACHE_SECONDS = 2
#: A listen-only grant's Range cap in this test (OH_LISTEN_ONLY_RANGE_BYTES).
CAP = 1000


def _front_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OH_")}
    env.update(
        OH_MEDIA_ACCEL="nginx",
        OH_MEDIA_ACCEL_AUTH="true",
        OH_LISTEN_ONLY_RANGE_BYTES=str(CAP),
    )
    return env


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """(a project folder with the sample and two readers, their tokens by email), made once
    for the module by the commands an archivist runs; each test serves a copy of its own."""
    project = tmp_path_factory.mktemp("accel-project") / "project"
    project.mkdir()
    env = _front_env()

    def run(*args: str) -> str:
        done = subprocess.run(
            [*ORALHIST, *args], cwd=project, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("init")
    run("load-sample")
    tokens = {}
    for email in ("reader@example.org", "listener@example.org"):
        run("create-user", email, "--role", "researcher", "--password", "pw-123456789")
        tokens[email] = run("create-token", email).strip().splitlines()[-1]
    return project, tokens


@pytest.fixture
def front(tmp_path, request, prepared):
    """(nginx port, project folder, tokens by email, the gunicorn process) with the sample;
    nginx keeps the check's answers ``request.param`` seconds (indirect; default 30)."""
    assert NGINX is not None
    template, tokens = prepared
    project = tmp_path / "project"
    shutil.copytree(template, project)
    env = _front_env()
    app_port, port, redirect_port = _free_port(), _free_port(), _free_port()
    env["OH_TRUSTED_HOSTS"] = '["127.0.0.1", "localhost"]'
    serve = ["serve", "--port", str(app_port), "--workers", "1", "--threads", "4"]
    server = subprocess.Popen(
        [*ORALHIST, *serve, "--no-indexer"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the test stops gunicorn's workers too
    )
    work = tmp_path / "nginx"
    work.mkdir()
    (work / "audio-cache").mkdir()
    site = site_for_test(
        port,
        redirect_port,
        app_port,
        project / "media",
        audio_check_cache=work / "audio-cache",
        audio_check_seconds=getattr(request, "param", 30),
    )
    assert "auth_request /_oh_media_check;" in site
    conf = _nginx_conf(work, site)
    nginx = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(app_port, server, "oralhist serve")
        _wait_for(port, nginx, "nginx")
        yield port, project, tokens, server
    finally:
        for process in (nginx, server):
            if process is server:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGTERM)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _recording(project: Path) -> tuple[int, bytes, int]:
    with _db(project) as db:
        rid, key, iid = db.execute(
            "SELECT r.id, r.storage_key, r.interview_id FROM recording r"
        ).fetchone()
    return rid, next((project / "media").rglob(key)).read_bytes(), iid


def _plays(project: Path) -> list[tuple[str, int]]:
    with _db(project) as db:
        rows = db.execute(
            "SELECT u.email, a.object_id FROM audit_event a JOIN user u ON u.id = a.user_id"
            " WHERE a.action = 'recording.play' ORDER BY a.id"
        ).fetchall()
    return [(email, int(object_id)) for email, object_id in rows]


def _set_level(project: Path, iid: int, level: str) -> None:
    with _db(project) as db:
        db.execute("UPDATE interview SET access_level = ? WHERE id = ?", (level, iid))


def test_nginx_answers_repeated_ranges_itself_after_one_check(front):
    port, project, tokens, server = front
    rid, stored, iid = _recording(project)
    url = f"/recordings/{rid}/audio"
    size = len(stored)

    # Whole file and Range requests of an open recording: sent by nginx from the file.
    status, headers, body = _get(port, url)
    assert (status, body) == (200, stored)
    assert headers["content-type"] == "audio/mpeg"
    assert headers["content-length"] == str(size)
    assert headers["x-content-type-options"] == "nosniff"
    assert "x-oh-file" not in headers and "x-accel-redirect" not in headers
    status, headers, body = _get(port, url, {"Range": "bytes=1000-4999"})
    assert (status, body) == (206, stored[1000:5000])
    assert headers["content-range"] == f"bytes 1000-4999/{size}"
    assert (_get(port, url, {"Range": "bytes=-100"})[0::2]) == (206, stored[-100:])
    # Several ranges: the whole file, as the app answers them; out of range: the app's 416.
    assert _get(port, url, {"Range": "bytes=0-9,20-29"})[0::2] == (200, stored)
    status, headers, _ = _get(port, url, {"Range": f"bytes={size + 10}-", "User-Agent": "x"})
    assert (status, headers["content-range"]) == (416, f"bytes */{size}")
    # The check is not reachable by clients.
    status, _, body = _get(port, "/_oh/media-check", {"X-Original-URI": url})
    assert status == 404 and b"X-Oh-File" not in body

    # A registered-only interview: refused to an anonymous client the app has not seen...
    _set_level(project, iid, "registered")
    status, _, body = _get(port, url, {"Range": "bytes=0-999", "User-Agent": "another/1"})
    assert status in (302, 401, 403)
    assert stored[:1000] not in body
    # ...sent to a signed-in one, the play audited once for all its Range requests.
    auth = {"Authorization": f"Bearer {tokens['reader@example.org']}"}
    for start in (0, 5000, 100, 20000, 0):
        status, headers, body = _get(port, url, {"Range": f"bytes={start}-{start + 999}", **auth})
        assert (status, body) == (206, stored[start : start + 1000])
        assert headers["server"].startswith("nginx")
    assert _plays(project) == [("reader@example.org", rid)]

    # With the app stopped, that listener's next Range requests are answered by nginx alone...
    os.killpg(server.pid, signal.SIGKILL)  # `oralhist serve`, gunicorn and its workers
    server.wait(timeout=30)
    status, _, body = _get(port, url, {"Range": "bytes=3000-3999", **auth})
    assert (status, body) == (206, stored[3000:4000])
    # ...while a listener nginx has no answer for cannot be served without the app.
    other = {"Authorization": f"Bearer {tokens['listener@example.org']}"}
    status, _, body = _get(port, url, {"Range": "bytes=3000-3999", **other})
    assert status >= 500 and stored[3000:4000] not in body


@pytest.mark.parametrize("front", [CACHE_SECONDS], indirect=True)
def test_revocation_takes_effect_within_the_cache_time(front):
    port, project, tokens, _ = front
    rid, stored, iid = _recording(project)
    url = f"/recordings/{rid}/audio"
    _set_level(project, iid, "registered")
    auth = {"Authorization": f"Bearer {tokens['reader@example.org']}", "Range": "bytes=0-999"}
    assert _get(port, url, auth)[0::2] == (206, stored[:1000])
    # Restricted with no grant for this reader: the cached answer may hold for CACHE_SECONDS,
    # never longer (the shipped site: 30 s, docs/deploy/README.md).
    _set_level(project, iid, "restricted")
    time.sleep(CACHE_SECONDS + 1)
    status, _, body = _get(port, url, auth)
    assert status == 403
    assert stored[:1000] not in body
    assert _plays(project) == [("reader@example.org", rid)]


def test_a_listen_only_grant_is_capped_by_the_app(front):
    port, project, tokens, _ = front
    rid, stored, iid = _recording(project)
    url = f"/recordings/{rid}/audio"
    _set_level(project, iid, "restricted")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with _db(project) as db:
        (uid,) = db.execute("SELECT id FROM user WHERE email = 'listener@example.org'").fetchone()
        db.execute(
            "INSERT INTO access_request (requester_id, interview_id, purpose, intended_use,"
            " agreed_terms, status, scope, created_at, decision_note)"
            " VALUES (?, ?, 'research', 'research', 1, 'approved', 'listen', ?, '')",
            (uid, iid, now),
        )
    auth = {"Authorization": f"Bearer {tokens['listener@example.org']}"}
    for _ in range(3):  # again and again: every answer is the app's, cut to the cap
        status, headers, body = _get(port, url, {"Range": "bytes=0-", **auth})
        assert status == 206
        assert body == stored[:CAP]
        assert headers["content-range"] == f"bytes 0-{CAP - 1}/{len(stored)}"
    # No whole file, from nginx or the app.
    status, _, body = _get(port, url, auth)
    assert status == 403 and stored[:CAP] not in body
    assert _plays(project) == [("listener@example.org", rid)]
