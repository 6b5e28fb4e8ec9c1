"""Dependencies between milestones (finish-to-start, across departments too).

One check for every way in (the milestone page, the plan import, the API): ``find_cycle``
over the dependencies as they would be, and ``cycle_message`` naming its members in order
("FISH-08 → PWD-03 → FISH-08"). Adding and removing flush and write an audit entry; the
caller commits.
"""
import sqlalchemy as sa
from flask_babel import gettext as _

from models import Department, Milestone, MilestoneDependency
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import ValidationError

# A successor's page lists at most this many predecessors and successors each.
MAX_LISTED = 50


def find_cycle(edges):
    """A cycle in the graph of ``edges`` ((predecessor, successor) pairs), as the list of
    its nodes in dependency order with the first repeated at the end
    (``[a, b, a]`` for a → b → a); None when there is none. Iterative depth-first search,
    nodes visited in sorted order so the same graph always names the same cycle."""
    graph = {}
    for before, after in edges:
        graph.setdefault(before, set()).add(after)
        graph.setdefault(after, set())
    state = {}  # node -> 1 on the current path, 2 done
    for root in sorted(graph, key=repr):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(graph[root], key=repr))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt], key=repr)))
    return None


def rotate(cycle, pairs):
    """The same cycle, starting at the first of ``pairs`` on it (the dependency being
    added), so the refusal reads from what the person just asked for."""
    if not cycle:
        return cycle
    ring = cycle[:-1]
    for before, after in pairs:
        for k, node in enumerate(ring):
            if node == before and ring[(k + 1) % len(ring)] == after:
                ring = ring[k:] + ring[:k]
                return ring + [ring[0]]
    return cycle


def cycle_message(names):
    """The refusal naming a cycle: ``names`` in dependency order, first repeated at the end."""
    return _("These milestones would wait for each other in a circle: %(cycle)s. "
             "Remove one of these dependencies first.", cycle=" → ".join(names))


def all_edges():
    """Every dependency as (predecessor id, successor id): one query of two integers."""
    return db.session.execute(
        sa.select(MilestoneDependency.predecessor_id, MilestoneDependency.successor_id)).all()


def _codes(ids):
    return dict(db.session.execute(
        sa.select(Milestone.id, Milestone.code).where(Milestone.id.in_(list(ids)))).all())


def resolve_code(code, successor):
    """The milestone a person means by ``code``: in the successor's department first, else
    the one milestone of any department with that code. Raises ``ValidationError`` on the
    field ``predecessor`` when there is none or several."""
    code = (code or "").strip()
    if not code:
        raise ValidationError({"predecessor": [_("Enter the code of the milestone it waits for.")]})
    dept, _colon, bare = code.rpartition(":")
    q = (sa.select(Milestone, Department.name)
         .join(Department, Department.id == Milestone.department_id)
         .where(sa.func.upper(Milestone.code) == bare.strip().upper())
         .order_by(Department.name))
    if dept:
        q = q.where(sa.func.lower(Department.code) == dept.strip().lower())
    found = db.session.execute(q).all()
    same = [m for m, _name in found if m.department_id == successor.department_id]
    if same:
        return same[0]
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise ValidationError({"predecessor": [
            _("No milestone has the code %(code)s.", code=code)]})
    raise ValidationError({"predecessor": [
        _("More than one department has a milestone %(code)s (%(departments)s): write the "
          "department code and a colon first, e.g. PWD:%(code)s.",
          code=code, departments=", ".join(name for _m, name in found))]})


def check_new(pairs, existing=None):
    """Refuse (``ValidationError``) dependencies ``pairs`` that would close a cycle with the
    ``existing`` ones (all of them when not given)."""
    edges = list(existing if existing is not None else all_edges()) + list(pairs)
    cycle = rotate(find_cycle(edges), pairs)
    if cycle:
        codes = _codes(set(cycle))
        raise ValidationError({"predecessor": [cycle_message([codes[i] for i in cycle])]})


