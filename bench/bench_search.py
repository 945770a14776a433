"""Search benchmark: the synthetic archive through ``SearchIndex`` (no Flask, no database).

    python bench/bench_search.py --interviews 100      # about a minute
    python bench/bench_search.py --interviews 1000     # 15 M words: many minutes

1. Rebuild: the generated archive (``search_corpus``) into a fresh index with
   ``SearchIndex.rebuild`` (two processes); words/s, and peak RSS of the parent and of the
   indexing sub-processes (``/proc`` and ``getrusage``, no psutil). The generator runs inline,
   as the app's database read does; its cost alone is reported too.
2. Queries, in a fresh process (a serving worker): a fixed mixed set (common word, rare word,
   two words, phrase, prefix, speaker filter, year filter, plus a facet filter and a fuzzy
   word) through ``SearchIndex.search`` (grouped, highlighted, faceted, under a researcher's
   access scope with a few grants): cold run of each, then p50/p95/worst over timed repeats;
   RSS after the set.
3. The same queries against SQLite FTS5 over the same segments (porter stemming, the same
   access restriction as a join, ``snippet()`` for the 60 best moments, counts and a speaker
   facet): the reference, and the ratio of p95s.
4. Visibility: another process replaces an interview; the time until this worker's next
   queries see it.
5. Writes, in a fresh process: ``replace_interview`` of whole interviews (what a saved
   interview or transcript edit costs the index), the first cold, then warm ones: wall ms
   and CPU ms (with the PostgreSQL backend's); ``--phase writes`` alone on a kept index.

Prints a table and writes ``bench/results/search-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import search_corpus as corpus  # noqa: E402
from _server import rss_kb  # noqa: E402

from oralhist.search import SearchIndex, SearchScope  # noqa: E402

TODAY = 20261125
REPEATS = 5
#: ``--backend postgresql``: the database the PostgreSQL backend's tables go to.
PG_URL: str | None = None


def pg_schema(index_dir: Path) -> str:
    return (
        "bench_" + "".join(c if c.isalnum() else "_" for c in index_dir.parent.name.lower())[-40:]
    )


def open_index(index_dir: Path):
    """The backend under test: Whoosh in ``index_dir``, or PostgreSQL (``PG_URL``) in a
    schema named after the run's folder."""
    if PG_URL is None:
        return SearchIndex(index_dir)
    from oralhist.search.postgres import PostgresSearch

    return PostgresSearch(PG_URL, schema=pg_schema(Path(index_dir)))


def index_mb(ix, index_dir: Path) -> float:
    if PG_URL is None:
        return round(sum(p.stat().st_size for p in index_dir.iterdir()) / 2**20, 1)
    from sqlalchemy import text

    with ix.engine.connect() as conn:
        size = conn.scalar(
            text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :s AND c.relkind = 'r'"
            ),
            {"s": ix.schema},
        )
    return round(int(size or 0) / 2**20, 1)


def researcher_scope(n: int) -> SearchScope:
    """Several levels, and grants on a few restricted interviews (as an approved request)."""
    restricted = [
        corpus.interview_meta(i)["interview_id"]
        for i in range(n)
        if corpus.interview_meta(i)["access_level"] == "restricted"
    ]
    return SearchScope(
        levels=frozenset({"open", "registered"}),
        today=TODAY,
        granted_interview_ids=frozenset(restricted[:5]),
        owner_user_id=3,
        document_levels=frozenset({"open", "registered"}),
    )


