"""The migrated schema matches the models (on SQLite, and on PostgreSQL in CI)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from oralhist.extensions import db


def test_migrations_match_models(app):
    with app.app_context():
        db.drop_all()
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        assert "alembic_version" in inspect(db.engine).get_table_names()


def test_downgrade_to_base_and_up_again(app):
    with app.app_context():
        db.drop_all()
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        assert "interview" in inspect(db.engine).get_table_names()
