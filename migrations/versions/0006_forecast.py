"""forecasts: dependencies between milestones, the scan's forecasts, two new kinds of flag

Revision ID: 0006_forecast
Revises: 0005_meeting
Create Date: 2026-12-04 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_forecast'
down_revision = '0005_meeting'
branch_labels = None
depends_on = None

OLD_KINDS = ('milestone_overdue', 'milestone_at_risk', 'milestone_stale', 'bottleneck_past_sla',
             'action_item_overdue', 'certificate_expiring', 'certificate_expired',
             'website_stale', 'website_down', 'website_no_https', 'no_submitted_plan')
NEW_KINDS = OLD_KINDS + ('predecessor_at_risk', 'forecast_to_slip')


def upgrade():
    op.create_table(
        'milestone_dependencies',
        sa.Column('predecessor_id', sa.Integer(), nullable=False),
        sa.Column('successor_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('predecessor_id <> successor_id',
                           name=op.f('ck_milestone_dependencies_not_itself')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_milestone_dependencies_created_by_id_users')),
        sa.ForeignKeyConstraint(['predecessor_id'], ['milestones.id'], ondelete='CASCADE',
                                name=op.f('fk_milestone_dependencies_predecessor_id_milestones')),
        sa.ForeignKeyConstraint(['successor_id'], ['milestones.id'], ondelete='CASCADE',
                                name=op.f('fk_milestone_dependencies_successor_id_milestones')),
        sa.PrimaryKeyConstraint('predecessor_id', 'successor_id',
                                name=op.f('pk_milestone_dependencies')),
    )
    with op.batch_alter_table('milestone_dependencies', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_dependencies_successor', ['successor_id'],
                              unique=False)
    op.create_table(
        'milestone_forecasts',
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('forecast_on', sa.Date(), nullable=False),
        sa.Column('computed_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], ondelete='CASCADE',
                                name=op.f('fk_milestone_forecasts_milestone_id_milestones')),
        sa.PrimaryKeyConstraint('milestone_id', name=op.f('pk_milestone_forecasts')),
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', sa.column('kind').in_(NEW_KINDS))


def downgrade():
    op.execute("DELETE FROM flags WHERE kind IN ('predecessor_at_risk', 'forecast_to_slip')")
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', sa.column('kind').in_(OLD_KINDS))
    op.drop_table('milestone_forecasts')
    with op.batch_alter_table('milestone_dependencies', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_dependencies_successor')
    op.drop_table('milestone_dependencies')
