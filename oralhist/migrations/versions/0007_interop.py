"""interop: the OAI-PMH record table (datestamps and persistent deleted records)

Revision ID: 0007_interop
Revises: 0006_jobs
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = "0007_interop"
down_revision = "0006_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oai_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_key', sa.Integer(), nullable=False),
    sa.Column('set_spec', sa.String(length=80), nullable=False),
    sa.Column('datestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oai_record')),
    sa.UniqueConstraint('interview_key', name=op.f('uq_oai_record_interview_key'))
    )
    with op.batch_alter_table('oai_record', schema=None) as batch_op:
        batch_op.create_index('ix_oai_record_datestamp', ['datestamp', 'interview_key'], unique=False)
    # Interviews published before this migration: public records as of their last change.
    op.execute(
        "INSERT INTO oai_record (interview_key, set_spec, datestamp, deleted) "
        "SELECT interview.id, COALESCE(collection.slug, ''), interview.updated_at, false "
        "FROM interview LEFT JOIN collection ON collection.id = interview.collection_id "
        "WHERE interview.status = 'published'"
    )


def downgrade():
    with op.batch_alter_table('oai_record', schema=None) as batch_op:
        batch_op.drop_index('ix_oai_record_datestamp')
    op.drop_table('oai_record')
