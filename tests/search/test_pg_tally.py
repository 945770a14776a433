"""The PostgreSQL backend's fast paths give exactly what its GIN path gives: a frequent
lexeme's counts read from ``tally`` (issue 18), a prefix over the expansion cap counted from
its capped ``tally`` row, a simple prefix matched as its one prefix lexeme (``>trai``) instead
of the OR of its words, and a phrase matched through its word-pair lexemes (``=picket line``)
instead of its words' positions alone. The same queries run through every path on
a generated archive (the tally threshold forced low so that most lexemes are tallied), before
and after incremental writes, and every result (totals, groups and their order, moments,
snippets, facets, notices, suggestions) must be equal; the tally must equal a recount."""

from __future__ import annotations

import os
import random
import uuid

import pytest
from sqlalchemy import text

from oralhist.search import pg_query, postgres
from oralhist.search.postgres import (
    MAX_POSITION,
    PostgresSearch,
    Record,
    Triples,
    _record_lexemes,
    capped_count_sql,
    chained_pairs_sql,
    tally_count_sql,
    triple_count_sql,
)
from oralhist.search.schema import Language, folded_words

from .conftest import ANONYMOUS, ARCHIVIST, RESEARCHER, document, interview

URL = os.environ.get("OH_TEST_DATABASE_URL") or ""
pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"),
    reason="the postgresql search backend needs PostgreSQL: set OH_TEST_DATABASE_URL to a"
    " postgresql+psycopg:// URL",
)

#: A vocabulary whose words share stems and prefixes ("work", "worked", "working", "worker";
#: "train", "trains", "trainee", "trail") and one prefix with more words than MAX_EXPANSIONS.
WORDS = [
    "work",
    "worked",
    "working",
    "worker",
    "workers",
    "union",
    "unions",
    "strike",
    "strikes",
    "striking",
    "mill",
    "mills",
    "miller",
    "train",
    "trains",
    "trained",
    "trainee",
    "trail",
    "trailer",
    "mother",
    "factory",
    "the",
    "and",
    "of",
    "picket",
    "line",
    "general",
    "organise",
    "organised",
    "organising",
    "organ",
    "organic",
    "wages",
    "wage",
] + [f"zap{i:03d}" for i in range(70)]
SPEAKERS = ("Kate Clark", "Interviewer", "Tom Miller")
LEVELS = ("open", "open", "registered", "restricted", "closed")


def _sentence(rng: random.Random) -> str:
    return " ".join(
        rng.choice(WORDS[:36]) if rng.random() < 0.85 else rng.choice(WORDS)
        for _ in range(rng.randint(3, 12))
    )


#: Phrases every third segment ends with (without drawing from the generator), so that some
#: word triples are frequent: they are tallied (layout 5).
PHRASES = ("the general strike", "of the union", "the union of", "work of the", "")


def _interview(i: int, rng: random.Random) -> list[dict]:
    segments = [(rng.choice(SPEAKERS), _sentence(rng)) for _ in range(rng.randint(5, 25))]
    return interview(
        i,
        [
            (who, f"{said} {PHRASES[(i + j) % len(PHRASES)]}" if j % 3 == 0 else said)
            for j, (who, said) in enumerate(segments)
        ],
        title=f"Interview {i} on " + _sentence(rng),
        collection=rng.choice(("labour-lives", "mill-town")),
        narrators=(rng.choice(("Kate Clark", "Ann Wright", "Tom Miller")),),
        year=rng.choice((1951, 1957, 1963, 1978, None)),
        access_level=rng.choice(LEVELS),
        status="draft" if rng.random() < 0.1 else "published",
        embargo_until=20300101 if rng.random() < 0.1 else 0,
        owner_id=rng.choice((7, 42)),
        summary=_sentence(rng),
        index_points=[{"start_ms": 5_000, "title": _sentence(rng), "synopsis": _sentence(rng)}],
    )


