"""``bench/pg_scale_copy.py`` (the 10,000-interview figures of issue 18 are measured on its
copies): the copy's tally, pairs and capped prefixes included, is what a recount of its rows
gives, every search path of the copy agrees, and each group is there ``--times`` times."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from oralhist.search import postgres
from oralhist.search.postgres import PostgresSearch

from .conftest import ARCHIVIST, RESEARCHER
from .test_pg_tally import URL, _archive, _assert_tally_is_a_recount, _compare_paths

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"),
    reason="the postgresql search backend needs PostgreSQL: set OH_TEST_DATABASE_URL to a"
    " postgresql+psycopg:// URL",
)

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pg_scale_copy.py"


def _script():
    spec = importlib.util.spec_from_file_location("pg_scale_copy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_copy_is_tallied_as_a_rebuild_would_be(monkeypatch, capsys):
    monkeypatch.setattr(postgres, "TALLY_THRESHOLD", 9)
    script = _script()
    monkeypatch.setattr(script, "TALLY_THRESHOLD", 9)
    name = uuid.uuid4().hex[:12]
    source = PostgresSearch(URL, schema=f"t_{name}_s")
    copy = PostgresSearch(URL, schema=f"t_{name}_c")
    try:
        interviews, documents = _archive(1957)
        source.rebuild(interviews, documents)
        monkeypatch.setattr(
            sys,
            "argv",
            [
                *("pg_scale_copy.py", "--database-url", URL, "--source", source.schema),
                *("--target", copy.schema, "--times", "3"),
            ],
        )
        assert script.main() == 0
        assert '"records"' in capsys.readouterr().out
        with copy.engine.connect() as conn:
            kinds = dict(
                conn.execute(
                    text(
                        f"SELECT CASE WHEN words IS NOT NULL THEN 'capped'"
                        " WHEN lexeme LIKE '=% % %' THEN 'triple'"
                        f" ELSE left(lexeme, 1) END, count(*) FROM {copy.schema}.tally GROUP BY 1"
                    )
                ).all()
            )
        assert kinds["capped"] and kinds["="] and kinds["~"] and kinds[">"] and kinds["triple"]
        _assert_tally_is_a_recount(copy)
        for q in ("work", '"the union"', "zap*", '"the general strike"', '"of the union"'):
            for scope in (ARCHIVIST, RESEARCHER):
                once, thrice = source.search(q, scope), copy.search(q, scope)
                assert thrice.total_groups == 3 * once.total_groups, q
                assert thrice.total_moments == 3 * once.total_moments, q
        assert _compare_paths(copy, monkeypatch) > 100
        # A copy made by the layout-4 script (no triples) brought to layout 5 in place: the
        # same tally as a copy made by this one.
        with copy.engine.begin() as conn:
            tally = f"SELECT lexeme, docs, slices, ns, words FROM {copy.schema}.tally"
            made = sorted(conn.execute(text(tally)).all())
            conn.execute(text(f"DELETE FROM {copy.schema}.tally WHERE lexeme LIKE '=% % %'"))
            conn.execute(text(f"UPDATE {copy.schema}.meta SET value = '4' WHERE key = 'layout'"))
        argv = [*sys.argv, "--add-triples", '{"records": 1}']
        monkeypatch.setattr(sys, "argv", argv)
        assert script.main() == 0
        assert '"triples_seconds"' in capsys.readouterr().out
        with copy.engine.connect() as conn:
            assert sorted(conn.execute(text(tally)).all()) == made
        assert copy.exists()
    finally:
        for ix in (source, copy):
            ix.drop()
            ix.close()
