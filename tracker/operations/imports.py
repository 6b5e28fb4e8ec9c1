"""Importing action plans: the preview of what an upload would change, and applying it.

Between the preview and the confirmation the validated upload waits in the instance folder
(``instance/imports/<token>.xlsx`` with a small JSON note of who uploaded it), so the user's
file is not lost and nothing is trusted from the browser but a random token. On apply the
file is read and checked again, whole, and the changes are made in the caller's one
transaction.
"""
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from flask_babel import gettext as _

from models import ActionPlan, Department, Milestone, MilestoneDependency, MilestoneUpdate
from models.base import utcnow
from tracker import audit
from tracker.extensions import db


@dataclass(frozen=True)
class ImportProblem:
    """One problem of an uploaded plan: where (sheet, row, column) and what."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = [f"sheet {self.sheet}"]
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


TRACKED = ("title", "description", "category", "owner", "start_date", "due_date", "status",
           "percent_complete", "completed_on")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
PENDING_MAX_AGE_SECONDS = 24 * 3600


@dataclass
class Change:
    action: str  # create | update | unchanged
    row: int
    department_code: str
    code: str
    title: str
    changes: dict = field(default_factory=dict)


def active_department_codes():
    return set(db.session.execute(
        sa.select(Department.code).where(Department.active.is_(True))).scalars())


def _existing(rows):
    codes = {r.department_code for r in rows}
    departments = {d.code: d for d in db.session.execute(
        sa.select(Department).where(Department.code.in_(codes))).scalars()}
    ids = [d.id for d in departments.values()]
    milestones = {}
    for m in db.session.execute(sa.select(Milestone).where(Milestone.department_id.in_(ids))).scalars():
        milestones[(m.department_id, m.code.upper())] = m
    return departments, milestones


def plan_changes(rows):
    """What applying ``rows`` would do: one Change per row (two queries)."""
    departments, milestones = _existing(rows)
    result = []
    for r in rows:
        dept = departments[r.department_code]
        m = milestones.get((dept.id, r.code.upper()))
        if m is None:
            result.append(Change("create", r.row, r.department_code, r.code, r.title))
            continue
        new = r.values()
        diff = {f: (getattr(m, f), new[f]) for f in TRACKED if getattr(m, f) != new[f]}
        result.append(Change("update" if diff else "unchanged", r.row, r.department_code,
                             m.code, r.title, diff))
    return result


def apply_plan(rows, user, *, filename=""):
    """Create or update the milestones of each department's plan. Flushes; the caller commits.
    Returns ``{"created": n, "updated": n, "unchanged": n}``.

    Set-based, so that 5,000 rows are a few statements, not 5,000 flushes: the new plans are
    flushed together, the changed milestones in one flush (an UPDATE each, checking the
    version read), and the new milestones, the history rows and the audit entries (in the
    order of the rows) are batched INSERTs."""
    departments, milestones = _existing(rows)
    dept_ids = [d.id for d in departments.values()]
    plans = {p.department_id: p for p in db.session.execute(
        sa.select(ActionPlan).where(ActionPlan.department_id.in_(dept_ids))).scalars()}
    positions = dict(db.session.execute(
        sa.select(Milestone.department_id, sa.func.max(Milestone.position))
        .where(Milestone.department_id.in_(dept_ids))
        .group_by(Milestone.department_id)).all())
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    uid = user.id if user else None

    new_plans = []
    for code in dict.fromkeys(r.department_code for r in rows):
        dept = departments[code]
        if dept.id not in plans:
            plans[dept.id] = ActionPlan(department=dept, title=f"Action plan of {dept.name}",
                                        created_by_id=uid)
            new_plans.append((dept, plans[dept.id]))
    if new_plans:
        db.session.add_all(p for _, p in new_plans)
        db.session.flush()

    # (action, entity, milestone id or the key of a new milestone, changes), in row order.
    entries = [("create", "action_plan", p.id, {"department": d.code, "source": "import"})
               for d, p in new_plans]
    created, history = [], []
    for r in rows:
        dept = departments[r.department_code]
        values = r.values()
        key = (dept.id, r.code.upper())
        m = milestones.get(key)
        if m is None:
            position = positions.get(dept.id)
            position = 0 if position is None else position + 1
            positions[dept.id] = position
            created.append(dict(plan_id=plans[dept.id].id, department_id=dept.id, code=r.code,
                                position=position, updated_by_id=uid, updated_at=now,
                                created_at=now, version=1, **values))
            counts["created"] += 1
            entries.append(("create", "milestone", key,
                            {"code": r.code, **{f: values[f] for f in TRACKED if f in values},
                             "source": filename}))
            continue
        before = audit.snapshot(m, TRACKED)
        old = {f: getattr(m, f) for f in ("status", "percent_complete", "due_date")}
        for f, v in values.items():
            setattr(m, f, v)
        changes = audit.diff(before, audit.snapshot(m, TRACKED))
        if not changes:
            counts["unchanged"] += 1
            continue
        m.updated_at, m.updated_by_id = now, uid
        if any(old[f] != getattr(m, f) for f in old):
            due_changed = old["due_date"] != m.due_date
            history.append(dict(
                milestone_id=m.id, user_id=uid, at=now,
                status_from=old["status"], status_to=m.status,
                percent_from=old["percent_complete"], percent_to=m.percent_complete,
                due_from=old["due_date"], due_to=m.due_date,
                reason="other" if due_changed else None,
                note=f"Imported from {filename}".strip()))
        counts["updated"] += 1
        entries.append(("update", "milestone", m.id, {**changes, "source": filename}))
    db.session.flush()  # the changed milestones (their versions checked)

    new_ids = {}
    if created:
        table = Milestone.__table__
        returned = db.session.execute(
            sa.insert(table).returning(table.c.id, table.c.department_id, table.c.code), created)
        new_ids = {(dept_id, code.upper()): id_ for id_, dept_id, code in returned}
    if history:
        db.session.execute(sa.insert(MilestoneUpdate.__table__), history)
    _apply_dependencies(rows, departments, milestones, new_ids, user)
    audit.record_many(
        [(action, entity, new_ids[ref] if isinstance(ref, tuple) else ref, changes)
         for action, entity, ref, changes in entries]
        + [("import_plan", "action_plan", None,
            {"file": filename, **counts,
             "departments": sorted({r.department_code for r in rows})})],
        user=user)
    return counts


# --- Dependencies ("Depends on") ----------------------------------------------------------


def _dependency_plan(rows):
    """Resolve every "Depends on" code of ``rows``: ``(wanted, problems, names)`` where
    ``wanted`` maps a successor key (department code, CODE) to the set of predecessor keys,
    ``problems`` the codes that name no milestone (or several), ``names`` key → code."""

    with_deps = [r for r in rows if r.depends_on is not None]
    if not with_deps:
        return {}, [], {}
    known = {(r.department_code, r.code.upper()): r.code for r in rows}
    for dept_code, code in db.session.execute(
            sa.select(Department.code, Milestone.code)
            .join(Milestone, Milestone.department_id == Department.id)).all():
        known.setdefault((dept_code.lower(), code.upper()), code)
    by_code = {}
    for key in known:
        by_code.setdefault(key[1], []).append(key)
    wanted, problems = {}, []
    for r in with_deps:
        sheet, column = r.depends_on_cell
        preds = set()
        for text in r.depends_on:
            dept, _colon, code = text.rpartition(":")
            code = code.upper()
            if dept:
                key = (dept.lower(), code)
                found = [key] if key in known else []
            else:
                own = (r.department_code, code)
                found = [own] if own in known else by_code.get(code, [])
            if len(found) != 1:
                message = (_("'%(value)s' is not the code of any milestone", value=text)
                           if not found else
                           _("'%(value)s' is a milestone of more than one department (%(departments)s): "
                             "write the department code and a colon first",
                             value=text, departments=", ".join(sorted(k[0] for k in found))))
                problems.append(ImportProblem(sheet, r.row, column, message))
                continue
            if found[0] == (r.department_code, r.code.upper()):
                problems.append(ImportProblem(sheet, r.row, column,
                                              _("a milestone cannot wait for itself")))
                continue
            preds.add(found[0])
        wanted[(r.department_code, r.code.upper())] = preds
    return wanted, problems, known


def dependency_problems(rows):
    """The problems of the "Depends on" column, checked against the file and the database
    whole: unknown codes, and dependencies that would wait for each other in a circle (named
    in order, on the row that closes it)."""
    from tracker.operations.dependencies import cycle_message, find_cycle, rotate

    wanted, problems, names = _dependency_plan(rows)
    if problems or not wanted:
        return problems
    existing = db.session.execute(
        sa.select(MilestoneDependency.predecessor_id, MilestoneDependency.successor_id)).all()
    keys = {i: (dept.lower(), code.upper()) for i, dept, code in db.session.execute(
        sa.select(Milestone.id, Department.code, Milestone.code)
        .join(Department, Department.id == Milestone.department_id)
        .where(Milestone.id.in_({i for pair in existing for i in pair}))).all()} if existing else {}
    edges = [(keys[p], keys[s]) for p, s in existing if keys[s] not in wanted]
    new = [(p, s) for s, preds in wanted.items() for p in sorted(preds)]
    cycle = rotate(find_cycle(edges + new), new)
    if cycle:
        rows_by_key = {(r.department_code, r.code.upper()): r for r in rows}
        closing = next((rows_by_key[k] for k in cycle if k in wanted), rows[0])
        sheet, column = closing.depends_on_cell
        problems.append(ImportProblem(sheet, closing.row, column,
                                      cycle_message([names[k] for k in cycle])))
    return problems


def _apply_dependencies(rows, departments, milestones, new_ids, user):
    from tracker.operations.dependencies import replace_predecessors

    wanted, problems, _names = _dependency_plan(rows)
    if problems:  # checked before; a changed database since is refused, not half-applied
        raise ValueError("the plan's dependencies no longer resolve: upload it again")
    if not wanted:
        return
    ids = {**{k: m.id for k, m in milestones.items()}, **new_ids}
    by_key = {}
    for (dept_id, code), i in ids.items():
        by_key[(dept_id, code)] = i
    dept_ids = {code: d.id for code, d in departments.items()}
    missing = {k[0] for s, preds in wanted.items() for k in preds | {s}} - set(dept_ids)
    if missing:
        dept_ids.update(dict(db.session.execute(
            sa.select(Department.code, Department.id).where(Department.code.in_(missing))).all()))
        dept_ids.update({c.lower(): i for c, i in dept_ids.items()})
        for m_id, d_id, code in db.session.execute(
                sa.select(Milestone.id, Milestone.department_id, Milestone.code)
                .where(Milestone.department_id.in_([dept_ids[c] for c in missing
                                                    if c in dept_ids]))).all():
            by_key[(d_id, code.upper())] = m_id

    def id_of(key):
        return by_key[(dept_ids[key[0]], key[1])]

    replace_predecessors({id_of(s): {id_of(p) for p in preds} for s, preds in wanted.items()},
                         user)


# --- The upload waiting between preview and confirmation ------------------------------------


def _folder(instance_path):
    folder = Path(instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_pending(instance_path, data, user_id, filename):
    """Keep a validated upload; returns the token that names it. Old uploads are removed."""
    folder = _folder(instance_path)
    cutoff = time.time() - PENDING_MAX_AGE_SECONDS
    for old in folder.glob("*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.xlsx").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"user_id": user_id, "filename": filename}))
    return token


def load_pending(instance_path, token, user_id):
    """(data, filename) of the user's pending upload, or None."""
    if not token or not _TOKEN.match(token):
        return None
    folder = _folder(instance_path)
    try:
        note = json.loads((folder / f"{token}.json").read_text())
        if note.get("user_id") != user_id:
            return None
        return (folder / f"{token}.xlsx").read_bytes(), note.get("filename", "")
    except (OSError, ValueError):
        return None


def discard_pending(instance_path, token):
    if token and _TOKEN.match(token):
        for suffix in (".xlsx", ".json"):
            try:
                (_folder(instance_path) / f"{token}{suffix}").unlink()
            except OSError:
                pass
