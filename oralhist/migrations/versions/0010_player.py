"""player: speaker merges kept so they can be undone

Revision ID: 0010_player
Revises: 0009_deposit
Create Date: 2026-12-06 09:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_player"
down_revision = "0009_deposit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('speaker_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('into_id', sa.Integer(), nullable=True),
    sa.Column('source_label', sa.String(length=120), nullable=False),
    sa.Column('source_display_name', sa.String(length=255), nullable=False),
    sa.Column('source_person_id', sa.Integer(), nullable=True),
    sa.Column('took_person', sa.Boolean(), nullable=False),
    sa.Column('segment_ids', sa.JSON(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_speaker_merge_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['into_id'], ['speaker.id'], name=op.f('fk_speaker_merge_into_id_speaker'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_by_id'], ['user.id'], name=op.f('fk_speaker_merge_merged_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_person_id'], ['person.id'], name=op.f('fk_speaker_merge_source_person_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_speaker_merge'))
    )
    with op.batch_alter_table('speaker_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speaker_merge_interview_id'), ['interview_id'], unique=False)


def downgrade():
    with op.batch_alter_table('speaker_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speaker_merge_interview_id'))
    op.drop_table('speaker_merge')
