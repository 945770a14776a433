"""Search through HTTP, end to end: the synthetic archive in the database, ``oralhist reindex``,
``oralhist serve`` (gunicorn), and ``GET /search`` / ``GET /api/v1/search``.

    python bench/bench_search_http.py --interviews 100     # a few minutes
    python bench/bench_search_http.py --interviews 1000    # 15 M words: many minutes

1. A temporary project (``instance/`` + ``media/``) initialised as a user does it
   (``oralhist init``, ``oralhist create-user``), then the archive of ``search_corpus``
   (titles, narrators, years, collections, access levels, speakers, segment texts, index
   points) bulk-inserted into the database with SQLAlchemy Core inside an app context
   (collections, people, published interviews and participants, one current transcript each,
   speakers, segments), plus approved access requests of the researcher on a few restricted
   interviews (as ``bench_search.researcher_scope``).
2. ``oralhist reindex`` in a subprocess: wall time, words/s, peak RSS of its process tree
   (sampled from /proc every 50 ms).
3. ``oralhist serve`` (2 gunicorn workers) on a free loopback port; a researcher token from
   ``oralhist create-token``; ``bench_search``'s fixed query set through ``GET /search?q=``
   (the HTML page) and ``GET /api/v1/search?q=``, each request on a fresh connection (so both
   workers answer): the first (cold) run of each query, then p50/p95/worst over repeats; RSS
   of each worker after the set.
4. Time to searchable: an archivist creates an interview, imports a small VTT with a word no
   index holds, and publishes it through the API; fresh connections poll
   ``GET /api/v1/search?q=<word>`` (the answering worker found from /proc/net/tcp) until every
   worker has returned it.

Prints a table and writes ``bench/results/search-http-<N>.json``. Stdlib only (no psutil).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import _server  # noqa: E402
import search_corpus as corpus  # noqa: E402
from _server import OH, PASSWORD, rss_bytes, tree_of  # noqa: E402
from bench_search import percentile, query_set  # noqa: E402

REPEATS = 5
GRANTS = 5  # approved requests of the researcher on restricted interviews


# ---------------------------------------------------------------- /proc helpers


class TreeSampler:
    """Peak summed RSS of a process tree, and the peak of each process, every ``interval``."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_total = 0
        self.peak_each: dict[int, int] = {}
        self.max_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_of(self.pid)
            sizes = {p: rss_bytes(p) for p in pids}
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            self.max_processes = max(self.max_processes, sum(1 for s in sizes.values() if s))
            for p, s in sizes.items():
                self.peak_each[p] = max(self.peak_each.get(p, 0), s)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _hex_port(port: int) -> str:
    return f"{port:04X}"


def worker_holding(client_port: int, server_port: int, workers: list[int]) -> int | None:
    """Which worker holds the server side of the connection from ``client_port``."""
    inode = None
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote = parts[1], parts[2]
            if local.endswith(":" + _hex_port(server_port)) and remote.endswith(
                ":" + _hex_port(client_port)
            ):
                inode = parts[9]
                break
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in workers:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


# ---------------------------------------------------------------- the project