def _archive(seed: int, n: int = 24) -> tuple[list[list[dict]], list[dict]]:
    rng = random.Random(seed)
    interviews = [_interview(i, rng) for i in range(1, n + 1)]
    documents = [
        document(d, f"Document {d}", _sentence(rng), access_level=rng.choice(LEVELS[:3]))
        for d in range(1, 6)
    ]
    return interviews, documents


QUERIES = [
    ("work", {}),
    ("working", {}),
    ("the", {}),
    ('"worker"', {}),
    ("the union", {}),
    ("strike speaker:clark", {}),
    ("mill kind:segment", {}),
    ("mill kind:interview", {}),
    ("mill kind:document", {}),
    ("wages year:1955..1965", {}),
    ("union collection:mill-town", {}),
    ('union narrator:"ann wright"', {}),
    ("work -speaker:interviewer", {}),
    ("work (speaker:clark OR speaker:miller)", {}),
    ("work", {"collection": "mill-town"}),
    ("work", {"speaker": "Kate Clark"}),
    ("work", {"kind": "segment"}),
    ("work", {"decade": "1950"}),
    ("work", {"language": "en"}),
    ("wor*", {}),
    ("work*", {}),
    ("trai*", {}),
    ("train*", {}),
    ("traine*", {}),
    ("organis*", {}),
    ("org*", {"speaker": "Tom Miller"}),
    ("zap*", {}),
    ("zap0*", {}),
    ("zap00*", {}),
    ("work union", {}),
    ('"picket line"', {}),
    ('"the union"', {}),
    ('"picket line" speaker:clark', {}),
    ('"picket line"', {"kind": "segment"}),
    ('"the general strike"', {}),
    ('"the general strike" speaker:clark', {}),
    ('"the general strike"', {"kind": "segment"}),
    ('"the union of"', {"collection": "mill-town"}),
    ('"of the union"', {}),
    ('"work of the"', {"decade": "1950"}),
    ('"strike strike strike"', {}),
    ('"zap001 zap002 zap003"', {}),
    ('"of the union" mill', {}),
    ('work -"of the union"', {}),
    ('"of the union" OR "picket line"', {}),
    ('"work of the mill"', {}),
    ('"strike strike"', {}),
    ('work -"the union"', {}),
    ('"mill worker" OR "picket line"', {}),
    ("zap*", {"speaker": "Tom Miller"}),
    ("work -union", {}),
    ("strike OR wages", {}),
    ("tra?n*", {}),
    ("facory~", {}),
    ("nothingmatches", {}),
]


def _results(ix: PostgresSearch) -> list:
    out = []
    for q, filters in QUERIES:
        for scope in (ANONYMOUS, RESEARCHER, ARCHIVIST):
            for sort, page, per_page in (("relevance", 1, 5), ("date", 2, 3), ("relevance", 1, 50)):
                out.append(
                    (
                        q,
                        ix.search(
                            q, scope, filters=filters, sort=sort, page=page, per_page=per_page
                        ),
                    )
                )
    return out


#: The lexemes the searches of the last ``_compare_paths`` counted from ``tally``.
TALLIED: list[str] = []


