"""department-wise meeting agenda: agenda item kind 'department', what the agenda left off

Revision ID: 0005_meeting
Revises: 0005_attach
Create Date: 2026-12-04 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_meeting'
down_revision = '0005_attach'
branch_labels = None
depends_on = None

OLD_KINDS = ('flag', 'bottleneck', 'stale_department', 'no_plan', 'atr', 'free')
NEW_KINDS = OLD_KINDS + ('department',)



def upgrade():
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agenda_items_agenda_kind'), type_='check')
        batch_op.create_check_constraint('agenda_kind', sa.column('kind').in_(NEW_KINDS))
    with op.batch_alter_table('review_meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_off', sa.JSON(), nullable=True))


def downgrade():
    op.execute("DELETE FROM agenda_items WHERE kind = 'department'")
    with op.batch_alter_table('review_meetings', schema=None) as batch_op:
        batch_op.drop_column('left_off')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agenda_items_agenda_kind'), type_='check')
        batch_op.create_check_constraint('agenda_kind', sa.column('kind').in_(OLD_KINDS))
