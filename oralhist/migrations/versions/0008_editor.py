"""editor: versions share unchanged segments and index points (last_version, sparse
positions); a version records the version it was edited on and what changed

Existing data is converted: the rows of every version but an interview's newest are retired
at their own version (``last_version``), and positions get gaps (x 2**20) so an edit can
insert between two rows without renumbering the rest. The downgrade gives every version its
own copy of the rows it shares again.

Revision ID: 0008_editor
Revises: 0007_interop
Create Date: 2026-12-06 08:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_editor"
down_revision = "0007_interop"
branch_labels = None
depends_on = None

GAP = 1 << 20
TABLES = ('segment', 'index_point')


def upgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changes', sa.JSON(none_as_null=True), nullable=True))
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('last_version', sa.Integer(), nullable=True))
            batch_op.alter_column(
                'position', existing_type=sa.Integer(), type_=sa.BigInteger(),
                existing_nullable=False,
            )
        op.execute(
            f"UPDATE {table} SET last_version = (SELECT t.version FROM transcript t "
            f"WHERE t.id = {table}.transcript_id) WHERE transcript_id IN ("
            "SELECT t.id FROM transcript t WHERE t.version < (SELECT max(t2.version) "
            "FROM transcript t2 WHERE t2.interview_id = t.interview_id))"
        )
        # Negative first, so no two rows of a version ever hold one position mid-update.
        op.execute(f"UPDATE {table} SET position = -1 - position")
        op.execute(f"UPDATE {table} SET position = (-1 - position) * {GAP}")


def downgrade():
    for table in TABLES:
        columns = (
            'start_ms, end_ms, speaker_id, text, cue_id, cue_settings, note, words'
            if table == 'segment'
            else 'start_ms, title, partial_transcript, synopsis, keywords, subjects, '
            'hyperlinks, gps'
        )
        # Every later version that holds a shared row gets its own copy.
        op.execute(
            f"INSERT INTO {table} (transcript_id, position, last_version, {columns}) "
            f"SELECT t.id, s.position, t.version, "
            + ', '.join(f's.{c.strip()}' for c in columns.split(','))
            + f" FROM {table} s JOIN transcript intro ON intro.id = s.transcript_id "
            "JOIN transcript t ON t.interview_id = intro.interview_id "
            "AND t.version > intro.version "
            "AND (s.last_version IS NULL OR s.last_version >= t.version)"
        )
        # Positions back to 0..n-1 per version, ranked before any is changed.
        op.execute(f"CREATE TABLE _oh_rank_{table} (id INTEGER PRIMARY KEY, r BIGINT NOT NULL)")
        op.execute(
            f"INSERT INTO _oh_rank_{table} (id, r) SELECT s.id, (SELECT count(*) FROM {table} s2 "
            f"WHERE s2.transcript_id = s.transcript_id AND s2.position < s.position) FROM {table} s"
        )
        op.execute(f"UPDATE {table} SET position = -1 - position")
        op.execute(
            f"UPDATE {table} SET position = (SELECT r FROM _oh_rank_{table} "
            f"WHERE _oh_rank_{table}.id = {table}.id)"
        )
        op.execute(f"DROP TABLE _oh_rank_{table}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'position', existing_type=sa.BigInteger(), type_=sa.Integer(),
                existing_nullable=False,
            )
            batch_op.drop_column('last_version')
    # Not a batch (which would copy, drop and rename ``transcript`` on SQLite, and dropping
    # it cascades to every segment); ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL).
    op.execute('ALTER TABLE transcript DROP COLUMN changes')
    op.execute('ALTER TABLE transcript DROP COLUMN base_version')