def _compare_paths(ix: PostgresSearch, monkeypatch) -> int:
    """Every query through every path (and both ways of reading a page's moments); returns
    how many went through the tally. The paths: the tally (with capped prefixes and pairs);
    the tally with a prefix over the cap counted as its prefix less the words left out; the
    GIN index (pairs for phrases); the GIN index with phrases matched by their words'
    positions alone; and prefixes as the OR of their words."""
    tallied = []
    TALLIED.clear()
    original = PostgresSearch._tallied

    def spy(self, conn, lexeme):
        found = original(self, conn, lexeme)
        tallied.append(bool(found))
        if found:
            TALLIED.append(lexeme)
        return found

    monkeypatch.setattr(PostgresSearch, "_tallied", spy)
    monkeypatch.setattr(postgres, "PAGE_SCAN_MATCHES", 0)  # pages read their groups whole
    fast = _results(ix)
    used = sum(tallied)
    monkeypatch.setattr(postgres, "USE_CAPPED", False)
    excess = _results(ix)
    monkeypatch.setattr(postgres, "PAGE_SCAN_MATCHES", 10**9)  # pages through the GIN index
    monkeypatch.setattr(postgres, "USE_TALLY", False)
    gin = _results(ix)
    monkeypatch.setattr(pg_query, "USE_TRIPLES", False)  # (one path of each switched off)
    monkeypatch.setattr(pg_query, "USE_PAIRS", False)  # phrases by their words' positions
    positions = _results(ix)
    monkeypatch.setattr(pg_query, "PREFIX_LENGTHS", (3, 2))  # no prefix lexeme is read
    words = _results(ix)
    monkeypatch.setattr(postgres, "USE_TALLY", True)
    monkeypatch.setattr(postgres, "USE_CAPPED", True)
    monkeypatch.setattr(pg_query, "USE_PAIRS", True)
    monkeypatch.setattr(pg_query, "USE_TRIPLES", True)
    monkeypatch.setattr(pg_query, "PREFIX_LENGTHS", postgres.PREFIX_LENGTHS)
    for (q, a), *others in zip(fast, excess, gin, positions, words, strict=True):
        for _, b in others:
            assert a == b, q
    assert any(r.total_groups for _, r in fast)
    return used


def _capped_uses(monkeypatch) -> list[str]:
    """The lexemes of the capped ``tally`` rows that searches count from (filled as they
    run)."""
    used: list[str] = []
    original = PostgresSearch._capped

    def spy(self, conn, part):
        found = original(self, conn, part)
        if found is not part:
            used.append(found.lexeme)
        return found

    monkeypatch.setattr(PostgresSearch, "_capped", spy)
    return used


def _assert_tally_is_a_recount(ix: PostgresSearch) -> None:
    """What ``tally`` and ``tally_more`` count for the live slices is what ``hit`` has."""
    s = ix.schema
    with ix.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TEMP TABLE words AS SELECT lexeme FROM {s}.tally WHERE words IS NULL"
                " AND lexeme NOT LIKE '=% % %'"
            )
        )
        conn.execute(
            text(
                f"CREATE TEMP TABLE capped AS SELECT w AS word, lexeme FROM {s}.tally,"
                " unnest(words) w"
            )
        )
        recount = conn.execute(text(tally_count_sql(s, "", "words"))).all()
        recount += conn.execute(text(capped_count_sql(s, "", "capped"))).all()
        # The triples, recounted by matching each as a phrase of its words' positions.
        for triple in conn.scalars(
            text(f"SELECT lexeme FROM {s}.tally WHERE lexeme LIKE '=% % %'")
        ):
            phrase = " <-> ".join(pg_query.lexeme(w) for w in triple[1:].split(" "))
            recount += [
                (triple, sid, n)
                for sid, n in conn.execute(
                    text(
                        f"SELECT slice, count(*) FROM {s}.hit"
                        " WHERE tsv @@ CAST(:q AS tsquery) GROUP BY 1"
                    ),
                    {"q": phrase},
                )
            ]
        stored = conn.execute(
            text(
                f"""SELECT c.lexeme, c.slice, sum(c.n) FROM (
                    SELECT t.lexeme, u.slice, u.n FROM {s}.tally t,
                        unnest(t.slices, t.ns) u(slice, n)
                    UNION ALL SELECT lexeme, slice, n FROM {s}.tally_more
                ) c JOIN {s}.slice r ON r.id = c.slice GROUP BY 1, 2"""
            )
        ).all()
        conn.execute(text("DROP TABLE words"))
        conn.execute(text("DROP TABLE capped"))
    assert sorted(stored) == sorted(recount)
    assert stored


def _assert_vocabulary_is_a_recount(ix: PostgresSearch) -> None:
    """The vocabulary's record counts (kept by writes) are those of the words in ``hit``
    (a giant record's words left out of it included: neither counts them)."""
    s = ix.schema
    with ix.engine.connect() as conn:
        words = conn.execute(text(f"SELECT word, docs FROM {s}.word WHERE docs <> 0")).all()
        recounted = conn.execute(
            text(
                f"SELECT u.lexeme, count(*) FROM {s}.hit h, unnest(h.tsv) u"
                " WHERE u.positions IS NOT NULL GROUP BY 1"
            )
        ).all()
    assert sorted(words) == sorted(recounted)


