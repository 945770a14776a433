"""What the HTTP benchmarks share: a temporary project served by ``oralhist serve`` (gunicorn),
and /proc readings of its processes. Stdlib only (no psutil)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

OH = str(Path(sys.executable).with_name("oralhist"))
PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(field: str = "VmRSS", pid: int | str = "self") -> int:
    """A size from /proc/<pid>/status in KiB (``VmRSS`` now, ``VmHWM`` the peak); 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes(pid: int) -> int:
    return rss_kb("VmRSS", pid) * 1024


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def is_indexer(pid: int) -> bool:
    """True for the ``oralhist worker`` process."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"oralhist.cli" in argv and b"worker" in argv


def tree_of(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return out


class Project:
    """A temporary project folder (``instance/`` + ``media/``) driven through the ``oralhist``
    command as a user would, and served by ``oralhist serve`` on a free loopback port."""

    def __init__(self, prefix: str = "oh-bench-", keep: bool = False) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.keep = keep
        self.env = {**os.environ, "OH_INSTANCE_PATH": str(self.dir / "instance")}
        self.env.pop("OH_SQLALCHEMY_DATABASE_URI", None)
        self.server: subprocess.Popen | None = None
        self.port = 0

    def oh(self, *args: str) -> str:
        return subprocess.run(
            [OH, *args], cwd=self.dir, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def user(self, email: str, role: str) -> str:
        """Create a user; return an API token for them."""
        self.oh("create-user", email, "--role", role, "--password", PASSWORD)
        return self.oh("create-token", email).strip().splitlines()[-1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, workers: int = 2, threads: int = 8, timeout: float = 120) -> None:
        """Start ``oralhist serve``; return once it answers and every worker is up."""
        self.port = free_port()
        self.log = open(self.dir / "server.log", "w")  # noqa: SIM115
        command = [OH, "serve", "--port", str(self.port), "--workers", str(workers)]
        self.server = subprocess.Popen(
            [*command, "--threads", str(threads)],
            cwd=self.dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url("/api/v1/collections"), timeout=2) as r:
                    if r.status == 200 and len(self.workers()) >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start; see {self.dir / 'server.log'}")

    def workers(self) -> list[int]:
        """The gunicorn worker processes (not the background indexer ``serve`` starts)."""
        assert self.server is not None
        return sorted(p for p in children_of(self.server.pid) if not is_indexer(p))

    def indexer(self) -> int | None:
        """The background worker (``oralhist worker``) started by ``oralhist serve``."""
        assert self.server is not None
        return next((p for p in children_of(self.server.pid) if is_indexer(p)), None)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def bench_app(tmp: str | os.PathLike):
    """An app in this process on an empty archive in ``tmp`` (SQLite, media, index), for
    benchmarks that call services directly rather than through the server."""
    from oralhist import create_app
    from oralhist.extensions import db
    from oralhist.services import indexing

    instance = Path(tmp) / "instance"
    instance.mkdir()
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "OUTBOX_DIR": str(instance / "outbox"),
        },
        instance_path=str(instance),
    )
    with app.app_context():
        db.create_all()
        indexing.search_index().create()
    return app
