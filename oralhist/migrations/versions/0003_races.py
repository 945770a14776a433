"""recording positions unique per interview

Concurrent uploads could give two parts of one interview the same position (issue 12 item 13:
``[0,0,1,1,1,1,2,...]``). Existing duplicates are repaired first, keeping the order the
archive showed (position, then id), then the constraint is added.

Revision ID: 0003_races
Revises: 0002_policy
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_races"
down_revision = "0002_policy"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    recording = sa.table(
        "recording",
        sa.column("id", sa.Integer),
        sa.column("interview_id", sa.Integer),
        sa.column("position", sa.Integer),
    )
    rows = bind.execute(
        sa.select(recording.c.id, recording.c.interview_id, recording.c.position).order_by(
            recording.c.interview_id, recording.c.position, recording.c.id
        )
    ).all()
    wanted: dict[int, int] = {}
    next_position: dict[int, int] = {}
    for row in rows:
        position = next_position.get(row.interview_id, 0)
        next_position[row.interview_id] = position + 1
        if row.position != position:
            wanted[row.id] = position
    # Through negative positions, so no step of the repair collides with another row.
    for step in (lambda p: -1 - p, lambda p: p):
        for row_id, position in wanted.items():
            bind.execute(
                recording.update().where(recording.c.id == row_id).values(position=step(position))
            )
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_recording_position"), ["interview_id", "position"]
        )


def downgrade():
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_recording_position"), type_="unique")
