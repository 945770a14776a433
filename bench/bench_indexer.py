"""The background indexer, end to end with the real server (issue 12 items 1 and 11).

    python bench/bench_indexer.py --interviews 100

1. A temporary project (``oralhist init``, an archivist token), the synthetic archive of
   ``search_corpus`` bulk-loaded (``bench_search_http``'s load phase) and ``oralhist reindex``.
2. ``oralhist serve`` (gunicorn and, beside it, ``oralhist worker``).
3. Commit to searchable: an archivist creates and publishes an interview whose title holds a
   word no index holds (a cold round, then ``--rounds`` times); fresh connections poll
   ``GET /api/v1/search`` until it is found. Reported from the publish response (the commit)
   to the first hit.
4. Edits during a rebuild: ``oralhist reindex`` in a subprocess; once it holds the index,
   ``PATCH /api/v1/interviews/<id>`` every 0.5 s until it ends (latency of each), a second
   ``oralhist reindex`` started meanwhile (its exit code, message and time to refusal), and
   after the rebuild the time until the last PATCH's title is searchable.

Prints a table and writes ``bench/results/indexer-<N>.json``. Stdlib only. Run it against an
older checkout with ``PYTHONPATH=<that checkout>`` to compare (that checkout's server has no
worker: requests apply index work themselves).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _server  # noqa: E402
import bench_search_http as http_bench  # noqa: E402
from _server import OH, PASSWORD  # noqa: E402
from bench_search import percentile  # noqa: E402

POLL_LIMIT = 120.0  # seconds: give up waiting for a hit (reported as None)


class Project(_server.Project):
    def __init__(self, keep: bool) -> None:
        super().__init__(prefix="oh-bench-indexer-", keep=keep)

    def call(self, method: str, path: str, token: str = "", body: dict | None = None):
        """(status, JSON, ms) of one request on a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        ms = (time.perf_counter() - start) * 1000
        conn.close()
        return response.status, json.loads(raw or b"{}"), ms


def marker() -> str:
    rng = random.SystemRandom()
    return "zq" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))


def wait_searchable(project: Project, word: str, since: float) -> float | None:
    """ms from ``since`` until an anonymous search finds ``word`` (None: not within limit)."""
    while time.perf_counter() - since < POLL_LIMIT:
        status, data, _ = project.call("GET", f"/api/v1/search?q={word}")
        if status == 200 and data.get("total", 0) > 0:
            return round((time.perf_counter() - since) * 1000, 1)
        time.sleep(0.01)
    return None


def commit_to_searchable(project: Project, token: str, rounds: int) -> dict:
    """``rounds`` measured after one cold round (reported apart: it includes the worker's
    start-up check and each gunicorn worker opening its searcher)."""
    times, publish_ms = [], []
    for _ in range(rounds + 1):
        word = marker()
        status, created, _ = project.call(
            "POST", "/api/v1/interviews", token, {"title": f"Searchable {word}"}
        )
        assert status == 201, created
        status, published, ms = project.call(
            "POST", f"/api/v1/interviews/{created['id']}/publish", token
        )
        assert status == 200, published
        committed = time.perf_counter()
        publish_ms.append(ms)
        times.append(wait_searchable(project, word, committed))
    cold, times = times[0], times[1:]
    found = [t for t in times if t is not None]
    return {
        "rounds": rounds,
        "cold_first_round_ms": cold,
        "after_commit_ms": times,
        "p50_ms": percentile(found, 50) if found else None,
        "max_ms": max(found) if found else None,
        "publish_request_p50_ms": round(percentile(publish_ms, 50), 1),
    }


