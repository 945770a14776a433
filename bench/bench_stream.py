"""Streaming benchmark: ``GET /recordings/<id>/audio`` through gunicorn.

Uploads a generated WAV (256 MiB by default) to a temporary instance served by
``oralhist serve``, then measures (1) a full GET and (2) 1,000 random 64 KiB Range requests
on one keep-alive connection, each as a ratio of reading the same bytes from the stored file
in Python (goal >= 0.5). Stdlib only.

    python bench/bench_stream.py [--size-mib 256] [--ranges 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import time
from pathlib import Path

from bench_upload import MIB, RESULTS, Server, make_wav, multipart_upload

CHUNK = 64 * 1024


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

        def http_full() -> float:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
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

        rng = random.Random(1957)
        offsets = [rng.randrange(0, size - CHUNK) for _ in range(args.ranges)]

        def disk_ranges() -> float:
            start = time.perf_counter()
            with open(stored, "rb") as f:
                for offset in offsets:
                    f.seek(offset)
                    f.read(CHUNK)
            return time.perf_counter() - start

        def http_ranges() -> float:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
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

        disk_full(), http_full()  # warm the page cache and the workers
        full_disk = min(disk_full() for _ in range(3))
        full_http = min(http_full() for _ in range(3))
        ranges_disk = min(disk_ranges() for _ in range(3))
        ranges_http = http_ranges()
    finally:
        server.stop()
    result = {
        "file_bytes": size,
        "full_get_s": round(full_http, 3),
        "full_get_mb_s": round(size / 1e6 / full_http, 1),
        "full_disk_s": round(full_disk, 3),
        "full_disk_mb_s": round(size / 1e6 / full_disk, 1),
        "full_ratio": round(full_disk / full_http, 2),
        "ranges": args.ranges,
        "range_bytes": CHUNK,
        "ranges_http_s": round(ranges_http, 3),
        "ranges_http_per_s": round(args.ranges / ranges_http, 1),
        "ranges_disk_s": round(ranges_disk, 4),
        "ranges_ratio": round(ranges_disk / ranges_http, 3),
        "goal_ratio_ge": 0.5,
    }
    rows = [
        ("file", f"{size / MIB:.0f} MiB WAV (page cache warm)"),
        ("full GET via gunicorn", f"{result['full_get_s']} s ({result['full_get_mb_s']} MB/s)"),
        (
            "full read from disk (Python)",
            f"{result['full_disk_s']} s ({result['full_disk_mb_s']} MB/s)",
        ),
        ("full GET ratio", f"{result['full_ratio']} (goal >= 0.5)"),
        (
            f"{args.ranges} x 64 KiB Range via gunicorn",
            f"{result['ranges_http_s']} s ({result['ranges_http_per_s']} req/s)",
        ),
        (f"{args.ranges} x 64 KiB seek+read (Python)", f"{result['ranges_disk_s']} s"),
        ("range ratio", f"{result['ranges_ratio']} (goal >= 0.5)"),
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
