"""Upload benchmark: a 1 GiB generated WAV through the real HTTP stack (gunicorn).

Starts ``oralhist serve`` on a free loopback port with a temporary instance, generates the WAV
on disk, streams it to ``POST /api/v1/interviews/<id>/recordings`` with http.client (the
multipart body written in 1 MiB chunks from the file), and samples the RSS of the gunicorn
worker processes from /proc every 20 ms during the uploads.

Reports peak worker RSS above its idle size (goal < 100 MB) and upload throughput as a ratio
of ``cp`` of the same file on the same disk (goal >= 0.5), with and without an fsync (the
archive fsyncs every stored file before it answers). Also timed, as a floor: the least any
Python server must do with the same bytes (a bare socket receiver in another process:
``recv_into``, sha256, write, fsync; no HTTP, no multipart).

Fairness: on a small VM one run's time depends on what ran before it (dirty pages still being
written back, and pages the kernel must newly obtain from the hypervisor: the first GiB
written into fresh memory costs several times the next). So the operations are interleaved,
in a rotating order, each after an ``os.sync()``, and the median of each is reported.
Stdlib only (no psutil).

    python bench/bench_upload.py [--size-mib 1024] [--runs 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from _server import Project, rss_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
MIB = 1024 * 1024


# -- a server on a temporary instance ------------------------------------------------------


class Server(Project):
    """``oralhist serve`` (gunicorn) on a temporary project folder, with an archivist token."""

    def __init__(self, workers: int = 2, threads: int = 8) -> None:
        super().__init__()
        self.n_workers, self.threads = workers, threads
        self.token = ""

    def start(self) -> Server:
        self.oh("init")
        self.token = self.user("bench@example.org", "archivist")
        self.serve(self.n_workers, self.threads, timeout=30)
        return self

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url(path),
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")


# -- a big WAV -----------------------------------------------------------------------------


def make_wav(path: Path, size: int) -> None:
    """A valid PCM WAV (48 kHz, 24-bit stereo header) of ``size`` bytes of noise-like data."""
    import struct

    data_size = size - 44
    header = b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 48000 * 6, 6, 24)
    header += b"data" + struct.pack("<I", data_size)
    block = os.urandom(MIB)
    with path.open("wb") as out:
        out.write(header)
        left = data_size
        while left:
            n = min(left, MIB)
            out.write(block[:n])
            left -= n


def multipart_upload(server: Server, interview_id: int, path: Path) -> tuple[int, bytes, float]:
    boundary = "oh-bench-" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="label"\r\n\r\nbench\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="master.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    start = time.perf_counter()
    conn.putrequest("POST", f"/api/v1/interviews/{interview_id}/recordings")
    conn.putheader("Authorization", f"Bearer {server.token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    conn.send(head)
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, body, elapsed


def time_cp(source: Path, target: Path, *, fsync: bool) -> float:
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    if fsync:
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


# The floor: a bare receiver (another process) doing only what storing an upload must do.
FLOOR_SERVER = """
import hashlib, os, socket, sys
target = sys.argv[1]
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    while n := conn.recv_into(buffer):
        digest.update(view[:n])
        os.write(fd, view[:n])
    os.fsync(fd)
    os.close(fd)
    os.unlink(target)
    conn.sendall(digest.hexdigest().encode())
    conn.close()