def edits_during_rebuild(project: Project, token: str) -> dict:
    status, created, _ = project.call("POST", "/api/v1/interviews", token, {"title": "Edited"})
    assert status == 201, created
    iid = created["id"]
    project.call("POST", f"/api/v1/interviews/{iid}/publish", token)
    instance = project.dir / "instance"
    started = time.perf_counter()
    rebuild = subprocess.Popen(
        [OH, "reindex"], cwd=project.dir, env=project.env, stdout=subprocess.PIPE, text=True
    )
    # Wait until the rebuild holds the index (its fresh folder appears), or 30 s.
    while time.perf_counter() - started < 30 and rebuild.poll() is None:
        if any(instance.glob(".search-index.rebuild-*")):
            break
        time.sleep(0.05)
    second = None
    latencies, last_word = [], None
    while rebuild.poll() is None:
        last_word = marker()
        status, body, ms = project.call(
            "PATCH", f"/api/v1/interviews/{iid}", token, {"title": f"Edited {last_word}"}
        )
        assert status == 200, body
        latencies.append(round(ms, 1))
        if second is None:
            t = time.perf_counter()
            done = subprocess.run(
                [OH, "reindex"], cwd=project.dir, env=project.env, capture_output=True, text=True
            )
            second = {
                "exit_code": done.returncode,
                "seconds": round(time.perf_counter() - t, 2),
                "message": (done.stderr or done.stdout).strip().splitlines()[-1:],
                "traceback": "Traceback" in done.stderr,
            }
        time.sleep(0.5)
    out = rebuild.communicate()[0]
    ended = time.perf_counter()
    line = next((ln for ln in out.splitlines() if ln.startswith("Indexed")), out.strip())
    return {
        "rebuild": line,
        "rebuild_seconds": round(ended - started, 1),
        "patches": len(latencies),
        "patch_ms": latencies,
        "patch_p50_ms": percentile(latencies, 50) if latencies else None,
        "patch_max_ms": max(latencies) if latencies else None,
        "second_reindex": second,
        "last_patch_searchable_after_rebuild_ms": (
            wait_searchable(project, last_word, ended) if last_word else None
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--out", help="result file (default bench/results/indexer-<N>.json)")
    args = parser.parse_args()
    project = Project(args.keep)
    researcher_email, archivist_email = "researcher@example.org", "archivist@example.org"
    try:
        print(f"project in {project.dir}; oralhist init ...", flush=True)
        project.oh("init")
        token = project.user(archivist_email, "archivist")
        project.oh("create-user", researcher_email, "--role", "researcher", "--password", PASSWORD)
        print(f"loading {args.interviews} interviews ...", flush=True)
        loaded = http_bench.load_archive(
            project, args.interviews, researcher_email, archivist_email
        )
        print(f"  {loaded}", flush=True)
        print("oralhist reindex ...", flush=True)
        print("  " + project.oh("reindex").strip().splitlines()[-1], flush=True)
        print("oralhist serve ...", flush=True)
        project.serve()
        print("commit to searchable ...", flush=True)
        searchable = commit_to_searchable(project, token, args.rounds)
        print(f"  {searchable}", flush=True)
        print("edits during a rebuild ...", flush=True)
        during = edits_during_rebuild(project, token)
        result = {
            "interviews": args.interviews,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "load_average": round(os.getloadavg()[0], 2),
            "indexer_process": project.indexer() is not None,
            "searchable": searchable,
            "during_rebuild": {k: v for k, v in during.items() if k != "patch_ms"},
            "patch_ms_during_rebuild": during["patch_ms"],
        }
        out = Path(args.out) if args.out else HERE / "results" / f"indexer-{args.interviews}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        d = during
        print(
            f"\ncommit -> searchable: p50 {searchable['p50_ms']} ms, max {searchable['max_ms']} ms"
            f" ({searchable['rounds']} rounds, after a cold one:"
            f" {searchable['cold_first_round_ms']} ms; goal < 1000)\n"
            f"PATCH during a {d['rebuild_seconds']} s rebuild: p50 {d['patch_p50_ms']} ms,"
            f" max {d['patch_max_ms']} ms ({d['patches']} PATCHes)\n"
            f"second reindex meanwhile: {d['second_reindex']}\n"
            f"last PATCH searchable {d['last_patch_searchable_after_rebuild_ms']} ms after the"
            f" rebuild\nwritten to {out}"
        )
    finally:
        project.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