def add_dependency(successor, user, *, predecessor):
    """``successor`` waits for ``predecessor``. Flushes and audits; the caller commits."""
    if predecessor.id == successor.id:
        raise ValidationError({"predecessor": [_("A milestone cannot wait for itself.")]})
    exists = db.session.get(MilestoneDependency, (predecessor.id, successor.id))
    if exists is not None:
        raise ValidationError({"predecessor": [
            _("%(code)s already waits for %(other)s.", code=successor.code,
              other=predecessor.code)]})
    check_new([(predecessor.id, successor.id)])
    db.session.add(MilestoneDependency(predecessor_id=predecessor.id, successor_id=successor.id,
                                       created_by_id=user.id if user else None))
    db.session.flush()
    audit.record("add_dependency", "milestone", successor.id,
                 {"predecessor": [None, predecessor.code]}, user=user)


def remove_dependency(successor, user, *, predecessor_id):
    """``successor`` no longer waits for the milestone ``predecessor_id``; returns it, or
    None when there was no such dependency."""
    link = db.session.get(MilestoneDependency, (predecessor_id, successor.id))
    if link is None:
        return None
    predecessor = db.session.get(Milestone, predecessor_id)
    db.session.delete(link)
    db.session.flush()
    audit.record("remove_dependency", "milestone", successor.id,
                 {"predecessor": [predecessor.code, None]}, user=user)
    return predecessor


def neighbours(milestone_id, limit=MAX_LISTED):
    """``(predecessors, successors, more)``: the milestones it waits for and those waiting for
    it, each ``(Milestone, department name)`` by due date, at most ``limit`` each; ``more``
    counts what was left off. Two queries and a count."""
    def side(where, join_on):
        q = (sa.select(Milestone, Department.name)
             .join(MilestoneDependency, join_on)
             .join(Department, Department.id == Milestone.department_id)
             .where(where))
        rows = db.session.execute(q.order_by(Milestone.due_date, Milestone.code)
                                  .limit(limit + 1)).all()
        return rows[:limit], max(0, len(rows) - limit)

    preds, more_p = side(MilestoneDependency.successor_id == milestone_id,
                         MilestoneDependency.predecessor_id == Milestone.id)
    succs, more_s = side(MilestoneDependency.predecessor_id == milestone_id,
                         MilestoneDependency.successor_id == Milestone.id)
    return preds, succs, more_p + more_s


def replace_predecessors(wanted, user):
    """The plan import: ``wanted`` maps a successor id to the set of predecessor ids it
    should wait for (replacing its current ones). Checked whole by the caller with
    ``check_new``. Writes one audit entry per successor whose list changed."""
    if not wanted:
        return 0
    current = {}
    for pred, succ in db.session.execute(
            sa.select(MilestoneDependency.predecessor_id, MilestoneDependency.successor_id)
            .where(MilestoneDependency.successor_id.in_(list(wanted)))).all():
        current.setdefault(succ, set()).add(pred)
    codes = _codes({i for ids in wanted.values() for i in ids}
                   | {i for ids in current.values() for i in ids})
    added, removed, entries = [], [], []
    for succ, preds in wanted.items():
        have = current.get(succ, set())
        if have == preds:
            continue
        added += [dict(predecessor_id=p, successor_id=succ,
                       created_by_id=user.id if user else None) for p in sorted(preds - have)]
        removed += [(p, succ) for p in sorted(have - preds)]
        entries.append(("update", "milestone", succ, {"depends_on": [
            sorted(codes[p] for p in have), sorted(codes[p] for p in preds)]}))
    for p, s in removed:
        db.session.execute(sa.delete(MilestoneDependency).where(
            MilestoneDependency.predecessor_id == p, MilestoneDependency.successor_id == s))
    if added:
        from models.base import utcnow

        now = utcnow()
        db.session.execute(sa.insert(MilestoneDependency.__table__),
                           [dict(created_at=now, **a) for a in added])
    audit.record_many(entries, user=user)
    return len(entries)
