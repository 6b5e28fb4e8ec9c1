"""The flag scan: raises a flag for everything late or wrong and clears the flags whose
cause is gone, in a few set-based statements per kind of flag and one transaction.

For each kind (``FLAG_KINDS``) the scan runs, in this order:

1. an UPDATE that clears the open flags whose subject no longer meets the rule;
2. for the kinds whose escalation or severity depends on the subject (overdue milestones
   and action items, bottlenecks past SLA), an UPDATE that moves the open flags up the
   escalation ladder;
3. an ``INSERT … SELECT … ON CONFLICT DO NOTHING`` of the subjects that meet the rule: the
   partial unique index ``uq_flags_open_kind_subject`` skips those with an open flag
   already, and keeps it to one open flag per kind and subject even when two scans run at
   once.

Then every open flag reaches the inbox of each reader it has not reached yet
(``operations.notifications.notify_flags``): the nodal officer of its department when it is
raised, NIC and the Secretary when it is escalated to them; with the scan, not the next
morning's digest.

The rules themselves come from ``tracker.rules``. Running the scan twice changes nothing
the second time; a scan that fails midway is rolled back whole by its caller.
"""
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models import ActionItem, Bottleneck, Department, DigitalAsset, Flag, Milestone
from models.flag import FLAG_KINDS
from tracker import rules
from tracker.extensions import db
from tracker.operations.notifications import notify_flags
from tracker.settings import Thresholds

# Any fixed number: PostgreSQL scans queue behind each other on this advisory lock, which
# keeps two concurrent scans from deadlocking on each other's rows.
SCAN_LOCK_KEY = 7_311_2026


class json_object(FunctionElement):
    """``json_object(k1, v1, k2, v2, …)``: a JSON object built in SQL on either backend."""

    type = sa.JSON()
    name = "json_object"
    inherit_cache = True


@compiles(json_object)
def _json_object_default(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "postgresql")
def _json_object_postgresql(element, compiler, **kw):
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


def _details(**values):
    args = []
    for key, value in values.items():
        args.extend([sa.literal(key, sa.String), value])
    return json_object(*args)


@dataclass(frozen=True)
class FlagRule:
    """One kind of flag: which rows are its subjects and what its flags say."""

    kind: str
    subject_type: str
    model: type
    where: object  # SQL condition over ``model``: the subject deserves a flag
    severity: object  # a severity name, or an SQL expression over ``model``
    escalation: object  # an escalation level, or an SQL expression over ``model``
    details: object  # SQL JSON object over ``model``, stored when the flag is raised

    @property
    def subject_id(self):
        return self.model.id

    @property
    def department_id(self):
        return self.model.id if self.model is Department else self.model.department_id

    @property
    def moves(self):
        """True when severity or escalation change with time and must be kept up to date."""
        return not (isinstance(self.severity, str) and isinstance(self.escalation, str))


