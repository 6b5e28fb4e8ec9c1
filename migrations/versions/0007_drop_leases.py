"""drop scheduler_leases: the scheduler's lock is a PostgreSQL advisory lock or a file lock
beside the SQLite database (jobs/locks.py) since 0005_jobs; nothing reads the table.

Revision ID: 0007_drop_leases
Revises: 0006_forecast
Create Date: 2026-12-04 15:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_drop_leases'
down_revision = '0006_forecast'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('scheduler_leases')


def downgrade():
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
