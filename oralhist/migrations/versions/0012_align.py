"""align: proposed (machine-made) transcript versions and their provenance

Revision ID: 0012_align
Revises: 0011_consent
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_align"
down_revision = "0011_consent"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('proposed', sa.Boolean(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('provenance', sa.JSON(), nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch recreate: on SQLite
    # recreating a table deletes its rows first, which cascades to every row that refers
    # to them (transcripts, segments, participants...).
    op.execute('ALTER TABLE transcript DROP COLUMN provenance')
    op.execute('ALTER TABLE transcript DROP COLUMN proposed')
