"""Fixtures: a fresh app on ``tmp_path`` (database, media, index), users of every role,
and clients that sign in and send the CSRF token like a browser.

The database is SQLite in ``tmp_path`` unless ``OH_TEST_DATABASE_URL`` names another (CI sets
it to a real PostgreSQL server); there every test starts from empty tables.

The schema is made once per test process, not once per test: on SQLite each test starts from a
copy of an empty database file made at the first use; on PostgreSQL the tables are made once
and emptied (``TRUNCATE``) before each test. Under pytest-xdist (``make test`` runs one process
per core) every process has a PostgreSQL database of its own, ``<name>_<worker>``, made on the
same server at start.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from oralhist import create_app
from oralhist.extensions import db
from tests import savepoints
from tests.app_cache import install_rule_cache, share_compiled

ROOT = Path(__file__).resolve().parents[1]
# ``OH_TESTDATA`` names another folder (``OH_TESTDATA=/nonexistent`` runs the suite as a fresh
# clone without ../shared would).
TESTDATA = Path(os.environ.get("OH_TESTDATA") or ROOT.parent / "shared" / "testdata")
PASSWORD = "correct horse battery"
ROLES = ("researcher", "contributor", "contributor2", "archivist", "admin")


def testdata(*parts: str) -> Path:
    """A file of ../shared/testdata, or skip the test when that folder is absent."""
    path = TESTDATA.joinpath(*parts)
    if not TESTDATA.exists():
        pytest.skip(f"{TESTDATA} is not present")
    return path


def pytest_configure(config) -> None:
    """Give each pytest-xdist process its own PostgreSQL database (made here, dropped never:
    the next run empties it), so processes never share tables."""
    install_rule_cache()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("OH_TEST_DATABASE_URL")
    if not (worker and url):
        return
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["OH_TEST_DATABASE_URL"] = base.set(database=name).render_as_string(
        hide_password=False
    )


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("OH_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


_SQLITE_TEMPLATE: dict[str, Path] = {}


def _fresh_schema(app, folder: Path) -> None:
    """Empty tables of the current schema, made once per process (see the module docstring)."""
    from oralhist.services import indexing

    if db.engine.dialect.name == "sqlite":
        # The file is copied before the engine first connects: the copy is the whole database.
        template = _SQLITE_TEMPLATE.get("path")
        target = Path(db.engine.url.database)
        if template is None:
            db.create_all()
            db.session.remove()
            db.engine.dispose()
            template = folder.parent / f"oralhist-schema-{os.getpid()}.sqlite3"
            shutil.copyfile(target, template)
            _SQLITE_TEMPLATE["path"] = template
        else:
            db.engine.dispose()
            shutil.copyfile(template, target)
    else:
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        present = set(inspect(db.engine).get_table_names())
        if not set(tables) <= present:
            # First test of this process, or a test dropped the schema (migrations, CLI).
            db.drop_all()
            db.create_all()
        else:
            quoted = ", ".join(f'"{name}"' for name in tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    index = indexing.search_index()
    if hasattr(index, "drop"):  # a search index in the database (postgresql): start empty
        index.drop()
    index.create()


def _search_settings() -> dict:
    """``OH_TEST_SEARCH_BACKEND=postgresql`` (with a PostgreSQL ``OH_TEST_DATABASE_URL``) runs
    the app's tests on the PostgreSQL search backend, in a schema of this process's own."""
    name = os.environ.get("OH_TEST_SEARCH_BACKEND")
    if not name:
        return {}
    return {"SEARCH_BACKEND": name, "SEARCH_PG_SCHEMA": f"test_search_{os.getpid()}"}


def build_app(folder: Path, **overrides):
    """A fresh app on ``folder`` (database, media, index) with empty tables and index."""
    instance = folder / "instance"
    instance.mkdir(exist_ok=True)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": _database_url(folder),
            "MEDIA_ROOT": str(folder / "media"),
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "OUTBOX_DIR": str(instance / "outbox"),
            "SERVER_NAME": "localhost",
            # Fast hashing in tests only; test_auth checks that the default is scrypt.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Index work applied by the committing process, so a test sees it at once (the
            # background indexer is tested on its own: tests/test_worker.py).
            "SEARCH_SYNC": True,
            **_search_settings(),
            **overrides,
        },
        instance_path=str(instance),
    )
    share_compiled(app)
    with app.app_context():
        _fresh_schema(app, folder)
    return app


#: Fixtures of tests that need real commits (servers; a second app on the same database):
#: their ``app`` is ``committed_app``.
COMMITTING_FIXTURES = frozenset({"committed_app", "live_server", "live_url", "make_other_app"})

#: ``OH_TEST_ROLLBACK=0`` gives every test an app and database of its own, as before
#: savepoints (to compare the two, or to rule the savepoints out when a test fails).
ROLLBACK = os.environ.get("OH_TEST_ROLLBACK", "1") != "0"

_SHARED: dict = {}


def _shared_app(request):
    """The process's shared app for rolled-back tests (built at its first use), with its
    tables emptied again if a committing test on the same PostgreSQL database left rows."""
    app = _SHARED.get("app")
    if app is None:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("shared-app")
        app = _SHARED["app"] = build_app(folder)
        savepoints.remember(app)
        _SHARED["dirty"] = False
    else:
        with app.app_context():
            # SQLite: committing tests have files of their own. PostgreSQL: one database per
            # process, which a committing test may have filled, and which a test with an app
            # of its own (the CLI's fresh project, a storage or URL setting) may have dropped.
            if db.engine.dialect.name != "sqlite" and (
                _SHARED.get("dirty") or not _schema_complete()
            ):
                _fresh_schema(app, Path(app.instance_path).parent)
        _SHARED["dirty"] = False
    return app


def _schema_complete() -> bool:
    """Whether every table of the current schema is in the database (one catalogue query)."""
    present = set(inspect(db.engine).get_table_names())
    return {t.name for t in db.metadata.sorted_tables} <= present


def _close_app(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        index = app.extensions.get("oralhist_search")
        if index is not None:
            index.close()


def world_scope(fixture_name: str, config) -> str:
    """The scope of a module world's fixtures (``world_app`` and what is built on it): the
    module, unless tests are not rolled back (``OH_TEST_ROLLBACK=0``) or the search index is
    in the database (``OH_TEST_SEARCH_BACKEND``: its rows would outlive a savepoint), where
    each test builds the world again, as any other fixture."""
    if ROLLBACK and not os.environ.get("OH_TEST_SEARCH_BACKEND"):
        return "module"
    return "function"


@pytest.fixture(scope=world_scope)
def world_app(request, tmp_path_factory):
    """The app of a module whose tests share one starting state (``savepoints.world``):
    module-scoped fixtures build that state on this app, once; each test of the module then
    gets the same app (``app``) inside a savepoint, on copies of the world's files. With
    ``world_scope`` "function" this is simply ``app``."""
    if request.scope == "function":
        yield request.getfixturevalue("app")
        return
    if any(
        item.get_closest_marker("committing")
        or not COMMITTING_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        for item in request.session.items
        if getattr(item, "module", None) is request.module
    ):
        pytest.fail(f"{request.node.name}: a module with a world has no committing tests")
    shared = _shared_app(request)
    with savepoints.world(shared, tmp_path_factory.mktemp("world")) as app:
        yield app


@pytest.fixture(scope=world_scope)
def world_users(world_app):
    """``users`` made once in a module's world: a module with a world overrides ``users``
    with ``def users(world_users): return world_users``."""
    return _make_users(world_app)


@pytest.fixture
def committed_app(tmp_path):
    """A fresh app of its own whose changes are really committed (the suite's way before
    savepoints): for tests with real servers, threads, other processes, the worker, races,
    or that change the app itself (routes, views). Chosen by the ``committing`` marker or by
    asking for this fixture (or ``live_server`` / ``live_url``); ``app`` is then this app."""
    _SHARED["dirty"] = True  # PostgreSQL: the next rolled-back test empties the tables first
    app = build_app(tmp_path)
    yield app
    _close_app(app)


@pytest.fixture
def app(request, tmp_path):
    """The app of a test. Unless the test commits for real (see ``committed_app``), this is
    the process's one shared app, with the test's own media folder, search index, outbox and
    configuration, running inside one database transaction that is rolled back at the end:
    every commit the test makes (a request, a service, ``unit_of_work``) commits a SAVEPOINT
    inside it, and the after-commit hand-on (index work, files, mail) runs as after a real
    commit (``savepoints.py``)."""
    if (
        not ROLLBACK
        or request.node.get_closest_marker("committing")
        or not COMMITTING_FIXTURES.isdisjoint(request.fixturenames)
    ):
        yield request.getfixturevalue("committed_app")
        return
    shared = savepoints._WORLD.get("app") or _shared_app(request)
    with savepoints.rolled_back(shared, tmp_path) as app:
        yield app


@pytest.fixture
def app_ctx(app):
    with app.test_request_context():
        yield app


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that behaves like a signed-in browser: it reads the CSRF token from a
    page and sends it with every write (as a form field and as ``X-CSRFToken``)."""

    def __init__(self, app, email: str | None = None):
        self.client = app.test_client()
        self.csrf = None
        if email:
            self.login(email)

    def token(self) -> str:
        if self.csrf is None:
            page = self.client.get("/login").get_data(as_text=True)
            self.csrf = CSRF_RE.search(page).group(1)
        return self.csrf

    def login(self, email: str, password: str = PASSWORD):
        response = self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.token()}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.csrf = None  # the session changed: read a fresh token
        return response

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def head(self, url, **kw):
        return self.client.head(url, **kw)

    def _write(self, method, url, data=None, json=None, headers=None, **kw):
        headers = {"X-CSRFToken": self.token(), **(headers or {})}
        if data is not None and isinstance(data, dict):
            data = {"csrf_token": self.token(), **data}
        return getattr(self.client, method)(url, data=data, json=json, headers=headers, **kw)

    def post(self, url, data=None, json=None, **kw):
        return self._write("post", url, data, json, **kw)

    def patch(self, url, data=None, json=None, **kw):
        return self._write("patch", url, data, json, **kw)

    def delete(self, url, **kw):
        return self._write("delete", url, **kw)


@pytest.fixture
def users(app):
    """One account per role (and a second contributor), keyed by role name."""
    return _make_users(app)


def _make_users(app) -> dict[str, int]:
    from oralhist.services import accounts

    made = {}
    with app.app_context():
        for key in ROLES:
            role = "contributor" if key == "contributor2" else key
            user = accounts.create_user(f"{key}@example.org", PASSWORD, role=role, name=key.title())
            made[key] = user.id
        db.session.commit()
    return made


@pytest.fixture
def browser(app, users):
    """``browser("archivist")`` -> a Browser signed in with that role; None -> anonymous."""

    def make(role: str | None = None) -> Browser:
        return Browser(app, f"{role}@example.org" if role else None)

    return make


@pytest.fixture
def viewer_for(app, users):
    """The policy Viewer of a role's user (inside an app context)."""
    from oralhist.access import load_viewer
    from oralhist.models import User

    def make(role: str | None):
        if role is None:
            from oralhist.access.policy import ANONYMOUS

            return ANONYMOUS
        return load_viewer(db.session.get(User, users[role]))

    return make
