"""Redaction benchmark: (1) the two silenced copies of a 100-minute WAV master with 5
redacted ranges, as their derivative jobs make them (``media/recipes.py``): the download
copy in the master's format (``redacted-master``: ``media.redact.silence_wav``) and the
listening copy (``redacted-access``: the MP3 access copy with the ranges silenced): wall
and CPU time, throughput against real time, and peak RSS of a child process doing only
that, against the same child's RSS before it starts (memory must not grow with the file);
(2) the interview
page and search latency for an anonymous reader without, with, and again without 5
redactions on a 2,000-segment,
100-minute transcript (median and p95 of N requests each).

    python bench/bench_redaction.py [--minutes 100] [--rate 44100] [--channels 2] [--requests 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results"
RANGES = [
    (600_000, 612_000),
    (1_800_000, 1_830_500),
    (2_400_000, 2_401_000),
    (4_000_000, 4_060_000),
    (5_990_000, 5_999_000),
]


def make_master(path: Path, minutes: int, rate: int, channels: int) -> None:
    """A WAV of pseudo-random 16-bit noise (incompressible, like speech on tape), written in
    blocks."""
    frames = minutes * 60 * rate
    block = os.urandom(rate * channels * 2)  # one second, reused: the content does not matter
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.setnframes(frames)
        for _ in range(minutes * 60):
            w.writeframesraw(block)


CHILD = """
import resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {root!r})
from oralhist.media import derivatives, recipes  # noqa: F401 (registers the recipes)
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu = time.perf_counter(), time.process_time()
with tempfile.TemporaryDirectory(dir={tmp!r}) as work:
    made = derivatives.RECIPES[{kind!r}].make(derivatives.Making(
        recording_id=0, source=Path({src!r}), name="master.wav", duration_ms={duration_ms},
        params={{"spans": {ranges!r}, "fill_hz": 0}}, workdir=Path(work)))
    size = made.path.stat().st_size
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # an MP3's second process
    print(time.perf_counter() - start,
          time.process_time() - cpu + kids.ru_utime + kids.ru_stime, idle,
          max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, kids.ru_maxrss), size,
          made.duration_ms)
"""


def audio_figures(minutes: int, rate: int, channels: int) -> dict:
    with tempfile.TemporaryDirectory(dir=HERE.parent) as tmp:
        src = Path(tmp) / "master.wav"
        make_master(src, minutes, rate, channels)
        size = src.stat().st_size
        figures: dict = {"master_minutes": minutes, "master_bytes": size, "ranges": len(RANGES)}
        for kind in ("redacted-master", "redacted-access"):
            code = CHILD.format(
                root=str(HERE.parent),
                tmp=tmp,
                src=str(src),
                kind=kind,
                duration_ms=minutes * 60_000,
                ranges=[list(r) for r in RANGES],
            )
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout.split()
            # CPU counts both processes of a split MP3; the peak is the larger of the two
            seconds, cpu, idle_kb, peak_kb = float(out[0]), float(out[1]), int(out[2]), int(out[3])
            made_bytes, made_ms = int(out[4]), int(out[5])
            assert made_ms == minutes * 60_000, (kind, made_ms)
            if kind == "redacted-master":
                assert made_bytes == size
            figures[kind] = {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "x_real_time": round(minutes * 60 / seconds, 1),
                "x_real_time_cpu": round(minutes * 60 / max(cpu, 1e-3), 1),
                "mb_per_s": round(size / seconds / 1e6, 1),
                "bytes": made_bytes,
                "child_rss_before_mb": round(idle_kb / 1024, 1),
                "child_rss_peak_mb": round(peak_kb / 1024, 1),
            }
            print(kind, figures[kind], flush=True)
        return figures


def latency(client, url: str, n: int) -> dict:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(n - 1, round(0.95 * (n - 1)))], 1),
    }


def page_figures(requests: int) -> dict:
    from _server import bench_app
    from bench_transcript import make_vtt

    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.models import Redaction
    from oralhist.services import accounts, catalogue
    from oralhist.services import transcripts as service

    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        app.config["SEARCH_SYNC"] = True
        with app.test_request_context():
            viewer = Viewer(user_id=None, role="archivist")
            interview = catalogue.save_interview(viewer, {"title": "Benchmark interview"})
            catalogue.publish(viewer, interview, consent_override="benchmark")
            service.import_transcript(viewer, interview, make_vtt(2000), "bench.vtt")
            accounts.create_user("r@example.org", "password-123456", role="researcher", name="R")
            db.session.commit()
            iid = interview.id
        client = app.test_client()
        urls = {
            "page": f"/interviews/{iid}",
            "transcript_api": f"/api/v1/interviews/{iid}/transcript",
            "search_api": "/api/v1/search?q=pamphlet",
        }
        for url in urls.values():  # warm up (templates, caches, the index's searcher)
            for _ in range(3):
                client.get(url)
        figures = {"without": {k: latency(client, u, requests) for k, u in urls.items()}}
        with app.app_context():
            for start, end in RANGES:
                db.session.add(Redaction(interview_id=iid, start_ms=start, end_ms=end, reason="b"))
            db.session.commit()
        figures["with_5_redactions"] = {k: latency(client, u, requests) for k, u in urls.items()}
        with app.app_context():  # lifted again: the first figures once more (drift check)
            db.session.query(Redaction).delete()
            db.session.commit()
        figures["without_again"] = {k: latency(client, u, requests) for k, u in urls.items()}
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=100)
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    result = {
        "load_average": os.getloadavg(),
        "redacted_copy": audio_figures(args.minutes, args.rate, args.channels),
        "latency": page_figures(args.requests),
        "self_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "redaction.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
