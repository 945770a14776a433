"""The PostgreSQL search backend in the app: chosen by ``SEARCH_BACKEND``, refused at start-up
on another database, fed by the same index outbox, rebuilt by ``oralhist reindex``, checked by
``oralhist reindex --check``, and searched through HTTP under the access policy.

Its behaviour as a search engine is the contract suite's (``tests/search/contract/``); here,
only what is its own: the lexemes it writes and its place in the app."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from oralhist.search.backend import UnknownSearchBackend, check_backend
from oralhist.search.postgres import MAX_POSITION, tsvector_literal
from oralhist.search.schema import Language, folded_words

from ..conftest import build_app

POSTGRES = (os.environ.get("OH_TEST_DATABASE_URL") or "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not POSTGRES,
    reason="the postgresql search backend needs PostgreSQL: set OH_TEST_DATABASE_URL to a"
    " postgresql+psycopg:// URL",
)


def test_lexemes_are_the_folded_words_at_their_positions_and_the_marked_stems():
    words = folded_words("Organising the union at the Mill; André organised it.")
    literal = tsvector_literal(words, Language("en"))
    assert "'organising':1" in literal
    assert "'the':2,5" in literal
    assert "'andre':7" in literal
    assert "'~organis'" in literal  # organising, organised: one stem
    assert "'~the'" not in literal  # stop words have no stem
    assert "'~andr'" in literal


def test_positions_and_repeats_stay_within_what_postgresql_keeps():
    literal = tsvector_literal(["a"] * 300 + ["late"] * 2 + ["x"] * 20_000, Language(None))
    a_positions = literal.split("'a':", 1)[1].split(" ", 1)[0].split(",")
    assert len(a_positions) == 255
    x_positions = literal.split("'x':", 1)[1].split(" ", 1)[0].split(",")
    assert int(x_positions[-1]) <= MAX_POSITION
    assert "'late':301,302" in literal


def test_quotes_and_backslashes_in_words_are_escaped():
    literal = tsvector_literal(["o'brien", "back\\slash"], Language(None))
    assert "'o''brien':1" in literal
    assert "'back\\\\slash':2" in literal


def test_the_backend_is_refused_at_start_up_on_sqlite(tmp_path):
    with pytest.raises(UnknownSearchBackend, match="not PostgreSQL"):
        check_backend(
            {
                "SEARCH_BACKEND": "postgresql",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            }
        )
    with pytest.raises(UnknownSearchBackend, match="SEARCH_PG_SCHEMA"):
        check_backend(
            {
                "SEARCH_BACKEND": "postgresql",
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@localhost/y",
                "SEARCH_PG_SCHEMA": "bad; name",
            }
        )


@pytest.fixture
def app(tmp_path):
    """The app on the postgresql search backend (its tables in a schema of their own)."""
    if not POSTGRES:
        pytest.skip("the postgresql search backend needs PostgreSQL (OH_TEST_DATABASE_URL)")
    from oralhist.extensions import db

    schema = f"t_app_{uuid.uuid4().hex[:12]}"
    app = build_app(tmp_path, SEARCH_BACKEND="postgresql", SEARCH_PG_SCHEMA=schema)
    yield app
    with app.app_context():
        index = app.extensions["oralhist_search"]
        index.drop()
        index.close()
        db.session.remove()
        db.engine.dispose()


def _records(app) -> int:
    from oralhist.extensions import db

    with app.app_context():
        schema = app.config["SEARCH_PG_SCHEMA"]
        return db.session.scalar(text(f"SELECT count(*) FROM {schema}.record"))


@needs_postgres
def test_search_through_http_follows_commits_and_the_policy(app, browser):
    from ..test_search_web import add_interview

    with app.app_context():
        open_id = add_interview(
            "Open one", lines=[("WHITFIELD", 5000, "We read the pamphlet at the branch.")]
        )
        add_interview(
            "Closed one",
            level="closed",
            lines=[("NARRATOR", 2000, "The quorblattmarker pamphlet.")],
        )
    client = browser()
    data = client.get("/api/v1/search?q=pamphlet").json
    assert [g["interview_id"] for g in data["groups"]] == [open_id]
    assert "<mark>pamphlet</mark>" in data["results"][0]["snippet"]
    assert client.get("/api/v1/search?q=quorblattmarker").json["total"] == 0
    page = client.get("/search?q=quorblattmarker").get_data(as_text=True)
    assert "<mark>quorblattmarker" not in page and "The quorblattmarker" not in page
    assert _records(app) > 0


@needs_postgres
def test_reindex_rebuilds_the_tables_and_check_finds_no_drift(app, browser):
    from ..test_search_web import add_interview

    with app.app_context():
        add_interview("Open one", lines=[("A", 1000, "The lighthouse keeper spoke.")])
        schema = app.config["SEARCH_PG_SCHEMA"]
        from oralhist.extensions import db

        for table in ("hit", "slice", "record"):
            db.session.execute(text(f"DELETE FROM {schema}.{table}"))
        db.session.commit()
    assert browser().get("/api/v1/search?q=lighthouse").json["total"] == 0
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "1 interviews" in result.output
    assert browser().get("/api/v1/search?q=lighthouse").json["total"] == 1
    checked = runner.invoke(args=["reindex", "--check"])
    assert checked.exit_code == 0, checked.output
    assert "agrees with the database" in checked.output


def test_the_index_location_is_said_for_each_engine(tmp_path):
    from oralhist.search.backend import index_location

    assert index_location({"SEARCH_INDEX_DIR": str(tmp_path / "ix")}) == (
        f"the folder {tmp_path / 'ix'}"
    )
    said = index_location(
        {
            "SEARCH_BACKEND": "postgresql",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ann:secret@db.example/archive",
            "SEARCH_PG_SCHEMA": "fts",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
        }
    )
    assert said == "the PostgreSQL schema 'fts' of postgresql+psycopg://ann:***@db.example/archive"


@needs_postgres
def test_init_names_the_schema_not_an_index_folder(app, monkeypatch):
    import flask_migrate

    # The test database's tables are made without migrations; init's message is the point.
    monkeypatch.setattr(flask_migrate, "upgrade", lambda **kwargs: None)
    with app.app_context():
        app.extensions["oralhist_search"].drop()
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    schema = app.config["SEARCH_PG_SCHEMA"]
    assert f"Created the search index in the PostgreSQL schema {schema!r} of postgresql" in (
        result.output
    )
    assert str(app.config["SEARCH_INDEX_DIR"]) not in result.output


@needs_postgres
def test_a_backend_let_go_without_close_closes_its_connections(monkeypatch):
    import gc
    import sys
    import warnings

    from oralhist.search.postgres import PostgresSearch

    ix = PostgresSearch(os.environ["OH_TEST_DATABASE_URL"], schema=f"t_{uuid.uuid4().hex[:12]}")
    assert not ix.exists()  # a pooled connection is open now
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del ix
        gc.collect()
    assert [s.exc_value for s in seen] == []


@needs_postgres
def test_tables_of_an_older_layout_are_replaced_and_must_be_rebuilt():
    from oralhist.search.postgres import PostgresSearch

    schema = f"t_{uuid.uuid4().hex[:12]}"
    ix = PostgresSearch(os.environ["OH_TEST_DATABASE_URL"], schema=schema)
    try:
        with ix.engine.begin() as conn:  # the first layout: one wide record table
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            for table in ("record", "card", "word"):
                conn.execute(text(f"CREATE TABLE {schema}.{table} (id int, tsv tsvector)"))
            conn.execute(text(f"CREATE TABLE {schema}.meta (key text PRIMARY KEY, value text)"))
            conn.execute(text(f"INSERT INTO {schema}.meta VALUES ('language', 'en')"))
        assert not ix.exists()
        ix.create()
        assert ix.exists()
        with ix.engine.connect() as conn:
            columns = conn.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = :s AND table_name = 'record'"
                ),
                {"s": schema},
            ).all()
        assert "body" in columns and "tsv" not in columns
        ix.check()
    finally:
        ix.drop()
        ix.close()


def test_a_wide_expansion_is_matched_word_by_word_and_a_narrow_one_in_one_tsquery():
    from oralhist.search.pg_query import MANY_WORDS, PgCompiler
    from oralhist.search.query import parse

    def vocabulary(prefix: str, limit: int) -> list[tuple[str, int]]:
        words = [f"train{c}" for c in "abcdefghij"] + ["trawl", "trawler"]
        return [(w, 1) for w in words if w.startswith(prefix)][:limit]

    wide = PgCompiler(Language("en"), vocabulary, "s")
    where = wide.where(parse("trai?*"))  # a wildcard: no prefix lexeme
    assert where.count("h.tsv @@") == 10 >= MANY_WORDS  # PostgreSQL ORs ten bitmaps
    assert sorted(wide.params.values()) == [f"'train{c}'" for c in "abcdefghij"]
    narrow = PgCompiler(Language("en"), vocabulary, "s")
    where = narrow.where(parse("traw?*"))
    assert where.count("h.tsv @@") == 1
    assert list(narrow.params.values()) == ["('trawl' | 'trawler')"]


def test_a_simple_prefix_is_its_one_prefix_lexeme_ranked_by_its_words():
    from oralhist.search.pg_query import PgCompiler
    from oralhist.search.query import MAX_EXPANSIONS, parse

    words = [f"train{c}" for c in "abcdefghij"] + ["trawl", "trawler", "trawlermen"]

    def vocabulary(prefix: str, limit: int) -> list[tuple[str, int]]:
        return [(w, 1) for w in words if w.startswith(prefix)][:limit]

    c = PgCompiler(Language("en"), vocabulary, "s")
    assert c.where(parse("trai*")) == "h.tsv @@ CAST(:p0 AS tsquery)"
    assert c.params == {"p0": "('>trai')"}
    assert c.single_lexeme().lexeme == ">trai"
    assert c.marks.words == {f"train{c}" for c in "abcdefghij"}  # snippets mark the words
    c.rank_query()
    assert c.params["p1"] == "(" + " | ".join(f"'train{c}'" for c in "abcdefghij") + ")"
    # Longer than the prefix lexemes written: the words, as before.
    c = PgCompiler(Language("en"), vocabulary, "s")
    c.where(parse("trawler*"))
    assert c.single_lexeme() is None
    assert list(c.params.values()) == ["('trawler' | 'trawlermen')"]
    # Over the cap: the most frequent words only, with the notice (as the Whoosh engine);
    # counted from the tally as the prefix's records less those with only the rarest words.
    many = [(f"tra{i:03d}", i) for i in range(MAX_EXPANSIONS + 5)]
    c = PgCompiler(Language("en"), lambda prefix, limit: many[:limit], "s")
    c.where(parse("tra*"))
    assert c.notices
    assert "'>tra'" not in c.params.values()
    top = c.single_lexeme()
    more, kept = top.excess
    assert top.lexeme == ">tra"
    assert more == " | ".join(f"'tra{i:03d}'" for i in range(4, -1, -1))
    assert kept.count("|") == MAX_EXPANSIONS - 1 and "'tra068'" in kept


def test_one_lexeme_with_slice_conditions_is_counted_from_the_tally():
    from oralhist.search.pg_query import PgCompiler
    from oralhist.search.query import parse

    def single(q: str) -> str | None:
        c = PgCompiler(Language("en"), lambda prefix, limit: [("mills", 3)], "s")
        c.where(parse(q))
        top = c.single_lexeme()
        return top and top.lexeme

    assert single("working") == "~work"
    assert single('"working"') == "working"
    assert single("the") == "the"
    assert single("the working") == "~work"
    assert single("working speaker:clark kind:segment year:1950..1960") == "~work"
    assert single("working -speaker:clark") == "~work"
    assert single("working (speaker:clark OR narrator:kate)") == "~work"
    assert single("mil*") == ">mil"
    assert single('"picket line"') == "=picket line"  # a two-word phrase: its pair lexeme
    assert single('"the picket" kind:segment') == "=the picket"
    # A three-word phrase: its triple (counted from ``tally`` when it is tallied there).
    assert single('"the picket line"') == "=the picket line"
    assert single('"the picket line" speaker:clark') == "=the picket line"
    for q in (
        "working union",
        "working -union",
        "working OR union",
        '"on the picket line"',
        '"the picket line" union',
        '"picket line" -union',
        "working (union OR speaker:clark)",
        "-working speaker:clark",
        "mil* -union",
        "mil* union",
        "mils~",
    ):
        assert single(q) is None, q


def test_each_word_is_written_with_its_prefixes_of_3_to_6_letters():
    literal = tsvector_literal(folded_words("Trains at the mill"), Language("en"))
    for mark in (">tra", ">trai", ">train", ">trains", ">the", ">mil", ">mill"):
        assert f"'{mark}'" in literal
    assert "'>at'" not in literal  # shorter than a prefix query may be
    assert literal.count("'>") == 7


def test_a_giant_record_keeps_each_word_with_its_stem_and_prefixes_or_not_at_all():
    from oralhist.search.postgres import MAX_LEXEME_BYTES, record_lexemes

    words = [f"w{i:07d}" for i in range(200_000)]
    literal, lexemes, _pairs = record_lexemes(words, Language("en"))
    kept = [w for w in lexemes if w[0] == "w"]
    marks = {m for m in lexemes if m[0] in "~>"}
    assert 1_000 < len(kept) < len(words)
    assert len(literal.encode()) < MAX_LEXEME_BYTES + 100_000  # within a tsvector's 1 MB
    expected = {f"~{w}" for w in kept} | {f">{w[:k]}" for w in kept for k in range(3, 7)}
    assert marks == expected


def test_each_two_consecutive_words_are_written_as_a_pair_lexeme():
    literal = tsvector_literal(folded_words("The picket line, the line."), Language("en"))
    for pair in ("=the picket", "=picket line", "=line the", "=the line"):
        assert f"'{pair}'" in literal
    assert "'=picket the'" not in literal and "'=the the'" not in literal
    assert literal.count("'=") == 4  # each pair once, without positions


@needs_postgres
def test_a_pair_lexeme_is_written_exactly_where_its_words_positions_follow():
    """Where positions are capped (past ``MAX_POSITION``, 255 per word) or words are left
    out of a giant record, the pairs are those of the positions written: a two-word phrase
    matched by its pair finds what ``'a' <-> 'b'`` finds."""
    import itertools
    import random

    from oralhist.search.postgres import PostgresSearch, record_lexemes

    rng = random.Random(5)
    few = ["a", "b", "the", "d", "e"]
    giant = [f"w{i % 90_000:06d}" for i in range(200_000)]
    cases = [
        [rng.choice(few) for _ in range(60)],
        ["a"] * 300 + ["b", "the"] + ["a", "d"],
        [rng.choice(few[:3]) for _ in range(MAX_POSITION + 40)] + ["d", "e", "d", "a"],
        giant,
    ]
    ix = PostgresSearch(os.environ["OH_TEST_DATABASE_URL"], schema="unused")
    try:
        with ix.engine.connect() as conn:
            for words in cases:
                literal, lexemes, pairs = record_lexemes(words, Language("en"))
                if words is giant:
                    kept = [w for w in lexemes if w[0] == "w"]
                    assert 1_000 < len(kept) < 90_000  # a giant record: words left out
                    candidates = list(itertools.pairwise(giant[:3_000]))
                    candidates += [(rng.choice(kept), rng.choice(kept)) for _ in range(300)]
                else:
                    candidates = list(itertools.product(sorted(set(words)), repeat=2))
                queries = [f"'{a}' <-> '{b}'" for a, b in candidates]
                found = conn.execute(
                    text(
                        "SELECT CAST(:v AS tsvector) @@ CAST(q.q AS tsquery)"
                        " FROM unnest(CAST(:qs AS text[])) WITH ORDINALITY q(q, n) ORDER BY q.n"
                    ),
                    {"v": literal, "qs": queries},
                ).scalars()
                expected = {
                    f"={a} {b}" for (a, b), hit in zip(candidates, found, strict=True) if hit
                }
                assert expected
                assert {f"={a} {b}" for a, b in candidates} & set(pairs) == expected
    finally:
        ix.close()
