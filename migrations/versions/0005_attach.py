"""attachments: evidence on milestone updates and bottlenecks, signed minutes of meetings

Revision ID: 0005_attach
Revises: 0005_jobs
Create Date: 2026-12-04 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_attach'
down_revision = '0005_jobs'
branch_labels = None
depends_on = None

ONE_PARENT = " + ".join(
    f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)"
    for c in ("milestone_update_id", "bottleneck_id", "meeting_id")) + " = 1"


def upgrade():
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('milestone_update_id', sa.Integer(), nullable=True),
        sa.Column('bottleneck_id', sa.Integer(), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('purpose', sa.Enum('evidence', 'signed_minutes', name='attachment_purpose',
                                     native_enum=False, create_constraint=True, length=14),
                  nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(ONE_PARENT, name=op.f('ck_attachments_one_parent')),
        sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size_positive')),
        sa.ForeignKeyConstraint(['bottleneck_id'], ['bottlenecks.id'],
                                name=op.f('fk_attachments_bottleneck_id_bottlenecks')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_attachments_department_id_departments')),
        sa.ForeignKeyConstraint(['meeting_id'], ['review_meetings.id'],
                                name=op.f('fk_attachments_meeting_id_review_meetings')),
        sa.ForeignKeyConstraint(['milestone_update_id'], ['milestone_updates.id'],
                                name=op.f('fk_attachments_milestone_update_id_milestone_updates')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_attachments_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key')),
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_bottleneck', ['bottleneck_id'], unique=False)
        batch_op.create_index('ix_attachments_meeting', ['meeting_id'], unique=False)
        batch_op.create_index('ix_attachments_milestone_update', ['milestone_update_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_milestone_update')
        batch_op.drop_index('ix_attachments_meeting')
        batch_op.drop_index('ix_attachments_bottleneck')
    op.drop_table('attachments')
