"""Listening-room benchmark (issue 15): the interview page of a 100-minute, 2,000-segment
interview with audio, served and opened in Chromium.

    python bench/bench_player.py [--segments 2000] [--requests 20] [--loads 10] [--all-on-one-page]

1. Server time: the median (and p95) of ``--requests`` GETs of the interview page through
   the Flask test client (anonymous reader, open interview, ``?t=`` in the middle so the
   page holding that moment is chosen); goal < 150 ms.
2. Time to interactive in Chromium (Debian's, through Playwright, the app served by a
   threaded WSGI server on loopback): per load, from navigation start to the moment the
   player's API exists, the transcript has marked the current line and the deep link has
   landed (``performance.now()`` when all three hold), plus DOMContentLoaded and the sum of
   long tasks (> 50 ms) on the main thread; medians over ``--loads`` loads; goal < 1 s.
``--all-on-one-page`` sets TRANSCRIPT_PAGE_SEGMENTS to the segment count (every segment in
one page: the worst case for the browser).

Prints the figures and writes ``bench/results/player.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import struct
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _server import bench_app  # noqa: E402
from bench_transcript import make_vtt  # noqa: E402

from oralhist.extensions import db  # noqa: E402

SERVER_GOAL_MS = 150.0
TTI_GOAL_MS = 1000.0
CHROMIUM = os.environ.get("OH_CHROMIUM", "/usr/bin/chromium")


def quiet_wav(minutes: int, rate: int = 2000) -> bytes:
    """A low-rate mono tone as long as the transcript (the page needs a real recording)."""
    frames = minutes * 60 * rate
    second = b"".join(
        struct.pack("<h", int(300 * math.sin(2 * math.pi * 200 * i / rate))) for i in range(rate)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(second * (frames // rate))
    return buffer.getvalue()


READY = """() => new Promise(resolve => {
  const check = () => {
    const current = document.querySelector('#tx-list li.segment.current');
    if (window.oralhistPlayer && current && current.classList.contains('highlight')) {
      resolve(performance.now());
    } else { requestAnimationFrame(check); }
  };
  check();
})"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--all-on-one-page", action="store_true")
    args = parser.parse_args()
    minutes = 100
    data = make_vtt(args.segments, minutes=minutes)
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        if args.all_on_one_page:
            app.config["TRANSCRIPT_PAGE_SEGMENTS"] = args.segments
        from oralhist.access.policy import Viewer
        from oralhist.services import catalogue, recordings
        from oralhist.services import transcripts as service

        with app.test_request_context():
            viewer = Viewer(user_id=None, role="archivist")
            interview = catalogue.save_interview(viewer, {"title": "Benchmark interview"})
            recordings.add_recording(viewer, interview, io.BytesIO(quiet_wav(minutes)), "a.wav")
            service.import_transcript(viewer, interview, data, "bench.vtt")
            catalogue.publish(viewer, interview)
            db.session.commit()
            interview_id = interview.id

        middle_s = minutes * 60 // 2 + 7
        url = f"/interviews/{interview_id}?t={middle_s}"
        client = app.test_client()
        first = client.get(url)
        assert first.status_code == 200
        html = first.get_data(as_text=True)
        shown = html.count('class="segment')
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        server_median = statistics.median(times)
        server_p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]

        from playwright.sync_api import sync_playwright
        from werkzeug.serving import make_server

        app.config["SERVER_NAME"] = None
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        ready, dcl, long_tasks = [], [], []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(
                    "window.__long = 0; new PerformanceObserver(l => l.getEntries()"
                    ".forEach(e => window.__long += e.duration))"
                    ".observe({type: 'longtask', buffered: true});"
                )
                page.goto(base + url)  # warm the caches (static files) once
                for _ in range(args.loads):
                    page.goto(base + url, wait_until="commit")
                    ready.append(page.evaluate(READY))
                    page.wait_for_load_state("load")
                    nav = page.evaluate(
                        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                    )
                    dcl.append(nav)
                    long_tasks.append(page.evaluate("window.__long"))
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=5)

    figures = {
        "segments": args.segments,
        "segments_on_the_page": shown,
        "page_bytes": len(html.encode()),
        "server_requests": args.requests,
        "server_median_ms": round(server_median, 1),
        "server_p95_ms": round(server_p95, 1),
        "server_goal_ms": SERVER_GOAL_MS,
        "browser_loads": args.loads,
        "interactive_median_ms": round(statistics.median(ready), 1),
        "interactive_worst_ms": round(max(ready), 1),
        "dom_content_loaded_median_ms": round(statistics.median(dcl), 1),
        "long_tasks_median_ms": round(statistics.median(long_tasks), 1),
        "interactive_goal_ms": TTI_GOAL_MS,
        "within_goals": server_median < SERVER_GOAL_MS and statistics.median(ready) < TTI_GOAL_MS,
        "load_average": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }
    for key, value in figures.items():
        print(f"{key:>30}: {value}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    name = "player-one-page.json" if args.all_on_one_page else "player.json"
    (results / name).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {results / name}")


if __name__ == "__main__":
    main()
