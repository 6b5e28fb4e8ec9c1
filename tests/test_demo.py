"""The demo data never dates history after the moment it is seeded."""
from datetime import timedelta

import sqlalchemy as sa

from models.base import utcnow
from tracker import demo
from tracker.extensions import db

# Dates that record what happened (the others, due and target dates, look ahead).
HISTORY_DATES = {
    ("milestones", "completed_on"), ("bottlenecks", "raised_on"),
    ("bottlenecks", "resolved_on"), ("review_meetings", "meeting_date"),
    ("digital_assets", "last_content_update"), ("digital_assets", "accessibility_audit_on"),
}


def test_demo_history_is_never_after_now(app):
    before = utcnow()
    # Early morning in Kolkata: the local date is already a day ahead of UTC's. Every
    # timestamp made for 'today' at a fixed hour would lie in the future.
    today = before.date() + timedelta(days=1)
    demo.seed(today, "demo", now=before)
    db.session.commit()
    after = utcnow()
    late = []
    checked = 0
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            try:
                python_type = column.type.python_type
            except NotImplementedError:
                continue
            if python_type.__name__ == "datetime":
                limit = after
            elif (table.name, column.name) in HISTORY_DATES:
                limit = today
            else:
                continue
            latest = db.session.execute(sa.select(sa.func.max(column))).scalar()
            if latest is not None:
                checked += 1
                if latest > limit:
                    late.append(f"{table.name}.{column.name} = {latest} > {limit}")
    assert checked >= 15
    assert late == [], late
    # The history of a milestone keeps its order.
    rows = db.session.execute(sa.text(
        "SELECT milestone_id, at, id FROM milestone_updates ORDER BY milestone_id, id")).all()
    by_milestone = {}
    for milestone_id, at, _ in rows:
        by_milestone.setdefault(milestone_id, []).append(at)
    assert all(ats == sorted(ats) for ats in by_milestone.values())


def test_the_demo_roadmap_has_dependencies_the_scan_follows(app):
    """Services go live after the website's audit, payments after the move to the cloud, and
    Health's integration waits for the Public Works Department: the scan flags successors."""
    from jobs import scan
    from models import Department, Flag, Milestone, MilestoneDependency
    from tracker import clock
    from tracker.settings import thresholds

    demo.seed(clock.today(), "demo")
    db.session.commit()
    pred, succ = sa.orm.aliased(Milestone), sa.orm.aliased(Milestone)
    links = db.session.execute(
        sa.select(pred.title, succ.title, pred.department_id != succ.department_id)
        .select_from(MilestoneDependency)
        .join(pred, pred.id == MilestoneDependency.predecessor_id)
        .join(succ, succ.id == MilestoneDependency.successor_id)).all()
    assert len(links) > 20
    assert any(p.startswith("Security audit") and s.startswith("Integrate '")
               for p, s, _cross in links)
    cross = [(p, s) for p, s, across in links if across]
    health = db.session.execute(sa.select(Department.id).filter_by(code="health")).scalar_one()
    assert len(cross) == 1 and db.session.execute(
        sa.select(Milestone.department_id).filter_by(title=cross[0][1])
        .where(Milestone.department_id == health)).scalar() == health
    scan.scan(clock.today(), utcnow(), thresholds())
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count(Flag.id))
                              .filter_by(kind="predecessor_at_risk")).scalar() > 0
