"""Transcript editor benchmark: a 100-minute, 2,000-segment transcript (bench_transcript's).

    python bench/bench_editor.py [--segments 2000] [--saves 20] [--words] [--browser]

1. Storage added by one saved one-word edit (``POST .../transcript/edits``), against what a
   version that copies every segment adds (the design before: measured by importing the same
   file again as a new version). Both as rows added and as bytes of the SQLite file after
   ``VACUUM`` (the whole database, indexes included); goal: kilobytes, not the transcript.
2. Server time of saving an edit through the API (Flask test client, bearer token): the
   median and p95 of ``--saves`` one-word edits, each a new version; goal < 300 ms. The CPU
   time of the process is given too (on a shared, loaded machine the wall time is mostly
   waiting for a core). Also a single ``PATCH /api/v1/segments/<id>`` and a split.
3. The editor page (all segments) rendered by the server: median of 10, and its size.
4. ``--browser`` (Chromium at /usr/bin/chromium, Playwright): time from navigation to the
   editor being ready, and the time the page takes for a split and a merge in place.

Prints the figures and writes ``bench/results/editor.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _server import bench_app  # noqa: E402
from bench_transcript import make_vtt  # noqa: E402

from oralhist.extensions import db  # noqa: E402

GOAL_SAVE_MS = 300.0


def _size(app, tmp: str) -> tuple[int, int]:
    """The database's bytes after ``VACUUM``: the file, and the records alone (``dbstat``:
    the payload of every table and index row, so a few hundred bytes show, which the
    file's 4 KiB pages would round away)."""
    from oralhist.services import indexing

    with app.app_context():
        indexing.process_pending()
        db.session.remove()
        with db.engine.connect() as connection:
            connection.exec_driver_sql("VACUUM")
            payload = connection.exec_driver_sql("SELECT sum(payload) FROM dbstat").scalar()
    return os.path.getsize(f"{tmp}/bench.sqlite3"), int(payload or 0)


