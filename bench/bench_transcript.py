"""Transcript benchmark: a 100-minute, 2,000-segment WebVTT (generated, two speakers).

    python bench/bench_transcript.py [--segments 2000] [--requests 20] [--profile] [--words]

``--words`` gives every word a WebVTT timestamp tag, so every segment carries word timings
(8-30 words each, about 38,000 in all): the case of a Whisper transcript.

1. Parse alone (``parse_transcript``), then the whole import through the service
   (``import_transcript``: parse, new version, speakers, bulk insert of segments, audit) and
   the commit with its search-index update, on a fresh app (SQLite in a temporary folder).
2. The interview page rendered by the server: the median (and p95) over ``--requests``
   requests through the Flask test client, anonymous reader, open interview; goal < 150 ms.
   ``--profile`` (or a median over the goal) prints a pyinstrument profile of one request.

Prints the figures and writes ``bench/results/transcript.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from _server import bench_app  # noqa: E402

from oralhist.extensions import db  # noqa: E402

GOAL_MS = 150.0
_PROSE = (
    "the branch meeting was long and bitter and we argued about Hungary until the small hours "
    "my father worked at the bicycle works and I followed him there as an apprentice in 1949 "
    "we read the pamphlet together and nobody said a word for a long time afterwards"
)
WORDS = _PROSE.split(" ")


def make_vtt(segments: int, minutes: int = 100, seed: int = 1956, words: bool = False) -> bytes:
    rng = random.Random(seed)
    step = minutes * 60_000 // segments
    out = ["WEBVTT", ""]
    for i in range(segments):
        start, end = i * step, i * step + step - 200

        def tc(ms: int) -> str:
            h, rest = divmod(ms, 3_600_000)
            m, rest = divmod(rest, 60_000)
            s, ms = divmod(rest, 1000)
            return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"

        speaker = "Ruth Adler" if (i // 3) % 2 == 0 else "Thomas Whitfield"
        chosen = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
        if words:
            gap = (end - start) // len(chosen)
            chosen = [f"<{tc(start + k * gap)}>{w}" for k, w in enumerate(chosen)]
        text = " ".join(chosen)
        out += [str(i + 1), f"{tc(start)} --> {tc(end)}", f"<v {speaker}>{text}", ""]
    return "\n".join(out).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--words", action="store_true", help="word timings on every segment")
    args = parser.parse_args()

    data = make_vtt(args.segments, words=args.words)
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        from oralhist.access.policy import Viewer
        from oralhist.services import catalogue
        from oralhist.services import transcripts as service
        from oralhist.transcripts import parse_transcript

        with app.test_request_context():
            viewer = Viewer(user_id=None, role="archivist")
            interview = catalogue.save_interview(viewer, {"title": "Benchmark interview"})
            catalogue.publish(viewer, interview)
            db.session.commit()

            started = time.perf_counter()
            parsed = parse_transcript(data, "bench.vtt")
            parse_ms = (time.perf_counter() - started) * 1000
            assert len(parsed.segments) == args.segments

            started = time.perf_counter()
            result = service.import_transcript(viewer, interview, data, "bench.vtt")
            import_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            db.session.commit()
            commit_ms = (time.perf_counter() - started) * 1000
            assert result.segment_count == args.segments
            interview_id = interview.id

        client = app.test_client()
        url = f"/interviews/{interview_id}"
        first = client.get(url)
        assert first.status_code == 200
        html = first.get_data(as_text=True)
        # The page shows one page of the transcript (TRANSCRIPT_PAGE_SEGMENTS).
        assert html.count('class="segment') == min(
            args.segments, app.config["TRANSCRIPT_PAGE_SEGMENTS"]
        )
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]

        if args.profile or median > GOAL_MS:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            client.get(url)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))

    figures = {
        "segments": args.segments,
        "word_timings": args.words,
        "vtt_bytes": len(data),
        "parse_ms": round(parse_ms, 1),
        "import_ms": round(import_ms, 1),
        "commit_and_index_ms": round(commit_ms, 1),
        "page_requests": args.requests,
        "page_median_ms": round(median, 1),
        "page_p95_ms": round(p95, 1),
        "page_bytes": len(html.encode()),
        "goal_ms": GOAL_MS,
        "within_goal": median < GOAL_MS,
        "python": sys.version.split()[0],
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    name = "transcript-words.json" if args.words else "transcript.json"
    (results / name).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {results / name}")


if __name__ == "__main__":
    main()
