"""Streaming benchmark: ``GET /recordings/<id>/audio`` through gunicorn.

Uploads a generated WAV (256 MiB by default) to a temporary instance served by
``oralhist serve``, then measures (1) a full GET and (2) 1,000 random 64 KiB Range requests
on one keep-alive connection, each as a ratio of reading the same bytes from the stored file
in Python (goal >= 0.5). Both are timed twice: with the file in the page cache (warm), and
read from the disk itself (cold: the file's pages are dropped with ``posix_fadvise(DONTNEED)``
before each timed run, for the server and for the Python read alike).

Also timed, as a floor, with the same client: a bare HTTP responder in another process that
does the least any server must (reads the request head, parses ``Range``, answers with
``os.sendfile``; no routing, no authentication, no access check). The ratio to it shows what
the archive's stack costs; the ratio to the disk read shows what HTTP over loopback costs.
Stdlib only.

    python bench/bench_stream.py [--size-mib 256] [--ranges 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench_upload import MIB, RESULTS, Server, make_wav, multipart_upload

CHUNK = 64 * 1024

# The floor: answers GET (whole file, or one "Range: bytes=a-b") on keep-alive connections.
FLOOR_SERVER = r"""
import os, re, socket, sys
path = sys.argv[1]
size = os.path.getsize(path)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
fd = os.open(path, os.O_RDONLY)
while True:
    conn, _ = listener.accept()
    pending = b""
    while True:
        while b"\r\n\r\n" not in pending:
            data = conn.recv(65536)
            if not data:
                break
            pending += data
        if b"\r\n\r\n" not in pending:
            break
        head, pending = pending.split(b"\r\n\r\n", 1)
        match = re.search(rb"\r\nRange: bytes=(\d+)-(\d+)", head, re.I)
        if match:
            start, end = int(match[1]), int(match[2])
            status = b"206 Partial Content"
            extra = b"Content-Range: bytes %d-%d/%d\r\n" % (start, end, size)
        else:
            start, end, status, extra = 0, size - 1, b"200 OK", b""
        count = end - start + 1
        conn.sendall(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n" % (status, count, extra))
        while count:
            sent = os.sendfile(conn.fileno(), fd, start, count)
            start, count = start + sent, count - sent
    conn.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--ranges", type=int, default=1000)
    args = parser.parse_args()
    size = args.size_mib * MIB
    server = Server().start()
    try:
        wav = server.dir / "bench.wav"
        make_wav(wav, size)
        interview = server.api("POST", "/api/v1/interviews", {"title": "Stream bench"})
        status, body, _ = multipart_upload(server, interview["id"], wav)
        assert status == 201, body[:300]
        recording = json.loads(body)
        stored = server.dir / "media" / recording["sha256"][:2] / recording["sha256"][2:4]
        stored = stored / recording["sha256"]
        wav.unlink()
        path = f"/recordings/{recording['id']}/audio"
        auth = {"Authorization": f"Bearer {server.token}"}

        def disk_full() -> float:
            start = time.perf_counter()
            with open(stored, "rb") as f:
                while f.read(MIB):
                    pass
            return time.perf_counter() - start

        def http_full(port: int = server.port) -> float:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            start = time.perf_counter()
            conn.request("GET", path, headers=auth)
            response = conn.getresponse()
            got = 0
            while chunk := response.read(MIB):
                got += len(chunk)
            elapsed = time.perf_counter() - start
            conn.close()
            assert response.status == 200 and got == size, (response.status, got)
            return elapsed

        def cold(measure) -> float:
            """``measure()`` with the stored file's pages dropped from the page cache first."""
            fd = os.open(stored, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            return measure()

        rng = random.Random(1957)
        offsets = [rng.randrange(0, size - CHUNK) for _ in range(args.ranges)]

        def disk_ranges() -> float:
            start = time.perf_counter()
            with open(stored, "rb") as f:
                for offset in offsets:
                    f.seek(offset)
                    f.read(CHUNK)
            return time.perf_counter() - start

        def http_ranges(port: int = server.port) -> float:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            start = time.perf_counter()
            for offset in offsets:
                conn.request(
                    "GET", path, headers={**auth, "Range": f"bytes={offset}-{offset + CHUNK - 1}"}
                )
                response = conn.getresponse()
                data = response.read()
                assert response.status == 206 and len(data) == CHUNK
            elapsed = time.perf_counter() - start
            conn.close()
            return elapsed

        floor = subprocess.Popen(
            [sys.executable, "-c", FLOOR_SERVER, str(stored)], stdout=subprocess.PIPE, text=True
        )
        try:
            floor_port = int(floor.stdout.readline())
            disk_full(), http_full()  # warm the page cache and the workers
            full_disk = min(disk_full() for _ in range(3))
            full_http = min(http_full() for _ in range(3))
            full_floor = min(http_full(floor_port) for _ in range(3))
            ranges_disk = min(disk_ranges() for _ in range(3))
            ranges_http = http_ranges()
            ranges_floor = http_ranges(floor_port)
            cold_full_disk = min(cold(disk_full) for _ in range(3))
            cold_full_http = min(cold(http_full) for _ in range(3))
            cold_ranges_disk = min(cold(disk_ranges) for _ in range(3))
            cold_ranges_http = cold(http_ranges)
        finally:
            floor.kill()
            floor.wait()
    finally:
        server.stop()
    result = {
        "file_bytes": size,
        "full_get_s": round(full_http, 3),
        "full_get_mb_s": round(size / 1e6 / full_http, 1),
        "full_disk_s": round(full_disk, 3),
        "full_disk_mb_s": round(size / 1e6 / full_disk, 1),
        "full_ratio": round(full_disk / full_http, 2),
        "full_floor_s": round(full_floor, 3),
        "full_ratio_vs_floor": round(full_floor / full_http, 2),
        "ranges": args.ranges,
        "range_bytes": CHUNK,
        "ranges_http_s": round(ranges_http, 3),
        "ranges_http_per_s": round(args.ranges / ranges_http, 1),
        "ranges_disk_s": round(ranges_disk, 4),
        "ranges_ratio": round(ranges_disk / ranges_http, 3),
        "ranges_floor_s": round(ranges_floor, 3),
        "ranges_ratio_vs_floor": round(ranges_floor / ranges_http, 3),
        "cold_full_get_s": round(cold_full_http, 3),
        "cold_full_disk_s": round(cold_full_disk, 3),
        "cold_full_ratio": round(cold_full_disk / cold_full_http, 2),
        "cold_ranges_http_s": round(cold_ranges_http, 3),
        "cold_ranges_disk_s": round(cold_ranges_disk, 3),
        "cold_ranges_ratio": round(cold_ranges_disk / cold_ranges_http, 3),
        "goal_ratio_ge": 0.5,
    }
    rows = [
        ("file", f"{size / MIB:.0f} MiB WAV; page cache warm, then cold"),
        ("full GET via gunicorn", f"{result['full_get_s']} s ({result['full_get_mb_s']} MB/s)"),
        (
            "full read from disk (Python)",
            f"{result['full_disk_s']} s ({result['full_disk_mb_s']} MB/s)",
        ),
        ("full GET, bare sendfile responder (floor)", f"{result['full_floor_s']} s"),
        (
            "full GET ratio vs disk / vs floor",
            f"{result['full_ratio']} (goal >= 0.5) / {result['full_ratio_vs_floor']}",
        ),
        (
            f"{args.ranges} x 64 KiB Range via gunicorn",
            f"{result['ranges_http_s']} s ({result['ranges_http_per_s']} req/s)",
        ),
        (f"{args.ranges} x 64 KiB seek+read (Python)", f"{result['ranges_disk_s']} s"),
        (f"{args.ranges} x 64 KiB Range, bare responder (floor)", f"{result['ranges_floor_s']} s"),
        (
            "range ratio vs disk / vs floor",
            f"{result['ranges_ratio']} (goal >= 0.5) / {result['ranges_ratio_vs_floor']}",
        ),
        (
            "cold: full GET / full read from disk",
            f"{result['cold_full_get_s']} s / {result['cold_full_disk_s']} s "
            f"(ratio {result['cold_full_ratio']})",
        ),
        (
            f"cold: {args.ranges} Range GETs / seek+reads",
            f"{result['cold_ranges_http_s']} s / {result['cold_ranges_disk_s']} s "
            f"(ratio {result['cold_ranges_ratio']})",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {RESULTS / 'stream.json'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