@pytest.fixture
def ix(monkeypatch):
    monkeypatch.setattr(postgres, "TALLY_THRESHOLD", 3)
    backend = PostgresSearch(URL, schema=f"t_{uuid.uuid4().hex[:16]}")
    interviews, documents = _archive(1957)
    backend.rebuild(interviews, documents)
    yield backend
    backend.drop()
    backend.close()


def test_the_tally_and_the_prefix_lexemes_give_what_the_gin_path_gives(ix, monkeypatch):
    with ix.engine.connect() as conn:
        tallied = set(conn.scalars(text(f"SELECT lexeme FROM {ix.schema}.tally")))
        rare = conn.scalar(
            text(f"SELECT count(*) FROM {ix.schema}.word WHERE docs < 3 AND docs > 0")
        )
    assert {"~work", "the", ">tra", ">trai", ">work", "=the union"} <= tallied
    # Word triples: only the frequent pairs' (layout 5), never written in ``hit``.
    assert {"=the general strike", "=of the union"} <= tallied
    assert "=zap001 zap002 zap003" not in tallied
    assert sum(lex.startswith("=") for lex in tallied) > 20  # word pairs
    assert ">zap*" in tallied  # zap* has more words than MAX_EXPANSIONS
    assert "worker" not in tallied  # a word, not a stop word: searched by its stem
    assert rare  # some words stay on the GIN path
    _assert_tally_is_a_recount(ix)
    capped = _capped_uses(monkeypatch)
    assert _compare_paths(ix, monkeypatch) > 100
    assert ">zap*" in capped
    assert {"=the general strike", "=of the union", "=the union of"} <= set(TALLIED)


def test_writes_keep_the_tally_exact(ix, monkeypatch):
    rng = random.Random(7)
    ix.replace_interview(3, _interview(3, rng))
    ix.delete_interview(5)
    ix.replace_interview(40, _interview(40, rng))  # new: its words are counted if tallied
    ix.replace_document(2, None)
    ix.replace_document(9, document(9, "Work of the mill", "work work strike", year=1960))
    ix.replace_interview(7, _interview(7, rng))
    # A tallied triple written twice in one record, and across a giant record's capped
    # positions (its words at MAX_POSITION).
    ix.replace_interview(
        8, interview(8, [("Kate Clark", "the general strike and the general strike")])
    )
    ix.replace_interview(
        9, interview(9, [("Tom Miller", "mill " * 16_381 + "the general strike of the union")])
    )
    # Folded and accented words; a stop word past its 255 written positions (its last
    # triple is not written); a triple ending at MAX_POSITION; a giant record whose words
    # are left out, with triples before and among them.
    ix.replace_interview(
        10,
        interview(
            10,
            [
                ("Kate Clark", "THÉ Général STRIKE, of thé Union! Work, of the; ünion"),
                ("Tom Miller", "the " * 300 + "general strike and the general strike"),
                ("Ann Wright", "mill " * 16_380 + "the general strike the union of"),
                (
                    "Kate Clark",
                    "of the union "
                    + " ".join(f"w{i % 90_000:06d}" for i in range(200_000))
                    + " the general strike",
                ),
            ],
        ),
    )
    with ix.engine.connect() as conn:
        written = set(
            conn.scalars(
                text(
                    f"SELECT m.lexeme FROM {ix.schema}.tally_more m JOIN {ix.schema}.slice r"
                    " ON r.id = m.slice WHERE r.gkey = 10"
                )
            )
        )
    assert {"=the general strike", "=of the union", "=work of the"} <= written
    _assert_tally_is_a_recount(ix)
    # The vocabulary counts the words written, a giant record's left out ones not: it stays
    # a recount when that record is written, replaced and removed.
    _assert_vocabulary_is_a_recount(ix)
    assert _compare_paths(ix, monkeypatch) > 100
    assert "=the general strike" in TALLIED
    ix.replace_interview(10, interview(10, [("Kate Clark", "the general strike")]))
    _assert_vocabulary_is_a_recount(ix)
    ix.delete_interview(9)
    _assert_vocabulary_is_a_recount(ix)


