"""The migrated schema matches the models (on SQLite, and on PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from oralhist.extensions import db

#: Drops and makes the schema through connections of their own: a database of its own
#: (tests/savepoints.py).
pytestmark = pytest.mark.committing


def reset_schema() -> None:
    """Empty the database, including Alembic's own version table (drop_all leaves it)."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_migrations_match_models(app):
    with app.app_context():
        reset_schema()
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        assert "alembic_version" in inspect(db.engine).get_table_names()
        reset_schema()


def test_downgrade_to_base_and_up_again(app):
    with app.app_context():
        reset_schema()
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        assert "interview" in inspect(db.engine).get_table_names()
        reset_schema()
