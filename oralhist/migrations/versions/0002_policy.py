"""policy: the audit log append-only in the database, and an index for one object's events

Revision ID: 0002_policy
Revises: 0001
Create Date: 2026-12-06 06:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_policy"
down_revision = "0001"
branch_labels = None
depends_on = None

# A copy of oralhist.models.access.APPEND_ONLY_DDL as it was at this revision.
APPEND_ONLY_DDL = {
    "sqlite": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OF at, action, object_type, "
        "object_id, ip, details ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_event is append-only'; END $$",
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OF at, action, object_type, "
        "object_id, ip, details ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ),
}


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_object", ["object_type", "object_id", "at"], unique=False
        )
    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, ()):
        op.execute(sa.text(statement))


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect in APPEND_ONLY_DDL:
        op.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_update" + _on(dialect)))
        op.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_delete" + _on(dialect)))
    if dialect == "postgresql":
        op.execute(sa.text("DROP FUNCTION IF EXISTS audit_event_append_only()"))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_object")


def _on(dialect: str) -> str:
    return " ON audit_event" if dialect == "postgresql" else ""
