"""fidelity: the OHMS record's catalogue fields on the interview (usage, funding, subjects,
keywords, media URL)

Revision ID: 0013_fidelity
Revises: 0012_align
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_fidelity"
down_revision = "0012_align"
branch_labels = None
depends_on = None

COLUMNS = ('usage', 'funding', 'subjects', 'keywords', 'media_url')


def upgrade():
    # ALTER TABLE ... ADD COLUMN on both databases (no batch recreate of ``interview``).
    op.add_column('interview', sa.Column('usage', sa.Text(), server_default='', nullable=False))
    op.add_column('interview', sa.Column('funding', sa.Text(), server_default='', nullable=False))
    op.add_column(
        'interview', sa.Column('subjects', sa.JSON(), server_default='[]', nullable=False)
    )
    op.add_column(
        'interview', sa.Column('keywords', sa.JSON(), server_default='[]', nullable=False)
    )
    op.add_column(
        'interview',
        sa.Column('media_url', sa.String(length=2048), server_default='', nullable=False),
    )


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch recreate: on SQLite
    # recreating ``interview`` deletes its rows first, which cascades to every row that
    # refers to them.
    for column in reversed(COLUMNS):
        op.execute(f'ALTER TABLE interview DROP COLUMN {column}')
