"""Object-store uploads: ``--size-mib`` (1 GiB by default) streamed into ``S3Storage`` (moto's
S3-compatible server, in another process) and into ``LocalStorage``, from a generator (no
file read): the uploading process's peak RSS above its idle RSS, and MiB/s for each.

moto keeps objects in its own memory and runs in Python: its throughput is a floor for a
real store (MinIO, Ceph, AWS), not a measure of one; what this bench guards is that the
archive's side streams (memory flat whatever the size) and hashes on the way.

    python bench/bench_s3.py [--size-mib 1024]

Writes ``bench/results/s3.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _server import free_port, rss_kb  # noqa: E402

from oralhist.media.s3 import S3Storage  # noqa: E402
from oralhist.media.storage import LocalStorage  # noqa: E402

MIB = 1024 * 1024
BLOCK = os.urandom(MIB)  # the same bytes for both storages: the same key


class Source:
    """``size`` bytes of noise, generated as read (1 MiB block repeated with a counter)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytearray(BLOCK)
        self.n = 0

    def read(self, n: int = -1) -> bytes:
        n = min(self.left if n < 0 else n, self.left, MIB)
        if n <= 0:
            return b""
        self.n += 1
        self.block[:8] = self.n.to_bytes(8, "little")
        self.left -= n
        return bytes(self.block[:n])


def measure(storage, size: int) -> dict:
    idle = rss_kb()
    peak = idle
    stop = False

    def sample() -> None:
        nonlocal peak
        while not stop:
            peak = max(peak, rss_kb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t = time.perf_counter()
    stored = storage.save_stream(Source(size))
    seconds = time.perf_counter() - t
    stop = True
    sampler.join()
    return {
        "seconds": round(seconds, 2),
        "mib_per_second": round(size / MIB / seconds, 1),
        "rss_idle_mb": round(idle / 1024, 1),
        "rss_peak_above_idle_mb": round((peak - idle) / 1024, 1),
        "key": stored.key,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * MIB
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = Path(tempfile.mkdtemp(prefix="oh-bench-s3-"))
    try:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            # moto assembles a completed upload in Python: minutes for 1 GiB on a busy machine
            config=Config(read_timeout=1800, retries={"mode": "standard"}),
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        for _ in range(100):
            try:
                client.create_bucket(Bucket="oralhist-bench")
                break
            except Exception:  # the server is still starting
                time.sleep(0.2)
        local = measure(LocalStorage(work / "media"), size)
        s3 = measure(S3Storage("oralhist-bench", client=client), size)
        assert local["key"] == s3["key"]
        result = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "size_mib": args.size_mib,
            "local": local,
            "s3_moto": s3,
        }
        out = HERE / "results" / "s3.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"{'storage':<10} {'MiB/s':>8} {'peak RSS above idle (MB)':>26}")
        for label, r in (("local", local), ("s3 (moto)", s3)):
            print(f"{label:<10} {r['mib_per_second']:>8} {r['rss_peak_above_idle_mb']:>26}")
        print(f"written to {out}")
    finally:
        moto.terminate()
        moto.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