class Project(_server.Project):
    """The temporary project, with requests on fresh connections."""

    def __init__(self, keep: bool) -> None:
        super().__init__(prefix="oh-bench-search-http-", keep=keep)

    def get(self, path: str, token: str, *, who: bool = False) -> tuple[int, bytes, float]:
        """GET on a fresh connection; (status, body, ms) and, with ``who``, the worker pid."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        ms = (time.perf_counter() - start) * 1000
        pid = None
        if who:
            pid = worker_holding(conn.sock.getsockname()[1], self.port, self.workers())
        conn.close()
        return (response.status, body, ms) if not who else (response.status, body, ms, pid)

    def request(
        self, method: str, path: str, token: str, body: bytes | None = None, ctype: str = ""
    ) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": f"Bearer {token}"}
        if ctype:
            headers["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, json.loads(data or b"{}")


# ---------------------------------------------------------------- phase: load (in the project)


def load(n: int, researcher_email: str, archivist_email: str) -> dict:
    """Bulk-insert the synthetic archive (runs with cwd/OH_INSTANCE_PATH of the project)."""
    from sqlalchemy import insert, select

    from oralhist import create_app
    from oralhist.extensions import db
    from oralhist.models import (
        AccessRequest,
        Collection,
        IndexPoint,
        Interview,
        Participant,
        Person,
        Segment,
        Speaker,
        Transcript,
        User,
    )

    app = create_app()
    started = time.perf_counter()
    gen_seconds = 0.0
    counts = dict.fromkeys(("interviews", "segments", "index_points", "people", "words"), 0)
    with app.app_context():
        archivist = db.session.scalar(select(User.id).where(User.email == archivist_email))
        researcher = db.session.scalar(select(User.id).where(User.email == researcher_email))
        collection_ids = {slug: k for k, (slug, _) in enumerate(corpus.COLLECTIONS, start=1)}
        db.session.execute(
            insert(Collection),
            [
                {"id": collection_ids[slug], "slug": slug, "title": title, "description": ""}
                for slug, title in corpus.COLLECTIONS
            ],
        )
        people: dict[str, int] = {}

        def person(name: str) -> int:
            if name not in people:
                people[name] = len(people) + 1
                first, _, last = name.partition(" ")
                db.session.execute(
                    insert(Person),
                    [{"id": people[name], "name": name, "sort_name": f"{last}, {first}"}],
                )
            return people[name]

        now = dt.datetime.now(dt.UTC)
        restricted: list[int] = []
        for i in range(n):
            t = time.perf_counter()
            docs = corpus.interview_docs(i)
            gen_seconds += time.perf_counter() - t
            meta, segs = docs[0], [d for d in docs if d["kind"] == "segment"]
            points = [d for d in docs if d["kind"] == "index"]
            iid = meta["interview_id"]
            embargo = meta["embargo_until"]
            db.session.execute(
                insert(Interview),
                [
                    {
                        "id": iid,
                        "accession": meta["accession"],
                        "title": meta["title"],
                        "collection_id": collection_ids[meta["collection"]],
                        "summary": meta["summary"],
                        "date_recorded": meta["date_recorded"],
                        "place": meta["place"],
                        "language": meta["language"],
                        "rights_statement": "",
                        "access_level": meta["access_level"],
                        "embargo_until": (
                            dt.date(embargo // 10000, embargo // 100 % 100, embargo % 100)
                            if embargo
                            else None
                        ),
                        "status": "published",
                        "created_by_id": archivist,
                        "published_at": now,
                    }
                ],
            )
            if meta["access_level"] == "restricted" and not embargo:
                restricted.append(iid)
            narrator, interviewer, other = meta["people"]
            roles = [(narrator, "interviewee"), (interviewer, "interviewer"), (other, "other")]
            seen = set()
            rows = []
            for pos, (name, role) in enumerate(roles):
                key = (person(name), role)
                if key not in seen:
                    seen.add(key)
                    rows.append(
                        {"interview_id": iid, "person_id": key[0], "role": role, "position": pos}
                    )
            db.session.execute(insert(Participant), rows)
            db.session.execute(
                insert(Transcript),
                [
                    {
                        "id": iid,
                        "interview_id": iid,
                        "version": 1,
                        "is_current": True,
                        "language": "en",
                        "source_format": "vtt",
                        "source_filename": f"{meta['accession']}.vtt",
                        "segment_count": len(segs),
                        "warnings": [],
                        "created_by_id": archivist,
                    }
                ],
            )
            speaker_ids = {}
            for label in dict.fromkeys(d["speaker"] for d in segs):
                speaker_ids[label] = 2 * iid - 1 + len(speaker_ids)
            db.session.execute(
                insert(Speaker),
                [
                    {
                        "id": sid,
                        "interview_id": iid,
                        "label": label,
                        "display_name": "",
                        "person_id": people.get(label),
                    }
                    for label, sid in speaker_ids.items()
                ],
            )
            db.session.execute(
                insert(Segment),
                [
                    {
                        "id": d["segment_id"],  # iid * 10,000 + position
                        "transcript_id": iid,
                        "position": d["position"],
                        "start_ms": d["start_ms"],
                        "end_ms": d["end_ms"],
                        "speaker_id": speaker_ids[d["speaker"]],
                        "text": d["text"],
                    }
                    for d in segs
                ],
            )
            db.session.execute(
                insert(IndexPoint),
                [
                    {
                        "transcript_id": iid,
                        "position": k,
                        "start_ms": d["start_ms"],
                        "title": d["title"],
                        "partial_transcript": d["text"],
                        "synopsis": d["synopsis"],
                        "keywords": d["keywords"],
                        "subjects": [],
                        "hyperlinks": [],
                    }
                    for k, d in enumerate(points)
                ],
            )
            counts["interviews"] += 1
            counts["segments"] += len(segs)
            counts["index_points"] += len(points)
            counts["words"] += corpus.word_count(docs)
            if i % 50 == 49:
                db.session.commit()
        db.session.execute(
            insert(AccessRequest),
            [
                {
                    "requester_id": researcher,
                    "interview_id": iid,
                    "purpose": "benchmark",
                    "agreed_terms": True,
                    "status": "approved",
                    "scope": "listen",
                    "decided_by_id": archivist,
                    "decided_at": now,
                }
                for iid in restricted[:GRANTS]
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Rows were inserted with their ids: move each id sequence past them.
            from sqlalchemy import text

            for table in db.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is not False:
                    db.session.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:t, 'id'),"
                            f' (SELECT coalesce(max(id), 0) + 1 FROM "{table.name}"), false)'
                        ),
                        {"t": f'"{table.name}"'},
                    )
            db.session.commit()
        counts["people"] = len(people)
        counts["grants"] = min(GRANTS, len(restricted))
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["generator_seconds"] = round(gen_seconds, 1)
    return counts


# ---------------------------------------------------------------- phases in the harness


def load_archive(project: _server.Project, n: int, researcher: str, archivist: str) -> dict:
    """The synthetic archive of ``n`` interviews loaded into ``project``'s database by this
    script's ``load`` phase in a process of its own (its figures returned); the bulk-loaded
    rows' index work is left to an ``oralhist reindex`` after it."""
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--phase",
            "load",
            "--interviews",
            str(n),
            "--emails",
            researcher,
            archivist,
        ],
        cwd=project.dir,
        env={**project.env, "OH_SEARCH_SYNC": "false"},
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def reindex(project: Project) -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen(
        [OH, "reindex"],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with TreeSampler(proc.pid) as sampler:
        out, _ = proc.communicate()
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"oralhist reindex failed:\n{out}")
    line = next((ln for ln in out.splitlines() if ln.startswith("Indexed")), out.strip())
    words = int(re.search(r"([\d,]+) transcript words", line).group(1).replace(",", ""))
    inner = float(re.search(r"in ([\d.]+) s", line).group(1))
    return {
        "output": line,
        "words": words,
        "index_seconds": inner,
        "words_per_second": round(words / inner) if inner else None,
        "command_seconds": round(seconds, 1),
        "words_per_second_whole_command": round(words / seconds),
        "peak_rss_tree_mb": round(sampler.peak_total / 1e6, 1),
        "peak_rss_largest_process_mb": round(max(sampler.peak_each.values()) / 1e6, 1),
        "processes_seen_at_once": sampler.max_processes,
    }


