"""access: silenced copies of redacted recordings become derivatives (``derivative`` rows of
kinds ``redacted-access`` and ``redacted-master``); the ``redacted_audio`` table goes.

Its rows cannot be moved: they record a digest of the ranges, not the ranges a derivative's
settings hold. The worker's ``redacted audio`` duty queues the derivatives the redactions in
force call for, so listeners get silenced copies again once those jobs have run (meanwhile
a part with a redaction answers 503, as before a copy is made: never the master). The old
copies' files are left in storage: ``oralhist fixity`` lists them as orphans.

Revision ID: 0014_access
Revises: 0013_fidelity
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_access"
down_revision = "0013_fidelity"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('redacted_audio', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redacted_audio_storage_key'))
    op.drop_table('redacted_audio')


def downgrade():
    # The silenced derivatives go (the older code neither reads nor removes them); the old
    # table comes back empty and that code's worker duty makes its copies again.
    op.execute(
        "DELETE FROM derivative WHERE kind IN ('redacted-access', 'redacted-master')"
    )
    op.create_table('redacted_audio',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('master_sha256', sa.String(length=64), nullable=False),
    sa.Column('spans_hash', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mime', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redacted_audio')),
    sa.UniqueConstraint('master_sha256', 'spans_hash', name='uq_redacted_audio_source')
    )
    with op.batch_alter_table('redacted_audio', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redacted_audio_storage_key'), ['storage_key'], unique=False)
