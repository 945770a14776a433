"""Each test inside one database transaction that is rolled back (warehouse's test session).

The schema is made once per test process, with one shared app (``tests/conftest.py``). A
test then runs on that app inside one connection and one transaction opened for it:

- ``db.session`` (every session, whatever app context made it) is bound to that connection
  with SQLAlchemy's ``join_transaction_mode="create_savepoint"``: a session's transaction is a
  SAVEPOINT, so its ``commit()`` releases the savepoint and its ``rollback()`` goes back to
  it. To the session (and to ``oralhist.transaction``) it is the outermost transaction: its
  ``after_commit`` hand-on (index work, ``on_commit`` files, mail) runs as after a real
  commit, so tests that assert the index, files or mail after a request still see them.
- Code that takes a connection of its own from the engine (``db.engine.begin()``: the
  sign-in throttle, an API token's "last used", the job queue) gets a SAVEPOINT on the same
  connection instead, and ``db.engine.connect()`` (reads, the worker's lock) the connection
  itself (``JoinedEngine``), so it sees the test's rows and is rolled back too. Such a
  write is then inside whatever session transaction was open around it, so it goes if that
  one rolls back: tests that need it to outlive a rollback (failed sign-ins counted, a
  failed job's progress) keep real commits.
- At the end the outer transaction is rolled back: the next test starts from empty tables.
  On PostgreSQL the sequences are set back to 1 as well (``TRUNCATE ... RESTART IDENTITY``
  did that before), since a rollback does not undo ``nextval``.

What the database cannot roll back is made per test as before: the media folder, the search
index and the outbox are in the test's ``tmp_path``, and the app's configuration is put
back to what it was after the app was built (a test may change it freely).

Tests that need real commits (a server in a thread or another process, the worker, several
connections racing) keep an app and database of their own: the ``committing`` marker, or the
``committed_app`` / ``live_server`` / ``live_url`` fixtures (``tests/conftest.py``).

**A module's world** (Django's ``setUpTestData``): a module whose tests all start from the same
archive (the role x level matrices) builds it once, in ``world_app`` (``tests/conftest.py``),
inside a transaction held for the whole module (``world``). Each of its tests then runs in a
SAVEPOINT inside that transaction, rolled back at its end, on copies of the world's media
folder and search index made for it: every test starts from the world as it was built,
whatever the previous test changed. Such a module has no committing tests (they would wait
on the world's open transaction).
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.inspection import _inspects

from oralhist.extensions import db

_CONFIG: dict[int, dict] = {}
#: The module world being held (``world``), if any: its connection, folder and app.
_WORLD: dict[str, Any] = {}


def remember(app: Flask) -> None:
    """Keep ``app``'s configuration as built, to put back before each test."""
    _CONFIG[id(app)] = copy.deepcopy(dict(app.config))