def flag_rules(today: date, t: Thresholds):
    """The kinds of flag, each with its rule from ``tracker.rules``."""
    # The label names the subject as people know it ("FISH-08 · Online fishing licence"):
    # the flag lists, the inbox and the e-mail show it as it is.
    milestone_details = _details(
        label=Milestone.code + " · " + Milestone.title, due_date=Milestone.due_date
    )
    milestone_escalation = rules.overdue_escalation_sql(Milestone.due_date, today, t)
    item_escalation = rules.overdue_escalation_sql(ActionItem.due_date, today, t)
    websites = DigitalAsset.kind.in_(rules.WEBSITE_KINDS)
    asset_details = _details(label=DigitalAsset.name, url=DigitalAsset.url)
    certificate_details = _details(
        label=DigitalAsset.name, url=DigitalAsset.url, valid_until=DigitalAsset.audit_valid_until
    )
    found = [
        FlagRule(
            "milestone_overdue", "milestone", Milestone, rules.overdue_sql(today),
            rules.overdue_flag_severity_sql(milestone_escalation), milestone_escalation,
            milestone_details,
        ),
        FlagRule(
            "milestone_at_risk", "milestone", Milestone, rules.at_risk_sql(today, t),
            rules.FLAG_SEVERITY["milestone_at_risk"], "department", milestone_details,
        ),
        FlagRule(
            "milestone_stale", "milestone", Milestone, rules.stale_sql(today, t),
            rules.FLAG_SEVERITY["milestone_stale"], "department", milestone_details,
        ),
        FlagRule(
            "bottleneck_past_sla", "bottleneck", Bottleneck, rules.past_sla_sql(today, t),
            rules.past_sla_flag_severity_sql(), rules.PAST_SLA_ESCALATION,
            _details(
                label=Bottleneck.title, severity=Bottleneck.severity,
                raised_on=Bottleneck.raised_on, milestone_id=Bottleneck.milestone_id,
            ),
        ),
        FlagRule(
            "action_item_overdue", "action_item", ActionItem,
            rules.action_item_overdue_sql(today),
            rules.overdue_flag_severity_sql(item_escalation), item_escalation,
            _details(
                label=sa.func.substr(ActionItem.text, 1, 200), due_date=ActionItem.due_date,
                meeting_id=ActionItem.meeting_id,
            ),
        ),
        FlagRule(
            "certificate_expiring", "digital_asset", DigitalAsset,
            rules.certificate_expiring_sql(today, t),
            rules.FLAG_SEVERITY["certificate_expiring"], "department", certificate_details,
        ),
        FlagRule(
            "certificate_expired", "digital_asset", DigitalAsset,
            rules.certificate_expired_sql(today),
            rules.FLAG_SEVERITY["certificate_expired"], "department", certificate_details,
        ),
        FlagRule(
            "website_stale", "digital_asset", DigitalAsset,
            sa.and_(websites, rules.website_stale_sql(today, t)),
            rules.FLAG_SEVERITY["website_stale"], "department",
            _details(
                label=DigitalAsset.name, url=DigitalAsset.url,
                last_content_update=DigitalAsset.last_content_update,
            ),
        ),
        FlagRule(
            "website_down", "digital_asset", DigitalAsset,
            sa.and_(websites, rules.website_down_sql()),
            rules.FLAG_SEVERITY["website_down"], "department", asset_details,
        ),
        FlagRule(
            "website_no_https", "digital_asset", DigitalAsset,
            sa.and_(websites, rules.website_no_https_sql()),
            rules.FLAG_SEVERITY["website_no_https"], "department", asset_details,
        ),
        FlagRule(
            "no_submitted_plan", "department", Department, rules.no_submitted_plan_sql(),
            rules.FLAG_SEVERITY["no_submitted_plan"], "department",
            _details(label=Department.name, code=Department.code),
        ),
    ]
    found += [
        FlagRule(
            "predecessor_at_risk", "milestone", Milestone, rules.predecessor_at_risk_sql(today),
            rules.FLAG_SEVERITY["predecessor_at_risk"], "department",
            _details(label=Milestone.code + " · " + Milestone.title, due_date=Milestone.due_date,
                     predecessor=rules.predecessor_at_risk_label_sql(today),
                     predecessor_id=rules.predecessor_at_risk_id_sql(today)),
        ),
        FlagRule(
            "forecast_to_slip", "milestone", Milestone, rules.forecast_to_slip_sql(today, t),
            rules.FLAG_SEVERITY["forecast_to_slip"], "department",
            _details(label=Milestone.code + " · " + Milestone.title, due_date=Milestone.due_date,
                     forecast=rules.forecast_on_sql()),
        ),
    ]
    assert tuple(r.kind for r in found) == FLAG_KINDS, "every kind of flag has its rule"
    return found


def _value(value):
    return sa.literal(value, sa.String) if isinstance(value, str) else value


def _open_flags(rule):
    return sa.and_(
        Flag.kind == rule.kind,
        Flag.subject_type == rule.subject_type,
        Flag.cleared_at.is_(None),
    )


def clear_statement(rule, now: datetime):
    """Clear the open flags of this kind whose subject no longer meets the rule (or is gone)."""
    still_true = sa.exists().where(rule.subject_id == Flag.subject_id, rule.where)
    return (
        sa.update(Flag)
        .where(_open_flags(rule), sa.not_(still_true))
        .values(cleared_at=now)
    )


