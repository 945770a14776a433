"""Range requests through nginx (``MEDIA_ACCEL = "nginx"``, X-Accel-Redirect), and through
nginx with the cached access check (``MEDIA_ACCEL_AUTH``, ``nginx-oralhist-audio-check.conf``),
against the same requests sent by gunicorn itself.

One project (``oralhist init``, the sample recording, plus a generated WAV of ``--size-mib``),
two ``oralhist serve`` on free ports (one with ``OH_MEDIA_ACCEL=nginx`` and
``OH_MEDIA_ACCEL_AUTH=true``, one without), and two of Debian's nginx in front of the first:
the site of ``docs/deploy/nginx-oralhist.conf`` as shipped (every request asks the app, which
answers with X-Accel-Redirect), and the same site with the audio check included (nginx asks
the app once per listener and cache time, then answers the Range requests itself).
For each path: ``--ranges`` random 64 KiB Range requests of an open recording, by
``--clients`` keep-alive connections at once (processes; one listener: same address, no
session), back to back; requests/s and p50/p95 latency. Every answer is checked (206 and the
right length).

    python bench/bench_accel.py [--ranges 2000] [--clients 4] [--size-mib 64]

Writes ``bench/results/accel.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _server import OH, free_port  # noqa: E402
from bench_upload import MIB, Server, make_wav, multipart_upload  # noqa: E402

from tests.test_accel_nginx import NGINX, _nginx_conf, site_for_test  # noqa: E402

CHUNK = 64 * 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def _client(port: int, path: str, size: int, n: int, seed: int) -> tuple[list[float], list[str]]:
    """One keep-alive connection sending ``n`` random Range requests: latencies and errors
    (counted, never raised)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    errors: list[str] = []
    try:
        for _ in range(n):
            start = rng.randrange(0, size - CHUNK)
            t = time.perf_counter()
            conn.request(
                "GET",
                path,
                headers={"Host": "127.0.0.1", "Range": f"bytes={start}-{start + CHUNK - 1}"},
            )
            response = conn.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - t)
            if response.status != 206 or len(body) != CHUNK:
                errors.append(f"{response.status} {len(body)}")
    finally:
        conn.close()
    return latencies, errors


def hammer(port: int, path: str, size: int, total: int, clients: int) -> dict:
    """``total`` random 64 KiB Range requests over ``clients`` keep-alive connections, each
    in its own process (so the Python client, not the server, is never the GIL-bound limit)."""
    per = total // clients
    with ProcessPoolExecutor(clients, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_noop, range(clients)))  # the processes exist before the clock starts
        t = time.perf_counter()
        futures = [pool.submit(_client, port, path, size, per, i) for i in range(clients)]
        done = [future.result() for future in futures]
        seconds = time.perf_counter() - t
    latencies = [x for lat, _ in done for x in lat]
    errors = [e for _, errs in done for e in errs]
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "requests_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "worst_ms": round(max(latencies) * 1000, 2),
    }


def _noop(_: int) -> None:
    return None


def _served_size(port: int, path: str) -> int:
    """The size of the file ``path`` sends (its Content-Range total)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", "Range": "bytes=0-0"})
        response = conn.getresponse()
        response.read()
        return int(response.getheader("Content-Range").rsplit("/", 1)[1])
    finally:
        conn.close()


def _start_nginx(conf: Path, work: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_206(port: int, path: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Host": "127.0.0.1", "Range": "bytes=0-9"})
            if conn.getresponse().status == 206:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nginx on port {port} did not answer {path} with 206")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranges", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--size-mib", type=int, default=64)
    args = parser.parse_args()
    if NGINX is None:
        print("nginx is not installed (Debian: apt install nginx-light)")
        return 1

    plain = Server()
    work = Path(tempfile.mkdtemp(prefix="oh-bench-nginx-"))
    accel = None
    nginx = None
    nginx_check = None
    try:
        plain.start()
        interview = plain.api(
            "POST", "/api/v1/interviews", {"title": "Range bench", "access_level": "open"}
        )
        wav = work / "bench.wav"
        make_wav(wav, args.size_mib * MIB)
        status, body, _ = multipart_upload(plain, interview["id"], wav)
        assert status == 201, body[:300]
        recording = json.loads(body)
        # a generated recording: no release agreement to record, so the archivist's reason
        plain.api(
            "POST",
            f"/api/v1/interviews/{interview['id']}/publish",
            {"consent_override": "Synthetic audio for the Range benchmark."},
        )
        path = f"/recordings/{recording['id']}/audio"
        # The player streams the access copy once the worker has made it: measure on the file
        # every path sends (else the X-Accel path and a cached check could differ for a while).
        deadline = time.time() + 600
        while time.time() < deadline:
            if plain.api("GET", f"/api/v1/recordings/{recording['id']}").get("access_copy"):
                break
            time.sleep(1)
        size = _served_size(plain.port, path)

        # The same project served a second time, handing the bytes to nginx.
        accel_port, nginx_port = free_port(), free_port()
        env = {**plain.env, "OH_MEDIA_ACCEL": "nginx", "OH_MEDIA_ACCEL_AUTH": "true"}
        accel = subprocess.Popen(
            [OH, "serve", "--port", str(accel_port), "--workers", "2", "--no-indexer"],
            cwd=plain.dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        plain_work, check_work = work / "x-accel", work / "check"
        plain_work.mkdir()
        check_work.mkdir()
        (check_work / "audio-cache").mkdir()
        conf = _nginx_conf(
            plain_work, site_for_test(nginx_port, free_port(), accel_port, plain.dir / "media")
        )
        nginx = _start_nginx(conf, plain_work)
        check_port = free_port()
        site = site_for_test(
            check_port,
            free_port(),
            accel_port,
            plain.dir / "media",
            audio_check_cache=check_work / "audio-cache",
        )
        nginx_check = _start_nginx(_nginx_conf(check_work, site), check_work)
        for port in (nginx_port, check_port):
            _wait_for_206(port, path)
        hammer(plain.port, path, size, 50, 1)  # warm all three
        hammer(nginx_port, path, size, 50, 1)
        hammer(check_port, path, size, 50, 1)
        gunicorn = hammer(plain.port, path, size, args.ranges, args.clients)
        through_nginx = hammer(nginx_port, path, size, args.ranges, args.clients)
        checked = hammer(check_port, path, size, args.ranges, args.clients)
        result = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "file_mib": args.size_mib,
            "served_bytes": size,
            "range_bytes": CHUNK,
            "clients": args.clients,
            "gunicorn": gunicorn,
            "nginx_x_accel_redirect": through_nginx,
            "requests_per_second_ratio": round(
                through_nginx["requests_per_second"] / gunicorn["requests_per_second"], 2
            ),
            "nginx_cached_check": checked,
            "cached_check_ratio": round(
                checked["requests_per_second"] / gunicorn["requests_per_second"], 2
            ),
            "load_average_after": os.getloadavg()[0],
        }
        out = HERE / "results" / "accel.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"{'path':<28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
        for label, r in (
            ("gunicorn (the app sends)", gunicorn),
            ("nginx X-Accel", through_nginx),
            ("nginx cached check", checked),
        ):
            print(
                f"{label:<28} {r['requests_per_second']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8}"
                f" {r['errors']:>7}"
            )
        print(
            f"ratio X-Accel {result['requests_per_second_ratio']}x, cached check"
            f" {result['cached_check_ratio']}x; load average {result['load_average']:.1f}"
            f" -> {result['load_average_after']:.1f}; written to {out}"
        )
    finally:
        for process in (nginx_check, nginx, accel):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        plain.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