class JoinedConnection:
    """What ``JoinedEngine.connect()`` hands out: the test's connection itself. The archive
    uses ``engine.connect()`` only to read and to hold a lock (the worker's), never to write,
    so no savepoint is opened around it: work done while it is held must not be undone when
    it is closed. ``begin()`` gives a SAVEPOINT; ``commit``/``rollback``/``close`` leave the
    test's transaction alone."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def commit(self) -> None:
        """Nothing to commit outside a ``begin()`` block."""

    def rollback(self) -> None:
        """Nothing to roll back outside a ``begin()`` block."""

    @contextmanager
    def begin(self) -> Iterator[Any]:
        with self._connection.begin_nested() as savepoint:
            yield savepoint

    def close(self) -> None:
        """The test's connection stays open until the test ends."""

    def __enter__(self) -> JoinedConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class JoinedEngine:
    """``db.engine`` during a rolled-back test: the real engine, except that ``begin()`` gives a
    SAVEPOINT on the test's connection and ``connect()`` that connection, instead of new
    connections."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self._engine = engine
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._connection.begin_nested():
            yield self._connection

    def connect(self) -> JoinedConnection:
        return JoinedConnection(self._connection)


@_inspects(JoinedEngine)
def _inspect_joined(engine: JoinedEngine):
    return inspect(engine._connection)


def _joined_session_class(base: type, app: Flask) -> type:
    class JoinedSession(base):  # type: ignore[misc, valid-type]
        """Flask-SQLAlchemy's session, bound to the test's connection in ``app``'s contexts
        (its ``get_bind`` otherwise always picks the app's engine); another app made by
        the test keeps its own engine."""

        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            if (
                bind is None
                and isinstance(self.bind, Connection)
                and current_app._get_current_object() is app
            ):
                return self.bind
            return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    return JoinedSession


def _restart_sequences(connection: Connection) -> None:
    """PostgreSQL: every sequence of the schema starts at 1 again (``setval`` is not undone
    by a rollback, which is what is wanted here). The names are read each time: a committing
    test may have dropped and made the schema again."""
    connection.execute(
        text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
            " FROM pg_sequences WHERE schemaname = current_schema()"
        )
    )


def _prepare(app: Flask, folder: Path, world: Path | None = None) -> None:
    """The test's own configuration, instance folder, media folder, index and outbox: empty,
    or copies of those of the world built in ``world``."""
    from oralhist.services import indexing

    instance = folder / "instance"
    instance.mkdir(exist_ok=True)
    app.instance_path = str(instance)
    app.config.clear()
    app.config.update(copy.deepcopy(_CONFIG[id(app)]))
    app.config.update(
        MEDIA_ROOT=str(folder / "media"),
        SEARCH_INDEX_DIR=str(instance / "search-index"),
        OUTBOX_DIR=str(instance / "outbox"),
    )
    for key in ("oralhist_storage", "oralhist_search"):
        app.extensions.pop(key, None)
    if world is not None:
        for part in ("media", "instance/search-index", "instance/outbox"):
            if (world / part).exists():
                shutil.copytree(world / part, folder / part, symlinks=True)
        return
    with app.app_context():
        index = indexing.search_index()
        if hasattr(index, "drop"):  # a search index in the database (postgresql): start empty
            index.drop()
        index.create()


@contextmanager
def rolled_back(app: Flask, folder: Path) -> Iterator[Flask]:
    """Run a test on ``app`` inside one transaction that is rolled back at the end (see the
    module docstring); ``folder`` is the test's ``tmp_path``. Inside a module's world, the
    transaction is a SAVEPOINT in the world's."""
    if _WORLD:
        with _in_world(app, folder):
            yield app
        return
    with _bound(app, folder):
        yield app


@contextmanager
def world(app: Flask, folder: Path) -> Iterator[Flask]:
    """Hold one transaction for a module's world (see the module docstring): what is built
    on ``app`` until the end of the block is every test's starting state, and is rolled back
    at the end. ``folder`` keeps the world's media folder, index and outbox."""
    if _WORLD:
        raise RuntimeError("a module world is already held")
    with _bound(app, folder) as connection:
        _WORLD.update(connection=connection, folder=folder, app=app)
        try:
            yield app
        finally:
            _WORLD.clear()


@contextmanager
def _in_world(app: Flask, folder: Path) -> Iterator[None]:
    if app is not _WORLD["app"]:
        raise RuntimeError("a test in a module world runs on the world's app")
    with app.app_context():
        db.session.remove()  # nothing of the world's sessions carried into the test
    _prepare(app, folder, world=_WORLD["folder"])
    savepoint = _WORLD["connection"].begin_nested()
    finished = False
    try:
        yield
        finished = True
    finally:
        _let_go(app)
        if savepoint.is_active:
            savepoint.rollback()  # a failed test's changes go too: the next starts clean
        elif finished:
            raise RuntimeError(
                "the test ended its module world's savepoint itself (a commit or rollback of"
                " the connection): mark it @pytest.mark.committing, outside a module world"
            )


def _let_go(app: Flask) -> None:
    """At a test's end: its sessions removed and its search index closed."""
    with app.app_context():
        db.session.remove()
        index = app.extensions.pop("oralhist_search", None)
        if index is not None:
            index.close()


@contextmanager
def _bound(app: Flask, folder: Path) -> Iterator[Connection]:
    """``app``'s sessions and engine bound to one new connection (yielded) in one transaction,
    rolled back at the end once everything is put back."""
    _prepare(app, folder)
    factory = db.session.session_factory
    saved_class, saved_kw = factory.class_, dict(factory.kw)
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
    try:
        if connection.dialect.name == "postgresql":
            _restart_sequences(connection)
            connection.commit()
        outer = connection.begin()
        factory.class_ = _joined_session_class(saved_class, app)
        factory.kw.update(bind=connection, join_transaction_mode="create_savepoint")
        engines[None] = JoinedEngine(engine, connection)
        try:
            yield connection
        finally:
            _let_go(app)
            engines[None] = engine
            factory.class_ = saved_class
            factory.kw.clear()
            factory.kw.update(saved_kw)
            if not outer.is_active:
                raise RuntimeError(
                    "the test ended its own rolled-back transaction (a commit or rollback of"
                    " the connection itself): mark it @pytest.mark.committing"
                )
            outer.rollback()
    finally:
        connection.close()
