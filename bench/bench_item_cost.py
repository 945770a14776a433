"""One item's cost (issue 12 item 7): what one huge upload costs everyone afterwards.

    python bench/bench_item_cost.py [--turns 100000] [--cue-mb 24] [--root PATH]

Each measurement runs in a fresh process (peak RSS is per process), on a fresh app (SQLite in
a temporary folder), anonymous reader, open published interview:

1. ``search``: one segment of ``--cue-mb`` MB (a single-cue SRT's text, stored and indexed
   directly, so the parsers' own caps do not hide it): median time of ``GET /search?q=...``
   matching it (5 requests) and of one snippet.
2. ``import``: a plain-text transcript of ``--turns`` ``SPEAKER:`` turns through
   ``import_transcript`` and the commit (with ``large=true`` where a segment limit exists),
   time and peak RSS; then whether the default limit refuses it, and how fast.
3. ``page``: that interview's page: time (median of 3) and HTML size.

``--root`` runs the same measurements against another checkout (e.g. the code before the
change, unpacked with ``git archive``) for a before/after. Writes ``bench/results/item-cost.json``.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _app(tmp: str):
    from _server import bench_app

    return bench_app(tmp)


def _interview(viewer, title: str) -> int:
    from oralhist.extensions import db
    from oralhist.services import catalogue

    interview = catalogue.save_interview(viewer, {"title": title})
    catalogue.publish(viewer, interview)
    db.session.commit()
    return interview.id


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_search(cue_mb: int) -> dict:
    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.models import Segment, Transcript

    words = ["the", "branch", "meeting", "went", "on", "about", "nothing", "that", "winter"]
    text = " ".join(words[i % len(words)] for i in range(cue_mb * 1_000_000 // 6))
    # The match 100,000 characters in: within the highlighter's scan (``MAX_SCAN``).
    text = text[:100_000] + " the pamphlet arrived " + text[100_000:]
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(tmp)
        with app.test_request_context():
            viewer = Viewer(user_id=None, role="archivist")
            interview_id = _interview(viewer, "One giant cue")
            transcript = Transcript(
                interview_id=interview_id,
                version=1,
                is_current=True,
                language="en",
                source_format="srt",
                source_filename="giant.srt",
                segment_count=1,
                warnings=[],
            )
            db.session.add(transcript)
            db.session.flush()
            db.session.add(
                Segment(transcript_id=transcript.id, position=0, start_ms=0, end_ms=1000, text=text)
            )
            db.session.flush()
            db.session.commit()
        client = app.test_client()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get("/search?q=pamphlet")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            assert "pamphlet" in response.get_data(as_text=True)
        from oralhist.search.highlight import Highlighter
        from oralhist.search.query import Marks
        from oralhist.search.schema import Language

        language = Language("en")
        marks = Marks(stems={language.body_form("pamphlet")}, words={"pamphlet"})
        started = time.perf_counter()
        snippet = Highlighter(language).snippet(text, marks)
        snippet_ms = (time.perf_counter() - started) * 1000
    return {
        "segment_chars": len(text),
        "search_median_ms": round(statistics.median(times), 1),
        "snippet_ms": round(snippet_ms, 1),
        "snippet_marks_match": "<mark>pamphlet</mark>" in snippet,
        "peak_rss_mb": _peak_mb(),
    }


def _turns(n: int) -> bytes:
    return "".join(
        f"{'ADLER' if i % 2 else 'WHITFIELD'}: Turn {i} about the branch and the works.\n\n"
        for i in range(n)
    ).encode()


def measure_import(turns: int) -> dict:
    import inspect

    from oralhist.access.policy import Viewer
    from oralhist.errors import OralHistError
    from oralhist.extensions import db
    from oralhist.services import transcripts as service

    data = _turns(turns)
    figures: dict = {"turns": turns, "bytes": len(data)}
    has_limit = "large" in inspect.signature(service.import_transcript).parameters
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(tmp)
        with app.test_request_context():
            viewer = Viewer(user_id=None, role="archivist")
            interview_id = _interview(viewer, "Many turns")
            from oralhist.models import Interview

            interview = db.session.get(Interview, interview_id)
            if has_limit:
                started = time.perf_counter()
                try:
                    service.import_transcript(viewer, interview, data, "turns.txt")
                    figures["default_limit_refuses"] = False
                except OralHistError as exc:
                    figures["default_limit_refuses"] = True
                    figures["refusal"] = exc.message
                figures["refusal_ms"] = round((time.perf_counter() - started) * 1000, 1)
                db.session.rollback()
                interview = db.session.get(Interview, interview_id)
            options = {"large": True} if has_limit else {}
            started = time.perf_counter()
            service.import_transcript(viewer, interview, data, "turns.txt", **options)
            figures["import_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            db.session.commit()
            figures["commit_and_index_s"] = round(time.perf_counter() - started, 2)
        figures["import_peak_rss_mb"] = _peak_mb()
        client = app.test_client()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            response = client.get(f"/interviews/{interview_id}")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        figures["page_median_ms"] = round(statistics.median(times), 1)
        figures["page_bytes"] = len(response.get_data())
        figures["page_segments_shown"] = response.get_data(as_text=True).count('class="segment')
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--cue-mb", type=int, default=24)
    parser.add_argument("--root", default=str(HERE.parent))
    parser.add_argument("--part", choices=("search", "import"))
    parser.add_argument("--out", default=str(HERE / "results" / "item-cost.json"))
    args = parser.parse_args()
    if args.part:
        sys.path.insert(0, args.root)
        if args.part == "search":
            result = measure_search(args.cue_mb)
        else:
            result = measure_import(args.turns)
        print(json.dumps(result))
        return
    figures = {"root": args.root, "load_average": os.getloadavg()}
    for part in ("search", "import"):
        command = [sys.executable, __file__, "--part", part, "--root", args.root]
        command += ["--turns", str(args.turns), "--cue-mb", str(args.cue_mb)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=args.root)
        figures[part] = json.loads(done.stdout.strip().splitlines()[-1])
        print(part, json.dumps(figures[part], indent=2))
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
