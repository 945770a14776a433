"""Fixtures: a fresh app on ``tmp_path`` (database, media, index), users of every role,
and clients that sign in and send the CSRF token like a browser.

The database is SQLite in ``tmp_path`` unless ``OH_TEST_DATABASE_URL`` names another (CI sets
it to a real PostgreSQL server); there every test starts from empty tables.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from oralhist import create_app
from oralhist.extensions import db

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
PASSWORD = "correct horse battery"
ROLES = ("researcher", "contributor", "contributor2", "archivist", "admin")


def testdata(*parts: str) -> Path:
    """A file of ../shared/testdata, or skip the test when that folder is absent."""
    path = TESTDATA.joinpath(*parts)
    if not TESTDATA.exists():
        pytest.skip("../shared/testdata is not present")
    return path


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("OH_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


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
            **overrides,
        },
        instance_path=str(instance),
    )
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            db.session.remove()
            db.drop_all()
        db.create_all()
        from oralhist.services import indexing

        indexing.search_index().create()
    return app


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


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