"""


class Floor:
    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", FLOOR_SERVER, str(folder / "floor.bin")],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def send(self, path: Path) -> float:
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", self.port)) as conn, path.open("rb") as f:
            while chunk := f.read(MIB):
                conn.sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
            assert len(conn.recv(64)) == 64
        return time.perf_counter() - start

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--runs", type=int, default=5, help="rounds of (upload, cp, cp+fsync, floor); medians"
    )
    args = parser.parse_args()
    size = args.size_mib * MIB
    server = Server().start()
    floor = None
    try:
        wav = server.dir / "bench.wav"
        make_wav(wav, size)
        floor = Floor(server.dir)
        interview = server.api("POST", "/api/v1/interviews", {"title": "Upload bench"})
        time.sleep(0.5)
        workers = server.workers()
        idle = {pid: rss_bytes(pid) for pid in workers}
        peak = dict(idle)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for pid in workers:
                    peak[pid] = max(peak[pid], rss_bytes(pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        uploaded: list[tuple[int, bytes]] = []

        def upload() -> float:
            status, body, seconds = multipart_upload(server, interview["id"], wav)
            uploaded.append((status, body))
            if status != 201:
                raise RuntimeError(f"upload failed: {status} {body[:300]!r}")
            return seconds

        # Repeats store the same bytes (deduplicated at the end), taking the same path: temp
        # file, hash, fsync, probe.
        operations = {
            "upload": upload,
            "cp": lambda: time_cp(wav, server.dir / "copy.wav", fsync=False),
            "cp_fsync": lambda: time_cp(wav, server.dir / "copy.wav", fsync=True),
            "floor": lambda: floor.send(wav),
        }
        times: dict[str, list[float]] = {name: [] for name in operations}
        names = list(operations)
        try:
            for turn in range(max(1, args.runs)):
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    os.sync()
                    times[name].append(operations[name]())
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            stop.set()
            sampler.join()
        recording = json.loads(uploaded[-1][1])
        upload_s, cp_s = median(times["upload"]), median(times["cp"])
        cp_sync_s, floor_s = median(times["cp_fsync"]), median(times["floor"])
        growth = max(peak[pid] - idle[pid] for pid in workers)
        result = {
            "file_bytes": size,
            "workers": len(workers),
            "idle_rss_mb": {str(p): round(idle[p] / 1e6, 1) for p in workers},
            "peak_rss_mb": {str(p): round(peak[p] / 1e6, 1) for p in workers},
            "peak_rss_above_idle_mb": round(growth / 1e6, 1),
            "upload_s": round(upload_s, 2),
            "upload_mb_s": round(size / 1e6 / upload_s, 1),
            "cp_s": round(cp_s, 2),
            "cp_fsync_s": round(cp_sync_s, 2),
            "floor_s": round(floor_s, 2),
            "runs_s": {name: [round(t, 2) for t in values] for name, values in times.items()},
            "ratio_vs_cp": round(cp_s / upload_s, 2),
            "ratio_vs_cp_fsync": round(cp_sync_s / upload_s, 2),
            "ratio_vs_floor": round(floor_s / upload_s, 2),
            "recording_duration_ms": recording["duration_ms"],
            "goals": {"rss_above_idle_mb_lt": 100, "ratio_vs_cp_ge": 0.5},
        }
    finally:
        if floor is not None:
            floor.stop()
        server.stop()
    rows = [
        ("file", f"{size / MIB:.0f} MiB WAV"),
        (
            "worker RSS idle -> peak (max growth)",
            f"{max(result['idle_rss_mb'].values())} -> {max(result['peak_rss_mb'].values())} MB "
            f"(+{result['peak_rss_above_idle_mb']} MB; goal < 100)",
        ),
        (
            "upload through gunicorn (median)",
            f"{result['upload_s']} s ({result['upload_mb_s']} MB/s)",
        ),
        ("cp same file / cp + fsync", f"{result['cp_s']} s / {result['cp_fsync_s']} s"),
        ("floor (bare socket, sha256, write, fsync)", f"{result['floor_s']} s"),
        *((f"  runs: {name}", str(values)) for name, values in result["runs_s"].items()),
        (
            "upload throughput vs cp / cp+fsync / floor",
            f"{result['ratio_vs_cp']} / {result['ratio_vs_cp_fsync']} / "
            f"{result['ratio_vs_floor']} (goal >= 0.5 of cp)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "upload.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {RESULTS / 'upload.json'}")
    ok = result["peak_rss_above_idle_mb"] < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