def test_writes_of_a_capped_prefixs_words_keep_its_row_exact(ix, monkeypatch):
    with ix.engine.connect() as conn:
        top = conn.scalar(text(f"SELECT words FROM {ix.schema}.tally WHERE lexeme = '>zap*'"))
    assert len(top) == 64
    # More records of the most frequent words only: the words searched stay the same, and
    # the new records are counted in ``tally_more`` under the capped lexeme.
    ix.replace_interview(80, interview(80, [("Kate Clark", " ".join(top[:40]))]))
    ix.replace_interview(81, interview(81, [("Tom Miller", " ".join(top[30:]) + " work")]))
    ix.replace_interview(3, interview(3, [("Tom Miller", "the general strike " * 300)]))
    ix.delete_interview(4)
    _assert_tally_is_a_recount(ix)
    _assert_vocabulary_is_a_recount(ix)
    capped = _capped_uses(monkeypatch)
    assert _compare_paths(ix, monkeypatch) > 100
    assert ">zap*" in capped


def test_a_capped_prefix_whose_most_frequent_words_changed_is_counted_without_its_row(
    ix, monkeypatch
):
    with ix.engine.connect() as conn:
        top = conn.scalar(text(f"SELECT words FROM {ix.schema}.tally WHERE lexeme = '>zap*'"))
        left_out = sorted(
            set(conn.scalars(text(f"SELECT word FROM {ix.schema}.word WHERE word LIKE 'zap%'")))
            - set(top)
        )
    assert left_out
    # Writes make the words left out the most frequent: the capped row's words are no longer
    # the ones searched, so the prefix less the words left out is counted.
    for i in range(60, 75):
        ix.replace_interview(i, interview(i, [("Kate Clark", " ".join(left_out) + " and")]))
    _assert_tally_is_a_recount(ix)
    capped = _capped_uses(monkeypatch)
    assert _compare_paths(ix, monkeypatch) > 100
    assert ">zap*" not in capped
    results = ix.search("zap*", ARCHIVIST)
    assert results.notices and results.total_groups


def test_a_word_frequent_only_after_the_rebuild_stays_on_the_gin_path(ix, monkeypatch):
    for i in (50, 51, 52, 53):
        ix.replace_interview(i, interview(i, [("Kate Clark", "quixotic quixotic tale")]))
    with ix.engine.connect() as conn:
        assert not conn.scalar(
            text(f"SELECT count(*) FROM {ix.schema}.tally WHERE lexeme = '~quixot'")
        )
    results = ix.search("quixotic", ARCHIVIST)
    assert results.total_groups == 4 and results.total_moments == 4


def _triple_cases(rng: random.Random) -> list[list[str]]:
    """Records built to hit every way positions are written: short ones of few words with
    stop words and repeats (a triple twice in one record), a word past its 255 positions,
    positions shared at ``MAX_POSITION``, a triple ending there, a giant record whose words
    are left out, folded and accented words and marks, and records of 0 to 3 words."""
    few = ["a", "the", "of", "b", "union"]
    accented = folded_words(
        "André's café, the Général Strike: São Paulo’s U.S.A. 1957 naïve Æsop trai* x_y;"
        " ANDRÉ'S CAFÉ the général strike. Łódź Straße œuvre"
    )
    return [
        [rng.choice(few) for _ in range(80)],
        [rng.choice(few[:3]) for _ in range(30)],
        ["a"] * 300 + ["b", "the", "a", "b", "the", "a"],
        [rng.choice(few[:3]) for _ in range(MAX_POSITION + 40)] + ["d", "e", "d", "a", "e"],
        [rng.choice(few) for _ in range(MAX_POSITION - 3)] + ["x1", "x2", "x3", "x4", "x5"],
        [f"w{i % 90_000:06d}" for i in range(200_000)],
        accented * 3,
        ["o'brien", "back\\slash", "o'brien", "back\\slash", "o'brien", "x"],
        [],
        ["a"],
        ["a", "the"],
        ["a", "the", "of"],
    ]