def query_path(endpoint: str, item: dict) -> str:
    args = {"q": item["q"], **(item.get("filters") or {})}
    return f"{endpoint}?{urllib.parse.urlencode(args)}"


ENDPOINTS = {"html": "/search", "api": "/api/v1/search"}


def run_queries(project: Project, token: str, repeats: int) -> dict:
    queries = query_set()
    per: dict[str, dict] = {name: {} for name in ENDPOINTS}
    timings: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
    rss_idle = {str(p): round(rss_bytes(p) / 1e6, 1) for p in project.workers()}

    def one(name: str, item: dict) -> float:
        status, body, ms = project.get(query_path(ENDPOINTS[name], item), token)
        if status != 200:
            raise RuntimeError(f"{name} {item['q']!r}: {status} {body[:300]!r}")
        entry = per[name].setdefault(item["label"], {"query": item["q"], "runs_ms": []})
        if "cold_ms" not in entry:
            entry["cold_ms"] = round(ms, 1)
            if name == "api":
                data = json.loads(body)
                entry["groups"], entry["moments"] = data["total"], data["total_moments"]
            entry["bytes"] = len(body)
        else:
            entry["runs_ms"].append(round(ms, 2))
            timings[name].append(ms)
        return ms

    for item in queries:  # cold: the first time each query is asked
        for name in ENDPOINTS:
            one(name, item)
    for _ in range(repeats):
        for item in queries:
            for name in ENDPOINTS:
                one(name, item)
    out: dict = {"rss_idle_mb": rss_idle}
    for name in ENDPOINTS:
        values = timings[name]
        worst = max(per[name], key=lambda k: max(per[name][k]["runs_ms"]))
        coldest = max(per[name], key=lambda k: per[name][k]["cold_ms"])
        for entry in per[name].values():
            entry["median_ms"] = round(percentile(entry["runs_ms"], 50), 1)
        out[name] = {
            "path": ENDPOINTS[name],
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "worst_ms": round(max(values), 1),
            "worst_query": worst,
            "cold_worst_ms": per[name][coldest]["cold_ms"],
            "cold_worst_query": coldest,
            "cold_median_ms": round(percentile([e["cold_ms"] for e in per[name].values()], 50), 1),
            "queries": per[name],
        }
    out["rss_after_mb"] = {str(p): round(rss_bytes(p) / 1e6, 1) for p in project.workers()}
    return out


VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Ada Bench>We walked to the mill every morning before the {marker} whistle.

00:00:04.500 --> 00:00:08.000
<v Tom Bench>And the union met in the chapel hall on Fridays.
"""


def time_to_searchable(project: Project, archivist: str, researcher: str) -> dict:
    marker = "zq" + "".join(random.SystemRandom().choice("bcdfghjklmnpqrstvwxz") for _ in range(10))
    search = f"/api/v1/search?q={marker}"
    t0 = time.perf_counter()
    status, interview = project.request(
        "POST",
        "/api/v1/interviews",
        archivist,
        json.dumps({"title": "Searchable soon", "access_level": "open"}).encode(),
        "application/json",
    )
    assert status == 201, (status, interview)
    iid = interview["id"]
    boundary = "oh-bench-" + os.urandom(8).hex()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="new.vtt"\r\n'
        f"Content-Type: text/vtt\r\n\r\n{VTT.format(marker=marker)}\r\n--{boundary}--\r\n"
    ).encode()
    t1 = time.perf_counter()
    status, imported = project.request(
        "POST",
        f"/api/v1/interviews/{iid}/transcripts",
        archivist,
        body,
        f"multipart/form-data; boundary={boundary}",
    )
    assert status == 201, (status, imported)
    t2 = time.perf_counter()
    # Not yet visible to the researcher: the interview is a draft.
    status, data, _ = project.get(search, researcher)
    assert status == 200 and json.loads(data)["total"] == 0, data[:300]
    t3 = time.perf_counter()
    status, published = project.request("POST", f"/api/v1/interviews/{iid}/publish", archivist)
    assert status == 200, (status, published)
    t4 = time.perf_counter()
    workers = project.workers()
    first_seen: dict[int, float] = {}
    polls: dict[str, int] = {}
    misses_after_first: int = 0
    deadline = time.perf_counter() + 60
    while len(first_seen) < len(workers) and time.perf_counter() < deadline:
        status, data, _, pid = project.get(search, researcher, who=True)
        at = time.perf_counter()
        polls[str(pid)] = polls.get(str(pid), 0) + 1
        found = status == 200 and json.loads(data)["total"] > 0
        if found and pid is not None and pid not in first_seen:
            first_seen[pid] = at
        elif not found and first_seen:
            misses_after_first += 1
        time.sleep(0.005)
    all_seen = len(first_seen) == len(workers)
    return {
        "marker": marker,
        "create_ms": round((t1 - t0) * 1000, 1),
        "import_transcript_ms": round((t2 - t1) * 1000, 1),
        "publish_request_ms": round((t4 - t3) * 1000, 1),
        "per_worker_after_publish_ms": {
            str(p): round((s - t4) * 1000, 1) for p, s in sorted(first_seen.items())
        },
        "all_workers_after_publish_ms": (
            round((max(first_seen.values()) - t4) * 1000, 1) if all_seen else None
        ),
        "all_workers_after_publish_sent_ms": (
            round((max(first_seen.values()) - t3) * 1000, 1) if all_seen else None
        ),
        "all_workers_after_create_sent_ms": (
            round((max(first_seen.values()) - t0) * 1000, 1) if all_seen else None
        ),
        "polls_by_worker": polls,
        "misses_after_first_hit": misses_after_first,
    }


# ---------------------------------------------------------------- report


def table(r: dict) -> str:
    b, q, v = r["reindex"], r["queries"], r["searchable"]
    h, a = q["html"], q["api"]
    rows = [
        ("interviews / words", f"{r['load']['interviews']} / {b['words']:,}", ""),
        ("database load (s)", f"{r['load']['seconds']}", ""),
        (
            "reindex words/s (index / command)",
            f"{b['words_per_second']:,} / {b['words_per_second_whole_command']:,}",
            ">= 150,000",
        ),
        (
            "reindex peak RSS tree / largest (MB)",
            f"{b['peak_rss_tree_mb']} / {b['peak_rss_largest_process_mb']}",
            "< 400",
        ),
        ("GET /search p50 / p95 (ms)", f"{h['p50_ms']} / {h['p95_ms']}", "p95 <= 100"),
        ("  worst", f"{h['worst_ms']} ({h['worst_query']})", ""),
        ("  cold worst", f"{h['cold_worst_ms']} ({h['cold_worst_query']})", ""),
        ("GET /api/v1/search p50 / p95 (ms)", f"{a['p50_ms']} / {a['p95_ms']}", "p95 <= 100"),
        ("  worst", f"{a['worst_ms']} ({a['worst_query']})", ""),
        ("  cold worst", f"{a['cold_worst_ms']} ({a['cold_worst_query']})", ""),
        (
            "worker RSS idle -> after set (MB)",
            " ".join(f"{q['rss_idle_mb'].get(p)}->{m}" for p, m in q["rss_after_mb"].items()),
            "< 500",
        ),
        ("searchable in all workers (ms)", f"{v['all_workers_after_publish_ms']}", "< 1000"),
        (
            "  per worker after publish (ms)",
            ", ".join(f"{ms}" for ms in v["per_worker_after_publish_ms"].values()),
            "",
        ),
        ("  publish request (ms)", f"{v['publish_request_ms']}", ""),
    ]
    width = max(len(x[0]) for x in rows)
    lines = [f"{'measure'.ljust(width)}  {'value':>28}  goal"]
    lines += [f"{x.ljust(width)}  {y:>28}  {z}" for x, y, z in rows]
    lines.append("")
    lines.append(
        f"{'query':<16} {'html med':>9} {'cold':>8} {'api med':>9} {'cold':>8} "
        f"{'groups':>7} {'moments':>8}"
    )
    for label, e in a["queries"].items():
        he = h["queries"][label]
        lines.append(
            f"{label:<16} {he['median_ms']:>9} {he['cold_ms']:>8} {e['median_ms']:>9}"
            f" {e['cold_ms']:>8} {e['groups']:>7} {e['moments']:>8}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument(
        "--backend",
        choices=("whoosh", "postgresql"),
        default="whoosh",
        help="postgresql: the archive in a fresh PostgreSQL database (made on --database-url's"
        " server, dropped afterwards) with SEARCH_BACKEND = 'postgresql'",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("OH_BENCH_DATABASE_URL"),
        help="postgresql+psycopg:// URL of a server to make the bench database on",
    )
    parser.add_argument("--phase", default="all", help=argparse.SUPPRESS)
    parser.add_argument("--emails", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.interviews
    if args.phase == "load":
        print(json.dumps(load(n, *args.emails)))
        return 0

    project = Project(args.keep)
    researcher_email, archivist_email = "researcher@example.org", "archivist@example.org"
    database = None
    if args.backend == "postgresql":
        if not args.database_url:
            parser.error("--backend postgresql needs --database-url (or OH_BENCH_DATABASE_URL)")
        database = make_database(args.database_url)
        project.env["OH_SQLALCHEMY_DATABASE_URI"] = database
        project.env["OH_SEARCH_BACKEND"] = "postgresql"
    try:
        print(f"project in {project.dir}; oralhist init ...", flush=True)
        project.oh("init")
        archivist = project.user(archivist_email, "archivist")
        project.oh("create-user", researcher_email, "--role", "researcher", "--password", PASSWORD)
        print(f"loading {n} interviews into the database ...", flush=True)
        loaded = load_archive(project, n, researcher_email, archivist_email)
        print(f"  {loaded}", flush=True)
        print("oralhist reindex ...", flush=True)
        load_before = os.getloadavg()[0]
        rebuilt = reindex(project)
        print(f"  {rebuilt['output']}", flush=True)
        print("oralhist serve ...", flush=True)
        project.serve(args.workers, args.threads)
        researcher = project.oh("create-token", researcher_email).strip().splitlines()[-1]
        print("queries ...", flush=True)
        queries = run_queries(project, researcher, args.repeats)
        load_queries = os.getloadavg()[0]
        print("time to searchable ...", flush=True)
        searchable = time_to_searchable(project, archivist, researcher)
        result = {
            "interviews": n,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "server": {"workers": args.workers, "threads": args.threads},
            "repeats": args.repeats,
            "load_average_before_reindex": round(load_before, 2),
            "load_average_after_queries": round(load_queries, 2),
            "load": loaded,
            "reindex": rebuilt,
            "queries": queries,
            "searchable": searchable,
        }
        result["backend"] = args.backend
        suffix = "" if args.backend == "whoosh" else f"-{args.backend}"
        out = HERE / "results" / f"search-http-{n}{suffix}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(table(result))
        print(f"\nwritten to {out}")
    finally:
        project.stop()
        if database is not None:
            drop_database(database)
    return 0


def make_database(url: str) -> str:
    """A fresh, empty database on ``url``'s server; its URL."""
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url)
    name = f"oralhist_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