def _rows(app) -> int:
    from sqlalchemy import func, select

    from oralhist.models import Segment

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Segment))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--words", action="store_true", help="word timings on every segment")
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--profile", action="store_true", help="profile one save")
    args = parser.parse_args()

    data = make_vtt(args.segments, words=args.words)
    figures: dict = {"segments": args.segments, "word_timings": args.words}
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        from oralhist.access.policy import Viewer
        from oralhist.services import accounts, catalogue
        from oralhist.services import transcripts as service

        with app.test_request_context():
            user = accounts.create_user("bench@example.org", "bench-password-123", role="archivist")
            db.session.flush()
            viewer = Viewer(user_id=user.id, role="archivist")
            interview = catalogue.save_interview(viewer, {"title": "Benchmark interview"})
            catalogue.publish(viewer, interview)
            service.import_transcript(viewer, interview, data, "bench.vtt")
            token = accounts.create_token(user, "bench")
            db.session.commit()
            interview_id = interview.id

        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        base = f"/api/v1/interviews/{interview_id}"

        def segments() -> list[dict]:
            answer = client.get(f"{base}/transcript?per_page=5000", headers=headers)
            return answer.get_json()["segments"]

        cpu: list[float] = []

        def one_word_edit(segment: dict, version: int) -> tuple[float, int]:
            words = segment["text"].split()
            words[0] = words[0] + "s"
            cpu_started = time.process_time()
            started = time.perf_counter()
            answer = client.post(
                f"{base}/transcript/edits",
                headers=headers,
                json={
                    "base_version": version,
                    "operations": [
                        {"op": "update", "segment_id": segment["id"], "text": " ".join(words)}
                    ],
                },
            )
            elapsed = (time.perf_counter() - started) * 1000
            cpu.append((time.process_time() - cpu_started) * 1000)
            assert answer.status_code == 201, answer.get_json()
            return elapsed, answer.get_json()["version"]

        rows = segments()
        # 1. Storage of one one-word edit, against a version that copies every segment.
        size0, rows0 = _size(app, tmp), _rows(app)
        _ms, version = one_word_edit(rows[len(rows) // 2], 1)
        size1, rows1 = _size(app, tmp), _rows(app)
        with app.test_request_context():
            from oralhist.models import Interview

            found = db.session.get(Interview, interview_id)
            service.import_transcript(viewer, found, data, "bench-again.vtt")
            db.session.commit()
        size2, rows2 = _size(app, tmp), _rows(app)
        figures.update(
            {
                "vtt_bytes": len(data),
                "edit_rows_added": rows1 - rows0,
                "edit_file_bytes_added": size1[0] - size0[0],
                "edit_record_bytes_added": size1[1] - size0[1],
                "full_copy_rows_added": rows2 - rows1,
                "full_copy_file_bytes_added": size2[0] - size1[0],
                "full_copy_record_bytes_added": size2[1] - size1[1],
            }
        )
        version = 3  # the re-import above
        # 2. Server time of saves (each a new version on top of the last).
        rows = segments()
        times = []
        cpu.clear()
        for n in range(args.saves):
            elapsed, version = one_word_edit(rows[(n * 97) % len(rows)], version)
            times.append(elapsed)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            _ms, version = one_word_edit(rows[11], version)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        target = rows[7]
        started = time.perf_counter()
        answer = client.patch(
            f"/api/v1/segments/{target['id']}",
            headers=headers,
            json={"text": target["text"] + " indeed", "base_version": version},
        )
        patch_ms = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, answer.get_json()
        version = answer.get_json()["version"]
        started = time.perf_counter()
        answer = client.post(
            f"/api/v1/segments/{target['id']}/split",
            headers=headers,
            json={"offset": len(target["text"].split()[0]) + 1, "base_version": version},
        )
        split_ms = (time.perf_counter() - started) * 1000
        assert answer.status_code == 201, answer.get_json()
        figures.update(
            {
                "saves": args.saves,
                "save_median_ms": round(statistics.median(times), 1),
                "save_p95_ms": round(_pct(times, 0.95), 1),
                "save_cpu_median_ms": round(statistics.median(cpu), 1),
                "patch_ms": round(patch_ms, 1),
                "split_ms": round(split_ms, 1),
                "save_goal_ms": GOAL_SAVE_MS,
                "within_goal": statistics.median(times) < GOAL_SAVE_MS,
            }
        )
        # 3. The editor page.
        import re

        login_page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        signed_in = client.post(
            "/login",
            data={
                "email": "bench@example.org",
                "password": "bench-password-123",
                "csrf_token": csrf,
            },
        )
        assert signed_in.status_code == 302
        page_times, page_cpu = [], []
        for _ in range(10):
            cpu_started = time.process_time()
            started = time.perf_counter()
            page = client.get(f"/interviews/{interview_id}/transcript/edit")
            page_times.append((time.perf_counter() - started) * 1000)
            page_cpu.append((time.process_time() - cpu_started) * 1000)
        html = page.get_data()
        figures.update(
            {
                "editor_page_status": page.status_code,
                "editor_page_median_ms": round(statistics.median(page_times), 1),
                "editor_page_cpu_median_ms": round(statistics.median(page_cpu), 1),
                "editor_page_bytes": len(html),
            }
        )
        if args.browser:
            figures.update(_browser(app, interview_id))
    figures["loadavg"] = os.getloadavg()
    figures["python"] = sys.version.split()[0]
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    name = "editor-words.json" if args.words else "editor.json"
    (results / name).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {results / name}")


def _browser(app, interview_id: int) -> dict:
    """Navigation to ready, and a split and a merge in place, in Chromium."""
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(base + "/login")
            page.fill("#f-email", "bench@example.org")
            page.fill("#f-password", "bench-password-123")
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            started = time.perf_counter()
            page.goto(f"{base}/interviews/{interview_id}/transcript/edit")
            page.wait_for_selector("#editor.ed-ready")
            ready_ms = (time.perf_counter() - started) * 1000
            timing = page.evaluate(
                """() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
                }"""
            )
            in_place = page.evaluate(
                """() => {
                    const box = document.querySelector(
                        '#ed-list li.ed-seg:nth-child(1000) .ed-text');
                    box.focus();
                    const range = document.createRange();
                    range.setStart(box.firstChild, box.textContent.indexOf(' ') + 1);
                    range.collapse(true);
                    getSelection().removeAllRanges(); getSelection().addRange(range);
                    const t0 = performance.now();
                    box.dispatchEvent(new KeyboardEvent(
                        'keydown', {key: 'Enter', code: 'Enter', bubbles: true}));
                    const t1 = performance.now();
                    box.dispatchEvent(new KeyboardEvent(
                        'keydown', {key: 'j', code: 'KeyJ', altKey: true, bubbles: true}));
                    const t2 = performance.now();
                    return {split: t1 - t0, merge: t2 - t1};
                }"""
            )
            browser.close()
    finally:
        server.shutdown()
    return {
        "browser_ready_ms": round(ready_ms, 1),
        "browser_dom_content_loaded_ms": round(timing["dcl"], 1),
        "browser_load_ms": round(timing["load"], 1),
        "browser_split_ms": round(in_place["split"], 2),
        "browser_merge_ms": round(in_place["merge"], 2),
    }


if __name__ == "__main__":
    main()
