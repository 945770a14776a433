"""deposit: audio staged on the one-step deposit page; drafts submitted for review

Revision ID: 0009_deposit
Revises: 0008_editor
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_deposit"
down_revision = "0008_editor"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_audio',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.String(length=40), nullable=False),
    sa.Column('mime', sa.String(length=80), nullable=False),
    sa.Column('codec', sa.String(length=80), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('bitrate', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('browser_playable', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staged_audio_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_audio'))
    )
    with op.batch_alter_table('staged_audio', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_audio_storage_key'), ['storage_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_audio_user_id'), ['user_id'], unique=False)

    op.create_table('deposit_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_deposit_job_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_deposit_job_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit_job')),
    sa.UniqueConstraint('job_id', name=op.f('uq_deposit_job_job_id'))
    )
    with op.batch_alter_table('deposit_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposit_job_notified_at'), ['notified_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deposit_job_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_interview_review_requested_at'), ['review_requested_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')

    op.drop_index('ix_interview_review_requested_at', table_name='interview')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch recreate: on SQLite
    # recreating a table deletes its rows first, which cascades to every row that refers
    # to them (transcripts, segments, participants...).
    op.execute('ALTER TABLE interview DROP COLUMN review_requested_at')

    with op.batch_alter_table('deposit_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposit_job_user_id'))
        batch_op.drop_index(batch_op.f('ix_deposit_job_notified_at'))

    op.drop_table('deposit_job')

    with op.batch_alter_table('staged_audio', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_audio_user_id'))
        batch_op.drop_index(batch_op.f('ix_staged_audio_storage_key'))

    op.drop_table('staged_audio')