def test_the_written_records_triples_are_counted_in_python_as_the_sql_statement_counts():
    """``Triples.of`` (what a write counts) against ``triple_count_sql`` (what a rebuild
    counts) on records written to PostgreSQL: the same triples in the same records, per
    slice, with every pair given and with some pairs missing."""
    rng = random.Random(18)
    language = Language("en")
    cases = _triple_cases(rng)
    records = []
    for i, words in enumerate(cases):
        tsv, lexemes, pairs, written = _record_lexemes(words, language)
        records.append((i % 4, Record((), (), tsv, lexemes, pairs, words, written)))
    all_pairs = sorted({p for _, r in records for p in r.pairs})
    some_pairs = [p for p in all_pairs if rng.random() < 0.6]
    ix = PostgresSearch(URL, schema="unused")
    with ix.engine.connect() as conn:
        conn.execute(
            text("CREATE TEMP TABLE hit (id bigint, gkey bigint, slice bigint, tsv tsvector)")
        )
        conn.execute(
            text("INSERT INTO pg_temp.hit VALUES (:id, 0, :slice, CAST(:tsv AS tsvector))"),
            [{"id": i, "slice": sid, "tsv": r.tsv} for i, (sid, r) in enumerate(records)],
        )
        for pairs in (all_pairs, some_pairs):
            conn.execute(text('CREATE TEMP TABLE pairs (lexeme text COLLATE "C")'))
            conn.execute(text("INSERT INTO pairs VALUES (:p)"), [{"p": p} for p in pairs])
            counted = {
                (lex, sid): n
                for lex, sid, n in conn.execute(text(triple_count_sql("pg_temp", "", "pairs")))
            }
            # A rebuild skips the records without two chained pairs: the same rows.
            chained = triple_count_sql("pg_temp", "", "pairs", chained_pairs_sql("pairs"))
            assert {(lex, sid): n for lex, sid, n in conn.execute(text(chained))} == counted
            conn.execute(text("DROP TABLE pairs"))
            # The triples asked for: every one the statement found, and more that it did not
            # (every triple of a short record's words, a giant record's words in order, and
            # random ones of its words).
            asked = {lex for lex, _ in counted}
            for _, record in records:
                distinct = sorted(set(record.words))
                if len(distinct) <= 16:
                    asked.update(
                        f"={a} {b} {c}" for a in distinct for b in distinct for c in distinct
                    )
                else:
                    asked.update(
                        f"={a} {b} {c}"
                        for a, b, c in zip(*(record.words[k:3_000] for k in range(3)), strict=False)
                    )
                    asked.update(
                        f"={rng.choice(distinct)} {rng.choice(distinct)} {rng.choice(distinct)}"
                        for _ in range(2_000)
                    )
            triples = Triples(sorted(asked), pairs)
            found: dict[tuple[str, int], int] = {}
            for sid, record in records:
                for lex in triples.of(record):
                    found[lex, sid] = found.get((lex, sid), 0) + 1
            assert found == counted
            if pairs is all_pairs:
                assert len(counted) > 1_000  # the giant record's, at shared positions
                assert {("=the general strike", 2), ("=andre s cafe", 2)} <= set(counted)
                # A triple ending at MAX_POSITION, where the words after it are too.
                assert {("=x1 x2 x3", 0), ("=x1 x2 x5", 0)} <= set(counted)
                assert ("=o'brien back\\slash o'brien", 3) in counted  # quoted in tsquery
            else:
                assert 0 < len(counted) < len(asked)
    ix.close()
    with_some = Triples(["=a the of", "=the of union"], ["=a the", "=the of"])
    assert with_some.thirds == {("a", "the"): {"of"}}  # "=of union" is not given