def escalate_statement(rule):
    """Bring the escalation and severity of the open flags of this kind up to date."""
    severity, escalation = _value(rule.severity), _value(rule.escalation)
    return (
        sa.update(Flag)
        .where(
            _open_flags(rule),
            rule.subject_id == Flag.subject_id,
            sa.or_(Flag.escalation != escalation, Flag.severity != severity),
        )
        .values(escalation=escalation, severity=severity)
    )


def raise_statement(rule, now: datetime, dialect: str):
    """Raise a flag for each subject meeting the rule that has no open flag of this kind.

    The unique index decides, row by row, which subjects already have one (an index probe
    each, whatever the table statistics say; an anti-join here was planned as a nested
    loop over the whole flags table when the statistics lagged behind a big first scan)."""
    select = sa.select(
        sa.literal(rule.kind, sa.String),
        sa.literal(rule.subject_type, sa.String),
        rule.subject_id,
        rule.department_id,
        _value(rule.severity),
        _value(rule.escalation),
        sa.literal(now, sa.DateTime),
        rule.details,
    ).where(rule.where)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Flag)
    columns = ["kind", "subject_type", "subject_id", "department_id", "severity",
               "escalation", "raised_at", "details"]
    return (
        insert.from_select(columns, select)
        .on_conflict_do_nothing(
            index_elements=["kind", "subject_type", "subject_id"],
            index_where=Flag.cleared_at.is_(None),
        )
        .execution_options(preserve_rowcount=True)
    )


def refresh_forecasts(today: date, conn):
    """Store every open milestone's forecast (``tracker.forecast``) for the 'forecast to
    slip' flag: only the rows that changed are written."""
    from models import MilestoneForecast
    from tracker.forecast import forecast_all

    table = MilestoneForecast.__table__
    now = {i: f.on for i, f in forecast_all(today, connection=conn).items()}
    stored = dict(conn.execute(sa.select(table.c.milestone_id, table.c.forecast_on)).all())
    gone = [i for i in stored if i not in now]
    changed = [{"m": i, "on": on, "today": today} for i, on in now.items()
               if i in stored and stored[i] != on]
    new = [{"milestone_id": i, "forecast_on": on, "computed_on": today}
           for i, on in now.items() if i not in stored]
    for start in range(0, len(gone), 5000):
        conn.execute(sa.delete(table).where(table.c.milestone_id.in_(gone[start:start + 5000])))
    if changed:
        conn.execute(sa.update(table).where(table.c.milestone_id == sa.bindparam("m"))
                     .values(forecast_on=sa.bindparam("on"), computed_on=sa.bindparam("today")),
                     changed)
    if new:
        conn.execute(sa.insert(table), new)


@dataclass
class ScanResult:
    raised: int = 0
    cleared: int = 0
    escalated: int = 0
    notified: int = 0
    by_kind: dict | None = None

    def as_dict(self):
        return {"flags raised": self.raised, "flags cleared": self.cleared,
                "flags escalated": self.escalated, "inbox notifications": self.notified}


def scan(today: date, now: datetime, t: Thresholds, connection=None) -> ScanResult:
    """Raise, escalate and clear flags as of ``today`` (flags stamped ``now``, naive UTC).

    Runs in the caller's transaction (the session's connection by default) and does not
    commit; the caller commits once, or rolls back and leaves the flags as they were.
    """
    conn = connection if connection is not None else db.session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCAN_LOCK_KEY)))
        # These statements are cheap index work; compiling them with JIT costs more than
        # it saves (seconds at 100,000 milestones).
        conn.exec_driver_sql("SET LOCAL jit = off")
    result = ScanResult(by_kind={})
    refresh_forecasts(today, conn)
    for rule in flag_rules(today, t):
        cleared = conn.execute(clear_statement(rule, now)).rowcount
        escalated = conn.execute(escalate_statement(rule)).rowcount if rule.moves else 0
        raised = conn.execute(raise_statement(rule, now, dialect)).rowcount
        result.cleared += cleared
        result.escalated += escalated
        result.raised += raised
        result.by_kind[rule.kind] = {"raised": raised, "cleared": cleared, "escalated": escalated}
    result.notified = notify_flags(now, conn)
    return result


def run(today: date, now: datetime) -> dict:
    """The scheduled job: one scan, committed."""
    from tracker.settings import thresholds

    result = scan(today, now, thresholds())
    db.session.commit()
    return result.as_dict()
