"""The search backends' contract: every test of this folder runs against every registered
backend (``oralhist.search.backend.ENGINES``), through the ``SearchBackend`` protocol only.

A new backend passes these tests unchanged. What it may need here is only how to open it for
a test (``open_test_backend``: the settings it reads, such as a database URL).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from oralhist.search.backend import ENGINES, SearchBackend, open_backend

from ..conftest import archive

BACKENDS = sorted(ENGINES)


def _database_url() -> str:
    return os.environ.get("OH_TEST_DATABASE_URL") or ""


_PG_SCHEMAS: list[str] = []


def open_test_backend(
    name: str, folder: Path, *, language: str | None = "en", create: bool = True
) -> SearchBackend:
    """A new backend ``name`` whose files (if any) live under ``folder``: empty, or with no
    index at all when not ``create``."""
    folder.mkdir(parents=True, exist_ok=True)
    if name == "postgresql" and not _database_url().startswith("postgresql"):
        pytest.skip(
            "the postgresql search backend needs PostgreSQL: set OH_TEST_DATABASE_URL to a"
            " postgresql+psycopg:// URL to run its contract tests"
        )
    schema = f"t_{uuid.uuid4().hex[:16]}"  # one schema per backend: tests run in parallel
    _PG_SCHEMAS.append(schema)
    config = {
        "SEARCH_BACKEND": name,
        "SEARCH_LANGUAGE": language,
        "SEARCH_INDEX_DIR": str(folder / "index"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("OH_TEST_DATABASE_URL")
        or f"sqlite:///{folder / 'search.sqlite3'}",
        "SEARCH_PG_SCHEMA": schema,
    }
    backend = open_backend(config)
    if create:
        backend.create()
    return backend


@pytest.fixture(scope="module", params=BACKENDS)
def backend_name(request) -> str:
    """Each registered backend in turn (a module's read-only index is built once for each)."""
    return request.param


@pytest.fixture(scope="module")
def built_index(tmp_path_factory, backend_name) -> SearchBackend:
    """The hand-made archive (``tests/search/conftest.archive``), for read-only tests."""
    backend = open_test_backend(backend_name, tmp_path_factory.mktemp(backend_name))
    interviews, documents = archive()
    backend.rebuild(interviews, documents)
    yield backend
    backend.close()


@pytest.fixture
def fresh_index(tmp_path, backend_name) -> SearchBackend:
    """The hand-made archive in a backend a test may write to."""
    backend = open_test_backend(backend_name, tmp_path / "fresh")
    interviews, documents = archive()
    backend.rebuild(interviews, documents)
    yield backend
    backend.close()


@pytest.fixture
def new_backend(tmp_path, backend_name):
    """Make empty backends of the current kind: ``new_backend(language=None)``; with
    ``create=False``, one whose index does not exist yet."""
    made: list[SearchBackend] = []

    def make(*, language: str | None = "en", create: bool = True) -> SearchBackend:
        folder = tmp_path / f"new-{len(made)}"
        backend = open_test_backend(backend_name, folder, language=language, create=create)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas():
    """The PostgreSQL backends' schemas are dropped after the run."""
    yield
    if not _PG_SCHEMAS or not _database_url().startswith("postgresql"):
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(_database_url())
    with engine.begin() as conn:
        for schema in _PG_SCHEMAS:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()
