"""jobs: the background job table

Revision ID: 0006_jobs
Revises: 0005_edge
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_jobs'
down_revision = '0005_edge'
branch_labels = None
depends_on = None

ACTIVE_EXCLUSIVE = "is_exclusive AND status IN ('queued', 'running')"


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=255), nullable=False),
    sa.Column('is_exclusive', sa.Boolean(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('recording_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=255), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('retry_of_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_job_status')),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_job_progress')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_job_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_job_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recording_id'], ['recording.id'], name=op.f('fk_job_recording_id_recording'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['retry_of_id'], ['job.id'], name=op.f('fk_job_retry_of_id_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index('ix_job_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(
            'uq_job_exclusive_active',
            ['interview_id'],
            unique=True,
            sqlite_where=sa.text(ACTIVE_EXCLUSIVE),
            postgresql_where=sa.text(ACTIVE_EXCLUSIVE),
        )


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('uq_job_exclusive_active')
        batch_op.drop_index('ix_job_status_id')
        batch_op.drop_index(batch_op.f('ix_job_recording_id'))
        batch_op.drop_index(batch_op.f('ix_job_interview_id'))
        batch_op.drop_index(batch_op.f('ix_job_created_by_id'))
    op.drop_table('job')
