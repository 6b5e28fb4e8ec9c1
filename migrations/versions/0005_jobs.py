"""job runs: every run kept (history), its outcome and the day a date-bound run covers

Revision ID: 0005_jobs
Revises: 0004
Create Date: 2026-12-04 11:00:00

The old table kept one row per job (the last run); its rows are carried over as the first
history rows. The locks that replace the lease live in the database server (advisory locks)
or beside the SQLite file, not in a table.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_jobs'
down_revision = '0004'
branch_labels = None
depends_on = None


def _outcome(ok):
    return {True: "ok", False: "failed", None: "running"}[ok]


def upgrade():
    conn = op.get_bind()
    old = sa.table('job_runs', sa.column('job_id', sa.String), sa.column('started_at', sa.DateTime),
                   sa.column('finished_at', sa.DateTime), sa.column('ok', sa.Boolean),
                   sa.column('summary', sa.JSON), sa.column('error', sa.String),
                   sa.column('holder', sa.String))
    rows = conn.execute(sa.select(old)).mappings().all()
    op.drop_table('job_runs')
    new = op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('covers_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    op.create_index('ix_job_runs_job_day', 'job_runs', ['job_id', 'covers_day'], unique=False)
    op.create_index('ix_job_runs_job_started', 'job_runs', ['job_id', 'started_at'], unique=False)
    if rows:
        op.bulk_insert(new, [
            {"job_id": r["job_id"], "holder": r["holder"], "started_at": r["started_at"],
             "finished_at": r["finished_at"],
             "outcome": _outcome(r["ok"]) if r["finished_at"] or r["ok"] is not None
             else "abandoned",
             "summary": r["summary"] or {}, "error": r["error"], "covers_day": None}
            for r in rows])


def downgrade():
    conn = op.get_bind()
    new = sa.table('job_runs', sa.column('id', sa.Integer), sa.column('job_id', sa.String),
                   sa.column('started_at', sa.DateTime), sa.column('finished_at', sa.DateTime),
                   sa.column('outcome', sa.String), sa.column('summary', sa.JSON),
                   sa.column('error', sa.String), sa.column('holder', sa.String))
    rows = conn.execute(sa.select(new).order_by(new.c.id)).mappings().all()
    latest = {r["job_id"]: r for r in rows}
    op.drop_index('ix_job_runs_job_started', table_name='job_runs')
    op.drop_index('ix_job_runs_job_day', table_name='job_runs')
    op.drop_table('job_runs')
    old = op.create_table('job_runs',
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_runs'))
    )
    if latest:
        op.bulk_insert(old, [
            {"job_id": r["job_id"], "started_at": r["started_at"], "finished_at": r["finished_at"],
             "ok": {"ok": True, "running": None}.get(r["outcome"], False),
             "summary": r["summary"] or {}, "error": r["error"], "holder": r["holder"]}
            for r in latest.values()])
