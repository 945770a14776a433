"""segment cue id, cue settings, note and packed word timings; index point GPS

Revision ID: 0004_transcripts
Revises: 0003_races
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_transcripts"
down_revision = "0003_races"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cue_id", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cue_settings", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("words", sa.JSON(), nullable=True))
    with op.batch_alter_table("index_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gps", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("index_point", schema=None) as batch_op:
        batch_op.drop_column("gps")
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.drop_column("words")
        batch_op.drop_column("note")
        batch_op.drop_column("cue_settings")
        batch_op.drop_column("cue_id")
