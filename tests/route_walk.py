"""Machinery for the tests that walk every route of ``app.url_map``: the authorization
matrix, CSRF, "no GET changes state" and the security headers.

- ``ROLES``: who asks, in the column order of the matrix.
- ``R``: one line of the matrix: the expected status per role for each method, how to
  build the URL (``args``) and the body of a POST (``data``). Values starting with ``@``
  are read from the world: ``"@own.code"``, ``"@milestone.id"``.
- ``build_world()``: one row of every kind, in the department ``own`` (and a few in
  ``other``), and a user for every role. The matrices build it once per module (the
  ``route_world`` fixture of tests/conftest.py: ``detached`` once, ``attach`` per test,
  each test in a savepoint rolled back at its end).
- ``sign_in_as(client, user)``: a signed-in session without the slow password hash.
- ``snapshot()`` / ``changes(before, after)``: every row of every table, and what changed
  apart from security events in the audit log.
- ``assert_secure_headers(response, what)``: the security headers every response carries.
"""
import dataclasses
from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from werkzeug.routing import Map

from models import AgendaItem, ApiToken, AuditLog, Notification, PlanVersion
from tests import factories
from views import auth
from tracker.extensions import db
from tracker.platform.security_log import SECURITY_AUDIT_ACTIONS

ROLES = ("anonymous", "viewer", "nodal_own", "nodal_other", "nic", "secretary", "admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Answers that refuse a request: a refused write must change nothing.
REFUSED = frozenset({400, 401, 403, 404, 405, 409, 413, 422, 429})


@dataclasses.dataclass
class R:
    """Expected answers of one endpoint: per method, seven statuses in ``ROLES`` order."""

    GET: str | None = None
    POST: str | None = None
    PUT: str | None = None
    PATCH: str | None = None
    DELETE: str | None = None
    args: dict = dataclasses.field(default_factory=dict)
    data: dict = dataclasses.field(default_factory=dict)
    # JSON API line: each role calls with its own bearer token (anonymous with none), and
    # ``data`` is sent as the JSON body.
    api: bool = False
    # Called with the world before the request, to put records in the state the route
    # needs (a draft plan, a held meeting); committed before the snapshot.
    prepare: object = None
    # A write that an allowed role makes must change a row (False for sign-in and the like).
    writes: bool = True
    # Attributes of the world ("milestone.department_id") that no answer may change:
    # forged hidden fields in ``data`` are ignored or refused.
    keep: tuple = ()

    def __post_init__(self):
        for method in METHODS:
            codes = getattr(self, method)
            if codes is not None and len(codes.split()) != len(ROLES):
                raise ValueError(f"{method} needs {len(ROLES)} statuses ({' '.join(ROLES)}): {codes!r}")

    def methods(self):
        return {m for m in METHODS if getattr(self, m) is not None}

    def expected(self, method, role):
        return int(getattr(self, method).split()[ROLES.index(role)])

    def url_args(self, world):
        return {k: resolve(v, world) for k, v in self.args.items()}

    def body(self, world):
        return {k: resolve(v, world) for k, v in self.data.items()}


def resolve(value, world):
    if isinstance(value, str) and value.startswith("@"):
        for part in value[1:].split("."):
            world = getattr(world, part)
        return world
    return value


def endpoint_methods(app_or_map):
    """``{endpoint: {methods}}`` of every rule (HEAD and OPTIONS left out)."""
    url_map = app_or_map if isinstance(app_or_map, Map) else app_or_map.url_map
    found = {}
    for rule in url_map.iter_rules():
        found.setdefault(rule.endpoint, set()).update(set(rule.methods) - {"HEAD", "OPTIONS"})
    return found


def cases(app, table, methods=METHODS):
    """``(endpoint, method)`` of every rule, sorted; endpoints missing from ``table`` are
    included, so the test that uses them fails for each."""
    return sorted(
        (endpoint, method)
        for endpoint, found in endpoint_methods(app).items()
        for method in found
        if method in methods
    )


def build_world(today=None):
    """One of everything, dated relative to ``today``, in one commit; returns a namespace."""
    today = today or date.today()
    f = factories
    w = SimpleNamespace(today=today)
    w.own = f.department("own", name="Own Department", commit=False)
    w.other = f.department("other", name="Other Department", commit=False)
    w.users = SimpleNamespace(
        viewer=f.user("viewer", email="viewer@test.example", commit=False),
        nodal_own=f.user("nodal", department=w.own, email="nodal.own@test.example",
                         commit=False),
        nodal_other=f.user("nodal", department=w.other, email="nodal.other@test.example",
                           commit=False),
        nic=f.user("nic", email="nic@test.example", commit=False),
        secretary=f.user("secretary", email="secretary@test.example", commit=False),
        admin=f.user("admin", email="admin@test.example", commit=False),
    )
    w.plan = f.plan(department=w.own, status="submitted", commit=False)
    w.milestone = f.milestone(plan=w.plan, today=today, code="OWN-1", commit=False)
    w.other_plan = f.plan(department=w.other, status="approved", commit=False)
    w.other_milestone = f.milestone(plan=w.other_plan, today=today, code="OTH-1", commit=False)
    w.bottleneck = f.bottleneck(milestone=w.milestone, raised_on=today - timedelta(days=5),
                                commit=False)
    w.other_bottleneck = f.bottleneck(milestone=w.other_milestone, raised_on=today,
                                      commit=False)
    w.service = f.service(department=w.own, commit=False)
    w.asset = f.asset(department=w.own, commit=False)
    w.meeting = f.meeting(meeting_date=today, commit=False)
    w.agenda_item = AgendaItem(meeting=w.meeting, title="Review of the own department",
                               department_id=w.own.id)
    db.session.add(w.agenda_item)
    w.agenda_item2 = AgendaItem(meeting=w.meeting, title="Action taken report", position=1)
    db.session.add(w.agenda_item2)
    w.action_item = f.action_item(meeting=w.meeting, department=w.own, commit=False)
    w.flag = f.flag(subject_id=w.milestone.id, department_id=w.own.id, commit=False)
    w.notification = Notification(user=w.users.nodal_own, flag=w.flag, event="flag",
                                  subject="Milestone OWN-1 is overdue")
    db.session.add(w.notification)
    # Everyone has an unread notice, so "mark all read" changes something for each.
    for role in ROLES[1:]:
        if role != "nodal_own":
            f.notification(getattr(w.users, role), commit=False)
    # A milestone with no history, which a draft plan may move or remove.
    w.milestone2 = f.milestone(plan=w.plan, today=today, code="OWN-2", commit=False)
    w.other_flag = f.flag(subject_id=w.other_milestone.id, department_id=w.other.id,
                          commit=False)
    w.other_service = f.service(department=w.other, commit=False)
    w.other_asset = f.asset(department=w.other, commit=False)
    w.other_action_item = f.action_item(meeting=w.meeting, department=w.other, commit=False)
    # Meetings in the later states: held (minutes and decisions), minutes final (amendments).
    w.held_meeting = f.meeting(meeting_date=today - timedelta(days=1), status="held",
                               commit=False)
    w.held_item = AgendaItem(meeting=w.held_meeting, title="Bottlenecks past SLA",
                             department_id=w.own.id, position=1)
    db.session.add(w.held_item)
    w.decision = f.action_item(meeting=w.held_meeting, department=w.own, commit=False,
                               text="Decided at the held meeting")
    w.final_meeting = f.meeting(meeting_date=today - timedelta(days=30),
                                status="minutes_final", commit=False)
    w.final_item = AgendaItem(meeting=w.final_meeting, title="Plans not submitted",
                              department_id=w.own.id, position=1, minutes="Discussed.")
    db.session.add(w.final_item)
    db.session.flush()
    w.plan_version = PlanVersion(plan=w.plan, number=1, submitted_by_id=w.users.nic.id,
                                 snapshot=[])
    db.session.add(w.plan_version)
    # One API token per role (tokens.<role> is the plain token), and one to revoke.
    from tracker.operations.tokens import create_token

    w.tokens = SimpleNamespace()
    for role in ROLES[1:]:
        _, plain = create_token(getattr(w.users, role), f"{role} system")
        setattr(w.tokens, role, plain)
    w.token, _ = create_token(w.users.nodal_own, "to revoke")
    db.session.commit()
    return w


def _model(value):
    return hasattr(value, "_sa_instance_state")


def _rows(world):
    for value in vars(world).values():
        if isinstance(value, SimpleNamespace):
            yield from _rows(value)
        elif _model(value):
            yield value


def detached(world):
    """The world with every row's columns loaded, out of the session: a template that
    ``attach`` puts into each test's session without a query."""
    for row in _rows(world):
        db.session.refresh(row)
    db.session.expunge_all()
    return world


def attach(template):
    """A copy of the world whose rows belong to the current session (``merge`` without
    loading): the test may change them, and ``expire_all`` reads them again."""
    world = SimpleNamespace()
    for name, value in vars(template).items():
        if isinstance(value, SimpleNamespace):
            value = attach(value)
        elif _model(value):
            value = db.session.merge(value, load=False)
        setattr(world, name, value)
    return world


def user_of(world, role):
    """The world's user of ``role`` (None for anonymous)."""
    return getattr(world.users, role, None)


def sign_in_as(client, user):
    """Sign ``client`` in as ``user`` (None: stay anonymous) the way ``auth.sign_in`` does,
    without spending a password hash per test."""
    if user is None:
        return client
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        auth.start_session(sess)
    return client


def snapshot():
    """Every row of every table, in primary-key order. Read in the test's own session and
    committed at once: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)."""
    db.session.commit()
    rows = {}
    for table in db.metadata.sorted_tables:
        query = sa.select(table).order_by(*table.primary_key.columns)
        rows[table.name] = [tuple(r) for r in db.session.execute(query)]
    db.session.commit()
    return rows


def changes(before, after):
    """What changed between two snapshots, as readable lines, leaving out the audit
    entries of security events (sign-ins, refused requests) and the last-used time of the
    API token a request was authenticated with."""
    found = []
    for name, rows in after.items():
        old = before.get(name, [])
        if name == ApiToken.__tablename__:
            used = ApiToken.__table__.columns.keys().index("last_used_at")
            rows = [r[:used] + r[used + 1:] for r in rows]
            old = [r[:used] + r[used + 1:] for r in old]
        if name == AuditLog.__tablename__:
            action = AuditLog.__table__.columns.keys().index("action")
            added = [r for r in rows if r not in old]
            found += [f"audit_log: new entry {r[action]!r}" for r in added
                      if r[action] not in SECURITY_AUDIT_ACTIONS]
            if any(r not in rows for r in old):
                found.append("audit_log: an entry was changed or deleted")
            continue
        if rows != old:
            found.append(f"{name}: {len(old)} rows before, {len(rows)} after"
                         + ("" if len(old) != len(rows) else " (a row changed)"))
    return found


def security_entries(before, after):
    """Audit actions added between two snapshots."""
    action = AuditLog.__table__.columns.keys().index("action")
    old = before[AuditLog.__tablename__]
    return [r[action] for r in after[AuditLog.__tablename__] if r not in old]


def _directives(csp):
    return {part.split()[0]: part.split()[1:] for part in
            (p.strip() for p in csp.split(";")) if part}


def assert_secure_headers(response, what):
    """The headers of tests/test_security_headers.py, checked on every answer of the
    authorization matrix too."""
    headers = response.headers
    csp = _directives(headers.get("Content-Security-Policy", ""))
    if "attachment" in headers.get("Content-Disposition", "") and "sandbox" in csp:
        # A user's file, served as a download: stricter still, nothing may run or load.
        assert csp.get("default-src") == ["'none'"], what
        assert headers.get("X-Content-Type-Options") == "nosniff", what
        return
    assert csp.get("script-src") == ["'self'"], f"{what}: script-src {csp.get('script-src')}"
    assert csp.get("object-src") == ["'none'"], what
    assert csp.get("base-uri") == ["'self'"], what
    assert csp.get("frame-ancestors") == ["'none'"], what
    assert csp.get("form-action") == ["'self'"], what
    assert "'unsafe-inline'" not in csp.get("default-src", []), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") == "same-origin", what


def csrf_token(html):
    """The CSRF token of the first form of a page."""
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