def query_set() -> list[dict]:
    """(label, our query, filters, FTS5 MATCH, extra SQL condition on the segment row)."""
    rare = corpus._vocab(corpus.SEED).words[6000]
    return [
        {"label": "common word", "q": "work", "fts": "work"},
        {"label": "common word 2", "q": "family", "fts": "family"},
        {"label": "rare word", "q": rare, "fts": rare},
        {"label": "two words", "q": "union strike", "fts": "union strike"},
        {"label": "two words 2", "q": "mother factory", "fts": "mother factory"},
        {"label": "phrase", "q": '"picket line"', "fts": '"picket line"'},
        {"label": "phrase+stop", "q": '"the general strike"', "fts": '"the general strike"'},
        {"label": "prefix", "q": "trai*", "fts": "trai*"},
        {"label": "prefix 2", "q": "organ*", "fts": "organ*"},
        {
            "label": "speaker filter",
            "q": "speaker:clark union",
            "fts": "union",
            "where": "s.speaker LIKE '%Clark%'",
        },
        {
            "label": "year filter",
            "q": "mill year:1956..1960",
            "fts": "mill",
            "where": "s.year BETWEEN 1956 AND 1960",
        },
        {
            "label": "facet filter",
            "q": "strike",
            "filters": {"collection": "mill-town"},
            "fts": "strike",
            "where": "s.collection = 'mill-town'",
        },
        {"label": "fuzzy", "q": "schneidr~", "fts": "schneider"},
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ---------------------------------------------------------------- phases


def build(n: int, index_dir: Path) -> dict:
    docs_n = max(1, n // 2)
    started = time.perf_counter()
    words = sum(corpus.word_count(d) for d in corpus.interviews(min(n, 20)))
    gen_seconds_20 = time.perf_counter() - started
    if index_dir.exists():
        shutil.rmtree(index_dir)
    ix = open_index(index_dir)
    if PG_URL is not None:
        ix.drop()
    t = time.perf_counter()
    load_before = os.getloadavg()[0]
    stats = ix.rebuild(corpus.interviews(n), corpus.documents(docs_n))
    seconds = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    size_mb = index_mb(ix, index_dir)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "interviews": stats.interviews,
        "documents": stats.documents,
        "records": stats.records,
        "words": stats.words,
        "seconds": round(seconds, 2),
        "words_per_second": round(stats.words / seconds),
        "generator_seconds_estimate": round(gen_seconds_20 / min(n, 20) * n, 2),
        "words_per_second_without_generator": round(
            stats.words / max(0.001, seconds - gen_seconds_20 / min(n, 20) * n)
        ),
        "cpu_seconds_all_processes": round(cpu_seconds, 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "peak_rss_parent_mb": round(rss_kb("VmHWM") / 1024, 1),
        "peak_rss_indexing_process_mb": round(children / 1024, 1),
        "index_mb": size_mb,
        "sample_words_per_interview": round(words / min(n, 20)),
    }


def server_pids(ix) -> list[int]:
    """The PostgreSQL backend processes of ``ix``'s pooled connections, when the server runs
    on this machine (their CPU time is read from /proc); empty for Whoosh."""
    if PG_URL is None:
        return []
    from sqlalchemy import text

    with ix.engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    return [pid] if Path(f"/proc/{pid}/schedstat").exists() else []


def cpu_of(pids: list[int]) -> float:
    """CPU seconds these processes have run (``/proc/PID/schedstat``: nanoseconds, not the
    10 ms ticks of ``stat``); 0 when none can be read."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def run_queries(n: int, index_dir: Path) -> dict:
    """Runs in a fresh process: a serving worker's view. For PostgreSQL, the CPU time of the
    database's backend process is added to this process's: with the data cached, that sum is
    what a query costs on a quiet machine, whatever else this one runs."""
    scope = researcher_scope(n)
    ix = open_index(index_dir)
    rss_start = rss_kb()
    t = time.perf_counter()
    ix.check()
    first_open = ix.search("union", scope)
    open_ms = (time.perf_counter() - t) * 1000
    queries = query_set()
    per_query = {}
    timings: list[float] = []
    for item in queries:
        t = time.perf_counter()
        r = ix.search(item["q"], scope, filters=item.get("filters") or {})
        cold = (time.perf_counter() - t) * 1000
        per_query[item["label"]] = {
            "query": item["q"],
            "cold_ms": round(cold, 2),
            "groups": r.total_groups,
            "moments": r.total_moments,
            "notices": r.notices,
        }
    cpu: list[float] = []
    pids = server_pids(ix)
    for _ in range(REPEATS):
        for item in queries:
            t, c, sc = time.perf_counter(), time.process_time(), cpu_of(pids)
            ix.search(item["q"], scope, filters=item.get("filters") or {})
            ms = (time.perf_counter() - t) * 1000
            cpu_ms = (time.process_time() - c + cpu_of(pids) - sc) * 1000
            timings.append(ms)
            cpu.append(cpu_ms)
            per_query[item["label"]].setdefault("runs_ms", []).append(round(ms, 2))
            per_query[item["label"]].setdefault("cpu_ms", []).append(round(cpu_ms, 2))
    for v in per_query.values():
        v["median_ms"] = round(statistics.median(v["runs_ms"]), 2)
        v["median_cpu_ms"] = round(statistics.median(v["cpu_ms"]), 2)
    worst_label = max(per_query, key=lambda k: max(per_query[k]["runs_ms"]))
    # A second page and a date sort, as a researcher pages on.
    t = time.perf_counter()
    ix.search("work", scope, page=2)
    ix.search("union strike", scope, sort="date")
    extra_ms = (time.perf_counter() - t) * 1000 / 2
    return {
        "open_and_first_query_ms": round(open_ms, 1),
        "first_query_groups": first_open.total_groups,
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "worst_ms": round(max(timings), 2),
        "worst_query": worst_label,
        # CPU time of the process (and of its PostgreSQL backend): what the query costs,
        # whatever else the machine runs
        "cpu_includes_database_server": bool(pids),
        "cpu_p50_ms": round(percentile(cpu, 50), 2),
        "cpu_p95_ms": round(percentile(cpu, 95), 2),
        "load_average": os.getloadavg()[0],
        "page2_and_date_sort_mean_ms": round(extra_ms, 2),
        "rss_start_mb": round(rss_start / 1024, 1),
        "rss_after_queries_mb": round(rss_kb() / 1024, 1),
        # What the process holds itself, and the index's pages it has mapped (page cache,
        # shared with every process reading the index, given back under memory pressure).
        "rss_anon_after_queries_mb": round(rss_kb("RssAnon") / 1024, 1),
        "rss_file_after_queries_mb": round(rss_kb("RssFile") / 1024, 1),
        "peak_rss_mb": round(rss_kb("VmHWM") / 1024, 1),
        "queries": per_query,
    }


def fts5(n: int, db_path: Path) -> dict:
    scope = researcher_scope(n)
    if db_path.exists():
        db_path.unlink()
    con = sqlite3.connect(db_path)
    con.executescript(
        """
        CREATE TABLE interview (id INTEGER PRIMARY KEY, level TEXT, status TEXT,
                                embargo INTEGER, collection TEXT, year INTEGER);
        CREATE TABLE seg (id INTEGER PRIMARY KEY, interview_id INTEGER, start_ms INTEGER,
                          speaker TEXT, year INTEGER, collection TEXT, text TEXT);
        CREATE VIRTUAL TABLE seg_fts USING fts5(text, content='seg', content_rowid='id',
                          tokenize='porter unicode61 remove_diacritics 2');
        """
    )
    t = time.perf_counter()
    for docs in corpus.interviews(n):
        meta = docs[0]
        con.execute(
            "INSERT INTO interview VALUES (?,?,?,?,?,?)",
            (
                meta["interview_id"],
                meta["access_level"],
                meta["status"],
                meta["embargo_until"],
                meta["collection"],
                meta["year"],
            ),
        )
        con.executemany(
            "INSERT INTO seg VALUES (?,?,?,?,?,?,?)",
            [
                (
                    d["segment_id"],
                    d["interview_id"],
                    d["start_ms"],
                    d["speaker"],
                    d["year"],
                    d["collection"],
                    d["text"],
                )
                for d in docs
                if d["kind"] == "segment"
            ],
        )
    con.execute("INSERT INTO seg_fts(seg_fts) VALUES ('rebuild')")
    con.commit()
    build_seconds = time.perf_counter() - t
    levels = ",".join(f"'{lv}'" for lv in sorted(scope.levels))
    granted = ",".join(str(i) for i in sorted(scope.granted_interview_ids)) or "0"
    visible = (
        f"(i.id IN ({granted}) OR (i.status = 'published' AND i.level IN ({levels})"
        f" AND i.embargo <= {scope.today}))"
    )
    timings: list[float] = []
    per_query = {}

    def run(item) -> tuple[float, float]:
        where = f"seg_fts MATCH ? AND {visible}"
        if item.get("where"):
            where += " AND " + item["where"]
        base = f"FROM seg_fts JOIN seg s ON s.id = seg_fts.rowid JOIN interview i ON i.id = s.interview_id WHERE {where}"  # noqa: E501
        t, c = time.perf_counter(), time.process_time()
        counts = con.execute(
            f"SELECT count(*), count(DISTINCT s.interview_id) {base}", (item["fts"],)
        ).fetchone()
        speakers = con.execute(
            f"SELECT s.speaker, count(*) {base} GROUP BY s.speaker ORDER BY 2 DESC LIMIT 50",
            (item["fts"],),
        ).fetchall()
        moments = con.execute(
            f"SELECT s.interview_id, s.start_ms, s.speaker,"
            f" snippet(seg_fts, 0, '<mark>', '</mark>', '…', 24) {base}"
            f" ORDER BY rank LIMIT 60",
            (item["fts"],),
        ).fetchall()
        ms = (time.perf_counter() - t) * 1000
        cpu_ms = (time.process_time() - c) * 1000
        per_query.setdefault(item["label"], {"matches": counts[0], "groups": counts[1]})
        del speakers, moments
        return ms, cpu_ms

    cpu: list[float] = []
    for item in query_set():
        run(item)
    for _ in range(REPEATS):
        for item in query_set():
            ms, cpu_ms = run(item)
            timings.append(ms)
            cpu.append(cpu_ms)
    con.close()
    return {
        "build_seconds": round(build_seconds, 1),
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "worst_ms": round(max(timings), 2),
        "cpu_p50_ms": round(percentile(cpu, 50), 2),
        "cpu_p95_ms": round(percentile(cpu, 95), 2),
        "queries": per_query,
    }


def write_one(index_dir: str, marker: str) -> None:
    """(In another process) replace one interview, print when its commit returned."""
    ix = open_index(Path(index_dir))
    docs = corpus.interview_docs(0)
    for d in docs:
        if d["kind"] == "segment" and d["position"] == 7:
            d["text"] += f" {marker}"
        d["access_level"], d["status"], d["embargo_until"] = "open", "published", 0
    t = time.time()
    ix.replace_interview(docs[0]["interview_id"], docs)
    print(json.dumps({"committed_at": time.time(), "write_seconds": time.time() - t}))


#: Writes timed by ``--phase writes`` after the first (cold) one.
WRITE_ROUNDS = 10


def writes(n: int, index_dir: Path) -> dict:
    """Runs in a fresh process: the write path, ``replace_interview`` of whole interviews of
    the archive (what every saved interview and transcript edit does through the search
    outbox): the first write cold (a fresh process and connection), then ``WRITE_ROUNDS``
    warm ones, each of another interview. Wall ms, and CPU ms of this process plus, for
    PostgreSQL, of its database backend (``cpu_of``). The documents are generated before the
    clock starts; the rows written are the same as the rebuild's, so searches are unchanged."""
    ix = open_index(index_dir)
    count = min(n, WRITE_ROUNDS + 1)
    sample = [corpus.interview_docs(i) for i in range(count)]
    pids = server_pids(ix)
    runs = []
    for docs in sample:
        t, c, sc = time.perf_counter(), time.process_time(), cpu_of(pids)
        ix.replace_interview(docs[0]["interview_id"], docs)
        ms = (time.perf_counter() - t) * 1000
        cpu_ms = (time.process_time() - c + cpu_of(pids) - sc) * 1000
        runs.append({"records": len(docs), "ms": round(ms, 1), "cpu_ms": round(cpu_ms, 1)})
    warm = runs[1:] or runs
    return {
        "cold_ms": runs[0]["ms"],
        "cold_cpu_ms": runs[0]["cpu_ms"],
        "warm_median_ms": round(statistics.median(r["ms"] for r in warm), 1),
        "warm_median_cpu_ms": round(statistics.median(r["cpu_ms"] for r in warm), 1),
        "records_per_interview_mean": round(statistics.mean(r["records"] for r in runs)),
        "cpu_includes_database_server": bool(pids),
        "load_average": os.getloadavg()[0],
        "runs": runs,
    }


def visibility(n: int, index_dir: Path) -> dict:
    scope = researcher_scope(n)
    ix = open_index(index_dir)
    ix.search("union", scope)
    # A word no index holds yet (fresh per run: --skip-build reuses an index).
    marker = "zq" + "".join(random.SystemRandom().choice("bcdfghjklmnpqrstvwxz") for _ in range(10))
    command = [sys.executable, __file__, *_backend_args(), "--phase", "write"]
    proc = subprocess.Popen(
        [*command, "--index-dir", str(index_dir), marker],
        stdout=subprocess.PIPE,
        text=True,
    )
    polls = 0
    seen_at = None
    deadline = time.time() + 600
    while time.time() < deadline:
        polls += 1
        if ix.search(marker, scope).total_moments:
            seen_at = time.time()
            break
        time.sleep(0.005)
    out, _ = proc.communicate(timeout=600)
    written = json.loads(out.strip().splitlines()[-1])
    t = time.perf_counter()
    after = ix.search("union", scope)
    query_after_ms = (time.perf_counter() - t) * 1000
    return {
        "write_seconds": round(written["write_seconds"], 3),
        # Measured from the writer's commit call returning; 0 when this worker already saw
        # the change by then (the table of contents is written last).
        "visible_after_commit_ms": (
            None
            if seen_at is None
            else max(0.0, round((seen_at - written["committed_at"]) * 1000, 1))
        ),
        "polls": polls,
        "next_other_query_ms": round(query_after_ms, 2),
        "groups_after": after.total_groups,
    }


# ---------------------------------------------------------------- main


def _backend_args() -> list[str]:
    return [] if PG_URL is None else ["--backend", "postgresql", "--database-url", PG_URL]


def subphase(phase: str, n: int, index_dir: Path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            *_backend_args(),
            "--phase",
            phase,
            "--interviews",
            str(n),
            "--index-dir",
            str(index_dir),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(result: dict) -> str:
    b, q, v = result["build"], result["search"], result["visibility"]
    f = result["fts5"] or {k: "-" for k in ("p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms")}
    rows = [
        ("interviews / words", f"{b['interviews']} / {b['words']:,}", ""),
        ("rebuild words/s", f"{b['words_per_second']:,}", ">= 150,000"),
        ("  CPU s, all processes", f"{b['cpu_seconds_all_processes']}", ""),
        ("  without the generator", f"{b['words_per_second_without_generator']:,}", ""),
        (
            "rebuild peak RSS parent / indexer (MB)",
            f"{b['peak_rss_parent_mb']} / {b['peak_rss_indexing_process_mb']}",
            "< 400",
        ),
        ("index size (MB)", f"{b['index_mb']}", ""),
        ("search p50 (ms)", f"{q['p50_ms']}", "<= 6"),
        ("search p95 (ms)", f"{q['p95_ms']}", "<= 50"),
        ("worst single query (ms)", f"{q['worst_ms']} ({q['worst_query']})", ""),
        ("search CPU p50 / p95 (ms)", f"{q['cpu_p50_ms']} / {q['cpu_p95_ms']}", ""),
        ("FTS5 p50 / p95 (ms)", f"{f['p50_ms']} / {f['p95_ms']}", ""),
        ("FTS5 CPU p50 / p95 (ms)", f"{f['cpu_p50_ms']} / {f['cpu_p95_ms']}", ""),
        (
            "p95 ratio search / FTS5 (wall, CPU)",
            f"{result['p95_ratio']}, {result['cpu_p95_ratio']}",
            "<= 2",
        ),
        ("load average during queries", f"{q['load_average']}", ""),
        ("serving RSS after queries (MB)", f"{q['rss_after_queries_mb']}", "< 500"),
        (
            "  of it anonymous / mapped index (MB)",
            f"{q.get('rss_anon_after_queries_mb')} / {q.get('rss_file_after_queries_mb')}",
            "",
        ),
        ("visible in another process (ms)", f"{v['visible_after_commit_ms']}", "< 1000"),
        ("  its write took (s)", f"{v['write_seconds']}", ""),
    ]
    w = result.get("writes")
    if w:
        rows += [
            ("write an interview, cold: wall / CPU ms", f"{w['cold_ms']} / {w['cold_cpu_ms']}", ""),
            (
                "  warm, median: wall / CPU ms",
                f"{w['warm_median_ms']} / {w['warm_median_cpu_ms']}",
                "",
            ),
        ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure'.ljust(width)}  {'value':>24}  goal"]
    lines += [f"{a.ljust(width)}  {b_:>24}  {c}" for a, b_, c in rows]
    lines.append("")
    lines.append(
        f"{'query':<16} {'median ms':>10} {'cpu ms':>8} {'cold':>8} {'groups':>7} {'moments':>8}"
    )
    for label, d in q["queries"].items():
        lines.append(
            f"{label:<16} {d['median_ms']:>10} {d['median_cpu_ms']:>8} {d['cold_ms']:>8}"
            f" {d['groups']:>7} {d['moments']:>8}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the index afterwards")
    parser.add_argument(
        "--skip-build", action="store_true", help="reuse --index-dir (build figures omitted)"
    )
    parser.add_argument(
        "--backend",
        choices=("whoosh", "postgresql", "both"),
        default="whoosh",
        help="the search backend to measure (both: one after the other, same corpus)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("OH_BENCH_DATABASE_URL"),
        help="postgresql+psycopg:// URL for --backend postgresql (or OH_BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--skip-fts5",
        action="store_true",
        help="leave out the FTS5 reference (at 10,000 interviews its build takes long)",
    )
    parser.add_argument("--phase", default="all", help=argparse.SUPPRESS)
    parser.add_argument("marker", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.interviews
    global PG_URL
    if args.backend in ("postgresql", "both") and not args.database_url:
        parser.error("--backend postgresql needs --database-url (or OH_BENCH_DATABASE_URL)")
    if args.backend == "both" and args.phase == "all":
        for backend in ("whoosh", "postgresql"):
            PG_URL = args.database_url if backend == "postgresql" else None
            run_all(args, n, backend)
        return 0
    if args.backend == "postgresql":
        PG_URL = args.database_url
    if args.phase == "write":
        write_one(str(args.index_dir), args.marker)
        return 0
    if args.phase == "build":
        print(json.dumps(build(n, args.index_dir)))
        return 0
    if args.phase == "query":
        print(json.dumps(run_queries(n, args.index_dir)))
        return 0
    if args.phase == "writes":
        print(json.dumps(writes(n, args.index_dir)))
        return 0

    run_all(args, n, args.backend)
    return 0


def run_all(args, n: int, backend: str) -> None:
    """Every phase for one backend; the PostgreSQL run skips the FTS5 reference (the same
    as Whoosh's) and writes ``search-<N>-postgresql.json``."""
    work = Path(tempfile.mkdtemp(prefix=f"oralhist-bench-search-{n}-"))
    index_dir = args.index_dir or work / "index"
    suffix = "" if backend == "whoosh" else f"-{backend}"
    try:
        if args.skip_build:
            build_result = json.loads((HERE / "results" / f"search-{n}{suffix}.json").read_text())[
                "build"
            ]
        else:
            print(f"building {n} interviews into {index_dir} ...", flush=True)
            build_result = subphase("build", n, index_dir)
        print("querying ...", flush=True)
        search_result = subphase("query", n, index_dir)
        if backend == "whoosh" and not args.skip_fts5:
            print("FTS5 reference ...", flush=True)
            fts_result = fts5(n, work / "fts5.sqlite")
        else:
            previous = HERE / "results" / f"search-{n}.json"
            fts_result = json.loads(previous.read_text())["fts5"] if previous.exists() else None
        print("visibility ...", flush=True)
        vis = visibility(n, index_dir)
        print("writes ...", flush=True)
        written = subphase("writes", n, index_dir)
        result = {
            "backend": backend,
            "interviews": n,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "build": build_result,
            "search": search_result,
            "fts5": fts_result,
            "p95_ratio": fts_result
            and round(search_result["p95_ms"] / max(0.001, fts_result["p95_ms"]), 2),
            "cpu_p95_ratio": fts_result
            and round(search_result["cpu_p95_ms"] / max(0.001, fts_result["cpu_p95_ms"]), 2),
            "visibility": vis,
            "writes": written,
        }
        out = HERE / "results" / f"search-{n}{suffix}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(table(result))
        print(f"\nwritten to {out}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if PG_URL is not None:
                ix = open_index(index_dir)
                ix.drop()
                ix.close()


if __name__ == "__main__":
    sys.exit(main())
