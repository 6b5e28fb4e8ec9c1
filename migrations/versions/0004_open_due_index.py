"""open milestones by due date: partial index for the overdue list

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OPEN = "status NOT IN ('completed', 'dropped')"


def upgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_open_due', ['due_date', 'id'], unique=False,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_open_due',
                            sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
