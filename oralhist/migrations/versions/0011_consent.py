"""consent: release agreements, redactions, date of death, the open-publication override

Revision ID: 0011_consent
Revises: 0010_player
Create Date: 2026-12-06 08:40:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = "0011_consent"
down_revision = "0010_player"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_of_death', sa.Date(), nullable=True))
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('consent_override', sa.Text(), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('consent_transcript_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('consent_audio_until', sa.Date(), nullable=True))
    op.create_table('release_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('publication', sa.String(length=20), nullable=False),
    sa.Column('closed_until', sa.Date(), nullable=True),
    sa.Column('closed_years_after_death', sa.Integer(), nullable=True),
    sa.Column('anonymise', sa.Boolean(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('form_key', sa.String(length=128), nullable=True),
    sa.Column('form_sha256', sa.String(length=64), nullable=True),
    sa.Column('form_size', sa.BigInteger(), nullable=True),
    sa.Column('form_filename', sa.String(length=255), nullable=True),
    sa.Column('form_mime', sa.String(length=80), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('none', 'requested', 'signed', 'declined', 'withdrawn')", name=op.f('ck_release_agreement_status')),
    sa.CheckConstraint("publication IN ('full', 'transcript_only', 'audio_only', 'none')", name=op.f('ck_release_agreement_publication')),
    sa.CheckConstraint('closed_years_after_death IS NULL OR closed_years_after_death BETWEEN 0 AND 200', name=op.f('ck_release_agreement_closed_years')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_release_agreement_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_release_agreement_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_agreement')),
    sa.UniqueConstraint('participant_id', name=op.f('uq_release_agreement_participant_id'))
    )
    with op.batch_alter_table('release_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_agreement_form_key'), ['form_key'], unique=False)
    op.create_table('redaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('start_ms', sa.Integer(), nullable=False),
    sa.Column('end_ms', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('start_ms >= 0', name=op.f('ck_redaction_start')),
    sa.CheckConstraint('end_ms > start_ms', name=op.f('ck_redaction_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_redaction_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_redaction_interview_id_interview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redaction'))
    )
    with op.batch_alter_table('redaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redaction_interview_id'), ['interview_id'], unique=False)


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


def downgrade():
    with op.batch_alter_table('redacted_audio', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redacted_audio_storage_key'))
    op.drop_table('redacted_audio')
    with op.batch_alter_table('redaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redaction_interview_id'))
    op.drop_table('redaction')
    with op.batch_alter_table('release_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_agreement_form_key'))
    op.drop_table('release_agreement')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch recreate: on SQLite
    # recreating a table deletes its rows first, which cascades to every row that refers
    # to them (transcripts, segments, participants...).
    for column in ('consent_audio_until', 'consent_transcript_until', 'consent_override'):
        op.execute(f'ALTER TABLE interview DROP COLUMN {column}')
    op.execute('ALTER TABLE person DROP COLUMN date_of_death')
