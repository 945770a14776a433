"""A larger PostgreSQL search index made from a built one, inside the database: the schema of
``bench_search.py --backend postgresql --keep`` copied ``--times`` times over, each copy's
interview, document, segment and row ids shifted past the last (so 1,000 interviews become
10,000 with the same word statistics per interview), then indexed and analysed as a rebuild
does.

    python bench/pg_scale_copy.py --database-url URL --source bench_x --target bench_y --times 10

With ``--results``, it then measures the copy's searches (``bench_search.py --phase query``
with ``--interviews`` times the source's) and writes
``bench/results/search-<N>-postgresql.json`` (the copy's figures, the search figures, the
method): one command for the 10,000-interview figures.

Why: loading the generated 10,000-interview corpus (148 M words) through the Python analysis
takes hours on a shared two-core machine; copying rows in SQL takes minutes, and the search
cost depends on the rows, the posting lists and the groups, which this reproduces (every
word's posting list and every facet value x10). What it does not reproduce: a vocabulary
grown by the larger corpus (the generator's vocabulary is fixed, so little), and narrators
differ only by interview, not by name. The tally (layouts 3 to 5: stems, prefixes, stop
words, word pairs, capped prefixes and word triples) is counted again for the lexemes a
rebuild of the larger archive would tally (TALLY_THRESHOLD records of it). Prints JSON
with the times and the schema's size.

``--add-triples COPY_JSON`` brings a copy made at layout 4 to layout 5 in place (its rows are
the same; the triples' tally rows are counted from them), without copying again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from oralhist.search.pg_query import PAIR_MARK, PREFIX_MARK, STEM_MARK  # noqa: E402
from oralhist.search.postgres import (  # noqa: E402
    _INDEXES,
    REBUILD_MEMORY,
    TABLES,
    TALLY_THRESHOLD,
    PostgresSearch,
    capped_count_sql,
    capped_prefixes,
    tally_count_sql,
    triple_count_sql,
    triple_tally_sql,
)
from oralhist.search.schema import Language  # noqa: E402

# The lexemes to tally in the larger archive and how many of its records hold each.
_TALLY_WORDS = (
    'CREATE TEMP TABLE tally_words (lexeme text COLLATE "C" PRIMARY KEY, docs int) ON COMMIT DROP'
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--source", required=True, help="schema of a built index")
    parser.add_argument("--target", required=True, help="schema to (re)create")
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument(
        "--results",
        action="store_true",
        help="then measure the copy's searches and write bench/results/search-N-postgresql.json",
    )
    parser.add_argument(
        "--measure-only",
        metavar="COPY_JSON",
        help="with --results: measure an existing --target, whose copy printed COPY_JSON",
    )
    parser.add_argument(
        "--add-triples",
        metavar="COPY_JSON",
        help="bring an existing layout-4 --target, whose copy printed COPY_JSON, to layout 5"
        " (add the word triples' tally rows), then measure it with --results",
    )
    args = parser.parse_args()
    if args.results and not args.target.startswith("bench_"):
        parser.error("--results needs a --target named bench_<name> (as bench_search.py names)")
    if args.measure_only:
        target = PostgresSearch(args.database_url, schema=args.target)
        with target.engine.connect() as conn:
            interviews = conn.scalar(text(f"SELECT count(*) FROM {args.target}.card"))
        target.close()
        write_results(args, interviews, json.loads(args.measure_only))
        return 0
    if args.add_triples:
        built = json.loads(args.add_triples)
        built |= add_triples(args.database_url, args.target)
        built["load_average"] = os.getloadavg()[0]
        print(json.dumps(built))
        if args.results:
            target = PostgresSearch(args.database_url, schema=args.target)
            with target.engine.connect() as conn:
                interviews = conn.scalar(text(f"SELECT count(*) FROM {args.target}.card"))
            target.close()
            write_results(args, interviews, built)
        return 0
    target = PostgresSearch(args.database_url, schema=args.target)
    target.drop()
    target.create()
    s, t = args.source, args.target
    started = time.perf_counter()
    with target.engine.begin() as conn:
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'"))
        conn.execute(text(f"SET LOCAL work_mem = '{REBUILD_MEMORY}'"))
        for index, _, _ in _INDEXES:
            conn.execute(text(f"DROP INDEX {t}.{index}"))
        # The lexemes a rebuild of the larger archive would tally (in TALLY_THRESHOLD records
        # of it: 1/times as many in the source), and their per-slice counts in the source.
        conn.execute(text(_TALLY_WORDS))
        conn.execute(
            text(
                f"INSERT INTO tally_words SELECT u.lexeme, count(*) * :n FROM {s}.hit h"
                " CROSS JOIN LATERAL unnest(tsvector_to_array(h.tsv)) u(lexeme)"
                " GROUP BY 1 HAVING count(*) * :n >= :threshold"
                " AND (left(u.lexeme, 1) IN (:stem, :prefix, :pair) OR u.lexeme = ANY(:stop))"
            ),
            {
                "n": args.times,
                "threshold": TALLY_THRESHOLD,
                "stem": STEM_MARK,
                "prefix": PREFIX_MARK,
                "pair": PAIR_MARK,
                "stop": sorted(Language("en").stopwords),
            },
        )
        # The capped prefixes (layout 4): the tallied prefixes over the expansion cap, with
        # their most frequent words (the source's counts rank them as the copy's do).
        prefixes = conn.scalars(
            text("SELECT lexeme FROM tally_words WHERE left(lexeme, 1) = :p"), {"p": PREFIX_MARK}
        ).all()
        vocabulary = conn.execute(text(f"SELECT word, docs FROM {s}.word")).all()
        capped = capped_prefixes(prefixes, vocabulary)
        conn.execute(
            text(
                'CREATE TEMP TABLE tally_cap (word text COLLATE "C", lexeme text COLLATE "C")'
                " ON COMMIT DROP"
            )
        )
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy("COPY tally_cap FROM STDIN") as copy:
            for capped_lexeme, words in capped.items():
                for word in words:
                    copy.write_row((word, capped_lexeme))
        conn.execute(text("ANALYZE tally_cap"))
        conn.execute(
            text(
                "CREATE TEMP TABLE source_tally ON COMMIT DROP AS "
                + tally_count_sql(s, "", "tally_words")
                + " UNION ALL "
                + capped_count_sql(s, "", "tally_cap")
                + " UNION ALL "
                + triple_count_sql(s, "", "tally_words")
            )
        )
        _frequent_triples(conn, args.times)
        conn.execute(
            text(
                "INSERT INTO tally_words SELECT lexeme, sum(n) * :n FROM source_tally"
                " WHERE lexeme IN (SELECT lexeme FROM tally_cap) GROUP BY lexeme"
            ),
            {"n": args.times},
        )
        ids = _id_step(conn, s)
        interviews = conn.scalar(text(f"SELECT max(interview_id) FROM {s}.card"))
        documents = conn.scalar(text(f"SELECT coalesce(max(-gkey), 0) FROM {s}.slice"))
        gkey = f"CASE WHEN gkey > 0 THEN gkey + :k * {interviews} ELSE gkey - :k * {documents} END"
        iid = f"interview_id + :k * {interviews}"
        did = f"document_id + :k * {documents}"
        for k in range(args.times):
            p = {"k": k}
            conn.execute(
                text(
                    f"INSERT INTO {t}.slice SELECT id + :k * {ids}, {gkey}, kind, acl,"
                    f" published, level, embargo, owner_id, {iid}, {did}, speaker, speaker_key,"
                    f" year FROM {s}.slice"
                ),
                p,
            )
            conn.execute(
                text(
                    f"INSERT INTO {t}.hit SELECT id + :k * {ids}, {gkey}, slice + :k * {ids},"
                    f" tsv FROM {s}.hit"
                ),
                p,
            )
            conn.execute(
                text(
                    f"INSERT INTO {t}.record SELECT id + :k * {ids}, {gkey}, kind, {iid},"
                    f" {did}, segment_id + :k * {interviews} * 10000, start_ms, end_ms, speaker,"
                    f" title, body FROM {s}.record"
                ),
                p,
            )
            conn.execute(
                text(
                    f"INSERT INTO {t}.card SELECT {iid}, accession || '-' || :k, title,"
                    " collection, collection_title, narrators, narrator_keys, narrator_text,"
                    f" language, year, date_recorded FROM {s}.card"
                ),
                p,
            )
            print(f"copy {k + 1} of {args.times}", file=sys.stderr, flush=True)
        conn.execute(
            text(f"INSERT INTO {t}.word SELECT word, docs * :n FROM {s}.word"),
            {"n": args.times},
        )
        copied = time.perf_counter() - started
        for index, table, how in _INDEXES:
            conn.execute(text(f"CREATE INDEX {index} ON {t}.{table} {how}"))
        _insert_tally(conn, t, ids, args.times)
        for name in TABLES:
            conn.execute(text(f"ANALYZE {t}.{name}"))
        conn.execute(text(f"SELECT setval('{t}.ids', :n)"), {"n": ids * args.times})
    seconds = time.perf_counter() - started
    with target.engine.connect() as conn:
        size = conn.scalar(
            text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :s AND c.relkind = 'r'"
            ),
            {"s": t},
        )
        records = conn.scalar(text(f"SELECT count(*) FROM {t}.hit"))
        interviews = conn.scalar(text(f"SELECT count(*) FROM {t}.card"))
    target.close()
    built = {
        "records": records,
        "copy_seconds": round(copied, 1),
        "index_seconds": round(seconds - copied, 1),
        "schema_mb": round(int(size) / 2**20, 1),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(built))
    if args.results:
        write_results(args, interviews, built)
    return 0


def _id_step(conn, source: str) -> int:
    """How far each copy's row and slice ids are shifted (past the source's last)."""
    row_ids = conn.scalar(text(f"SELECT max(id) FROM {source}.hit")) + 1
    slice_ids = conn.scalar(text(f"SELECT max(id) FROM {source}.slice")) + 1
    return max(row_ids, slice_ids)


def _frequent_triples(conn, times: int) -> None:
    """Adds to ``tally_words`` the word triples of ``source_tally`` (layout 5) that a rebuild
    of the larger archive would tally (in TALLY_THRESHOLD records of it)."""
    conn.execute(
        text(
            "INSERT INTO tally_words SELECT lexeme, sum(n) * :n FROM source_tally"
            " WHERE lexeme LIKE :triple GROUP BY lexeme HAVING sum(n) * :n >= :threshold"
        ),
        {"n": times, "threshold": TALLY_THRESHOLD, "triple": f"{PAIR_MARK}% % %"},
    )


def _insert_tally(conn, target: str, ids: int, times: int) -> None:
    """The copy's ``tally``: the source's per-slice counts of the lexemes of ``tally_words``,
    once per copy (slice ids shifted)."""
    conn.execute(
        text(
            f"INSERT INTO {target}.tally (lexeme, docs, slices, ns, words) SELECT c.lexeme,"
            f" min(w.docs), array_agg(c.slice + k * {ids} ORDER BY k, c.slice),"
            " array_agg(c.n ORDER BY k, c.slice),"
            " (SELECT array_agg(p.word ORDER BY p.word) FROM tally_cap p"
            " WHERE p.lexeme = c.lexeme)"
            " FROM source_tally c JOIN tally_words w ON w.lexeme = c.lexeme"
            " CROSS JOIN generate_series(0, :n - 1) k GROUP BY c.lexeme"
        ),
        {"n": times},
    )


def add_triples(url: str, target: str) -> dict:
    """Brings an index of layout 4 (a copy made by the previous version of this script, or a
    kept ``bench_search.py`` schema) to layout 5: its ``hit`` rows are the same (triples are
    never written there), so only the triples' ``tally`` rows are added, counted from its own
    rows as a rebuild counts them (``triple_tally_sql``: exact whatever was written since the
    copy). Returns the seconds taken."""
    started = time.perf_counter()
    backend = PostgresSearch(url, schema=target)
    with backend.engine.begin() as conn:
        layout = conn.scalar(text(f"SELECT value FROM {target}.meta WHERE key = 'layout'"))
        if layout != "4":
            raise SystemExit(f"{target} is of layout {layout}, not 4: copy it again instead")
        conn.execute(text(f"SET LOCAL work_mem = '{REBUILD_MEMORY}'"))
        conn.execute(text(_TALLY_WORDS))
        conn.execute(
            text(
                f"INSERT INTO tally_words SELECT lexeme, docs FROM {target}.tally"
                " WHERE left(lexeme, 1) = :pair AND words IS NULL"
            ),
            {"pair": PAIR_MARK},
        )
        conn.execute(text(triple_tally_sql(target)), {"n": TALLY_THRESHOLD})
        conn.execute(text(f"ANALYZE {target}.tally"))
        conn.execute(text(f"UPDATE {target}.meta SET value = '5' WHERE key = 'layout'"))
    backend.close()
    return {"triples_seconds": round(time.perf_counter() - started, 1)}


def write_results(args: argparse.Namespace, interviews: int, built: dict) -> None:
    """Measure the copy's searches with ``bench_search.py --phase query`` and write them with
    the copy's figures to ``bench/results/search-<interviews>-postgresql.json``."""
    from oralhist.search.postgres import LAYOUT

    with tempfile.TemporaryDirectory() as work:
        # bench_search.py names the schema after the index folder's parent: bench_<name>.
        index_dir = Path(work) / args.target.removeprefix("bench_") / "index"
        index_dir.mkdir(parents=True)
        out = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "bench_search.py"),
                "--backend",
                "postgresql",
                "--database-url",
                args.database_url,
                "--phase",
                "query",
                "--interviews",
                str(interviews),
                "--index-dir",
                str(index_dir),
            ],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    search = json.loads(out.strip().splitlines()[-1])
    source_layout = "4" if getattr(args, "add_triples", None) else LAYOUT
    result = {
        "backend": "postgresql",
        "interviews": interviews,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "layout": LAYOUT,
        "method": (
            f"bench/pg_scale_copy.py --times {args.times} --results: the index of"
            f" bench_search.py --backend postgresql --keep (schema {args.source}, layout"
            f" {source_layout}) copied {args.times} times in SQL (ids shifted, the tally"
            " counted again"
            " for the lexemes a rebuild of the larger archive would tally), then"
            f" bench_search.py --phase query --interviews {interviews}; the generated corpus of"
            " that size was not loaded"
            + (
                f"; the copy was made at layout 4 and brought to layout {LAYOUT} in place"
                " (--add-triples: its rows are the same, the word triples' tally rows were"
                " counted from them)"
                if getattr(args, "add_triples", None)
                else ""
            )
        ),
        "build_by_copy": built,
        "search": search,
    }
    path = ROOT / "bench" / "results" / f"search-{interviews}-postgresql.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"p50 {search['p50_ms']} / p95 {search['p95_ms']} ms; written to {path}")


if __name__ == "__main__":
    sys.exit(main())
