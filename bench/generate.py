"""Benchmark data: a government of 100 departments with 100,000 milestones, their history,
bottlenecks, services, websites and review meetings, dated over three years around ``today``.

Every count is proportional to the number of milestones (``counts_for``) except the
departments, which stay at 100 (a government does not lose departments when its plans are
smaller, and the home page, one row per department, stays comparable across scales).

Rows are made in Python with a seeded generator (the same data on every run) and loaded
with bulk inserts: SQLAlchemy Core ``executemany`` of dict lists on SQLite, ``COPY`` through
psycopg on PostgreSQL. Every row respects the models' constraints (check constraints,
unique keys, one active nodal officer per department, a reason for every due-date change).

    python -m bench.generate --milestones 10000 --database-url sqlite:///instance/bench.db
"""
import argparse
import json
import random
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import sqlalchemy as sa

import models  # noqa: F401  (every table on the metadata)
from tracker.extensions import db

# The benchmark scale of DESIGN.md: everything at 100,000 milestones.
BASE = {
    "departments": 100,
    "milestones": 100_000,
    "milestone_updates": 300_000,
    "bottlenecks": 10_000,
    "services": 2_000,
    "websites": 1_000,
    "meetings": 50,
    "action_items": 500,
}
DOMAIN = "bench.example"
# Every bench account signs in with this password (the load test uses it).
PASSWORD = "bench-password-2026"
STAFF = (
    ("secretary", "Secretary (bench)"),
    ("nic", "NIC officer (bench)"),
    ("viewer", "Viewer (bench)"),
    ("admin", "Administrator (bench)"),
)

CATEGORIES = ("service_integration", "website_update", "infrastructure", "capacity_building",
              "security_compliance", "accessibility", "other")
BOTTLENECK_CATEGORIES = ("funds", "procurement", "manpower", "technical",
                         "inter_departmental", "vendor", "approval")
SEVERITIES = ("low", "medium", "high", "critical")
REASONS = ("dependency", "funds", "procurement", "vendor", "scope", "other")


def scale_label(milestones):
    """1000 -> '1k', 100000 -> '100k', 200 -> '200': the suffix of every figure's name."""
    if milestones >= 1000 and milestones % 1000 == 0:
        return f"{milestones // 1000}k"
    return str(milestones)


def counts_for(milestones):
    """How many rows of each kind at this scale."""
    factor = milestones / BASE["milestones"]
    counts = {name: max(1, round(n * factor)) for name, n in BASE.items()}
    counts["milestones"] = milestones
    counts["departments"] = min(BASE["departments"], milestones)
    return counts


def staff_email(role):
    return f"{role}@{DOMAIN}"


def nodal_email(code):
    return f"nodal.{code}@{DOMAIN}"


def department_code(i):
    return f"d{i:03d}"


def _at(day, hour=6, minute=0):
    """A naive UTC timestamp on a calendar day (06:00 UTC is 11:30 in India)."""
    return datetime.combine(day, clock_time(hour, minute))


def _split(total, parts):
    """``total`` spread over ``parts`` as evenly as whole numbers allow."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class Rows:
    """The rows of every table, built in foreign-key order with explicit ids."""

    def __init__(self, milestones, today, seed=2026, password_hash=None):
        self.today = today
        self.counts = counts_for(milestones)
        self.rng = random.Random(seed)
        self.now = _at(today, 5)
        self.password_hash = password_hash or _password_hash()
        self.tables = {}
        self._build()

    # -- helpers -------------------------------------------------------------------------
    def _add(self, table, row):
        self.tables.setdefault(table, []).append(row)

    def _build(self):
        self._departments()
        self._users()
        self._services()
        self._plans()
        self._milestones()
        self._bottlenecks()
        self._websites()
        self._meetings()

    # -- reference data ------------------------------------------------------------------
    def _departments(self):
        for i in range(1, self.counts["departments"] + 1):
            self._add("departments", {
                "id": i, "code": department_code(i), "name": f"Department {i:03d}",
                "psga_covered": i % 3 != 0, "active": True,
            })

    def _users(self):
        uid = 0
        self.staff_ids = {}
        for role, name in STAFF:
            uid += 1
            self.staff_ids[role] = uid
            self._add("users", self._user(uid, staff_email(role), name, role, None))
        self.nodal_ids = {}
        for dept in self.tables["departments"]:
            uid += 1
            self.nodal_ids[dept["id"]] = uid
            self._add("users", self._user(uid, nodal_email(dept["code"]),
                                          f"Nodal officer {dept['code']}", "nodal", dept["id"]))

    def _user(self, uid, email, name, role, department_id):
        return {
            "id": uid, "email": email, "name": name, "designation": name, "role": role,
            "department_id": department_id, "password_hash": self.password_hash, "active": True,
            "failed_logins": 0, "locked_until": None, "last_login_at": None,
            "session_version": 1, "locale": None, "created_at": self.now,
        }

    def _services(self):
        rng, today = self.rng, self.today
        n_depts = self.counts["departments"]
        self.services_of = {}
        for i in range(1, self.counts["services"] + 1):
            dept_id = (i - 1) % n_depts + 1
            self.services_of.setdefault(dept_id, []).append(i)
            notified = rng.random() < 0.7
            self._add("services", {
                "id": i, "department_id": dept_id, "name": f"Service {i:05d}",
                "psga_notified": notified,
                "time_limit_days": rng.choice((7, 15, 21, 30)) if notified else None,
                "designated_officer": f"Designated officer {i}",
                "delivery_mode": rng.choice(("offline", "online_standalone", "integrated")),
                "url": f"https://services.{DOMAIN}/s/{i}",
                "target_date": today + timedelta(days=rng.randint(-365, 365)),
                "updated_at": self.now, "version": 1,
            })

    def _plans(self):
        nic, secretary = self.staff_ids["nic"], self.staff_ids["secretary"]
        self.plan_status = {}
        for dept in self.tables["departments"]:
            i = dept["id"]
            status = ("draft" if i % 33 == 0 else "returned" if i % 31 == 0
                      else "submitted" if i % 29 == 0 else "approved")
            self.plan_status[i] = status
            submitted = _at(self.today - timedelta(days=540 + i % 30))
            reviewed = submitted + timedelta(days=5) if status in ("approved", "returned") else None
            self._add("action_plans", {
                "id": i, "department_id": i, "title": f"Action plan of {dept['name']}",
                "status": status, "current_version": 0 if status == "draft" else 1,
                "created_by_id": nic, "created_at": submitted, "updated_at": reviewed or submitted,
                "submitted_by_id": None if status == "draft" else nic,
                "submitted_at": None if status == "draft" else submitted,
                "reviewed_by_id": secretary if reviewed else None, "reviewed_at": reviewed,
                "review_comment": "Reviewed in the bench." if reviewed else None,
                "lock_version": 1,
            })
            if status != "draft":
                self._add("plan_versions", {
                    "id": i, "plan_id": i, "number": 1, "submitted_by_id": nic,
                    "submitted_at": submitted,
                    "outcome": status if status in ("approved", "returned") else None,
                    "reviewed_by_id": secretary if reviewed else None, "reviewed_at": reviewed,
                    "review_comment": "Reviewed in the bench." if reviewed else None,
                    "snapshot": [],
                })

    # -- milestones and their history ------------------------------------------------------
    def _milestones(self):
        n_depts = self.counts["departments"]
        per_dept = _split(self.counts["milestones"], n_depts)
        updates_each = _split(self.counts["milestone_updates"], self.counts["milestones"])
        self.milestone_range = {}
        mid = 0
        uid = 0
        for dept_index, n in enumerate(per_dept):
            dept_id = dept_index + 1
            first = mid + 1
            for position in range(1, n + 1):
                mid += 1
                row, history = self._milestone(mid, dept_id, position, updates_each[mid - 1])
                self._add("milestones", row)
                for update in history:
                    uid += 1
                    update["id"] = uid
                    self._add("milestone_updates", update)
            self.milestone_range[dept_id] = (first, mid)

    def _milestone(self, mid, dept_id, position, n_updates):
        rng, today = self.rng, self.today
        category = CATEGORIES[mid % len(CATEGORIES)]
        start = today + timedelta(days=rng.randint(-540, 420))
        baseline = start + timedelta(days=rng.randint(30, 240))
        approved = self.plan_status[dept_id] == "approved"
        due = baseline
        revised = approved and rng.random() < 0.2
        if revised:
            due = baseline + timedelta(days=rng.randint(15, 120))
        roll = rng.random()
        completed_on = None
        if due < today and roll < 0.6:
            status, percent = "completed", 100
            completed_on = min(today, max(start, due + timedelta(days=rng.randint(-20, 10))))
        elif due < today and roll < 0.65:
            status, percent = "dropped", rng.randint(0, 60)
        elif start <= today:
            span = max((due - start).days, 1)
            expected = min(100, 100 * (today - start).days // span)
            percent = max(0, min(95, expected + rng.randint(-40, 15)))
            status = ("blocked" if roll > 0.93 else "not_started" if percent == 0
                      else "in_progress")
        else:
            status, percent = "not_started", 0
        service_id = None
        services = self.services_of.get(dept_id)
        if category == "service_integration" and services:
            service_id = services[mid % len(services)]
        nodal = self.nodal_ids[dept_id]
        history, last_at = self._history(mid, nodal, start, due, baseline if revised else None,
                                         status, percent, n_updates)
        row = {
            "id": mid, "plan_id": dept_id, "department_id": dept_id, "code": f"M-{position:05d}",
            "title": f"Milestone {position} of department {dept_id:03d}: {category.replace('_', ' ')}",
            "description": "Generated for the benchmark.", "category": category,
            "owner": f"Nodal officer d{dept_id:03d}", "position": position,
            "start_date": start, "baseline_due": baseline if approved else None, "due_date": due,
            "completed_on": completed_on, "status": status, "percent_complete": percent,
            "service_id": service_id, "created_at": _at(start - timedelta(days=30)),
            "updated_at": last_at, "updated_by_id": nodal if n_updates else None, "version": 1,
        }
        return row, history

    def _history(self, mid, user_id, start, due, revised_from, status, percent, n):
        """``n`` updates ending at the milestone's current status, percent and due date."""
        today = self.today
        first = start if start <= today else today - timedelta(days=120)
        last = max(first, min(today, due))
        span = (last - first).days
        history = []
        prev_status, prev_percent = "not_started", 0
        progress_steps = n - 1 if revised_from is not None and n > 1 else n
        at = _at(first)
        for j in range(1, n + 1):
            at = _at(first + timedelta(days=span * j // (n + 1)), 5 + j % 12, mid % 60)
            row = {
                "milestone_id": mid, "user_id": user_id, "at": at,
                "status_from": None, "status_to": None, "percent_from": None, "percent_to": None,
                "due_from": None, "due_to": None, "reason": None, "note": "",
            }
            if j <= progress_steps:
                new_percent = percent * j // progress_steps
                new_status = status if j == progress_steps else (
                    "in_progress" if new_percent else "not_started")
                row.update(status_from=prev_status, status_to=new_status,
                           percent_from=prev_percent, percent_to=new_percent,
                           note="Progress reported at the fortnightly review.")
                prev_status, prev_percent = new_status, new_percent
            else:
                row.update(due_from=revised_from, due_to=due, reason=REASONS[mid % len(REASONS)],
                           note="Due date revised in review.")
            history.append(row)
        return history, at

    # -- bottlenecks, websites, meetings --------------------------------------------------------
    def _bottlenecks(self):
        rng, today = self.rng, self.today
        n_depts = self.counts["departments"]
        for i in range(1, self.counts["bottlenecks"] + 1):
            dept_id = (i - 1) % n_depts + 1
            first, last = self.milestone_range[dept_id]
            milestone_id = rng.randint(first, last) if last >= first and rng.random() < 0.7 else None
            age = rng.choice((1, 2, 5, 9, 12, 20, 25, 40, 55, 75, 100, 200, 400, 700))
            raised_on = today - timedelta(days=age)
            roll = rng.random()
            status = "open"
            if (age > 120 and roll < 0.85) or (age > 3 and roll < 0.4):
                status = "resolved"
            elif roll < 0.55:
                status = "escalated"
            resolved_on = raised_on + timedelta(days=rng.randint(1, age)) if status == "resolved" else None
            self._add("bottlenecks", {
                "id": i, "department_id": dept_id, "milestone_id": milestone_id,
                "title": f"Bottleneck {i}: {BOTTLENECK_CATEGORIES[i % 7].replace('_', ' ')}",
                "description": "Generated for the benchmark.",
                "category": BOTTLENECK_CATEGORIES[i % 7], "severity": SEVERITIES[(i * 3) % 4],
                "status": status, "raised_by_id": self.nodal_ids[dept_id],
                "raised_at": _at(raised_on), "raised_on": raised_on,
                "action_by": f"Director, department {dept_id:03d}",
                "target_date": raised_on + timedelta(days=30),
                "escalated_by_id": self.staff_ids["nic"] if status == "escalated" else None,
                "escalated_at": _at(raised_on, 7) if status == "escalated" else None,
                "resolution_note": "Resolved after follow-up." if resolved_on else None,
                "resolved_by_id": self.nodal_ids[dept_id] if resolved_on else None,
                "resolved_at": _at(resolved_on, 8) if resolved_on else None,
                "resolved_on": resolved_on, "updated_at": self.now, "version": 1,
            })

    def _websites(self):
        rng, today = self.rng, self.today
        n_depts = self.counts["departments"]
        for i in range(1, self.counts["websites"] + 1):
            dept_id = (i - 1) % n_depts + 1
            self._add("digital_assets", {
                "id": i, "department_id": dept_id, "name": f"Website {i}",
                "kind": ("website", "web_app", "mobile_app")[i % 3],
                "url": f"https://site{i}.{DOMAIN}/", "hosted_by": ("nic", "department", "vendor")[i % 3],
                "last_content_update": today - timedelta(days=rng.randint(0, 300)),
                "audit_valid_until": (today + timedelta(days=rng.randint(-200, 500))
                                      if rng.random() < 0.85 else None),
                "accessibility_audit_on": today - timedelta(days=rng.randint(0, 700)),
                "https": rng.random() < 0.9, "portal_integrated": rng.random() < 0.5,
                "last_check_at": None, "last_check_ok": None, "last_check_summary": None,
                "updated_at": self.now, "version": 1,
            })

    def _meetings(self):
        rng, today = self.rng, self.today
        n_meetings, n_depts = self.counts["meetings"], self.counts["departments"]
        secretary = self.staff_ids["secretary"]
        dates = {}
        for i in range(1, n_meetings + 1):
            # Spread over the last three years; the last one is still to be held.
            day = today - timedelta(days=(n_meetings - i) * 1000 // max(n_meetings, 1)) + timedelta(days=7 if i == n_meetings else 0)
            dates[i] = day
            final = i < n_meetings
            self._add("review_meetings", {
                "id": i, "title": f"Review of the digital-integration roadmap ({i})",
                "meeting_date": day, "venue": "Conference Hall, Civil Secretariat",
                "chair": "Secretary (bench)", "status": "minutes_final" if final else "planned",
                "created_by_id": secretary, "created_at": _at(day - timedelta(days=7)),
                "held_at": _at(day) if final else None,
                "finalised_at": _at(day + timedelta(days=2)) if final else None,
                "finalised_by_id": secretary if final else None, "version": 1,
            })
            for k in range(5):
                dept_id = (i * 5 + k) % n_depts + 1
                self._add("meeting_attendees", {
                    "id": (i - 1) * 5 + k + 1, "meeting_id": i,
                    "name": f"Nodal officer d{dept_id:03d}", "designation": "Nodal Officer",
                    "department_id": dept_id,
                })
        positions = {}
        for i in range(1, self.counts["action_items"] + 1):
            meeting_id = (i - 1) % n_meetings + 1
            dept_id = (i - 1) % n_depts + 1
            day = dates[meeting_id]
            position = positions[meeting_id] = positions.get(meeting_id, 0) + 1
            self._add("agenda_items", {
                "id": i, "meeting_id": meeting_id, "position": position, "kind": "free",
                "title": f"Progress of department {dept_id:03d}", "details": "",
                "department_id": dept_id, "subject_type": None, "subject_id": None,
                "snapshot": {}, "minutes": "The nodal officer presented the status; pending "
                                           "integrations were discussed.",
            })
            due = day + timedelta(days=rng.choice((14, 21, 30, 45)))
            status = ("done" if due < today and rng.random() < 0.6
                      else "dropped" if rng.random() < 0.05 else "open")
            closed = _at(min(today, due)) if status != "open" else None
            self._add("action_items", {
                "id": i, "meeting_id": meeting_id, "agenda_item_id": i,
                "text": "Integrate the pending PSGA services with the portal",
                "department_id": dept_id, "responsible_officer": f"Nodal officer d{dept_id:03d}",
                "due_date": due, "status": status,
                "closing_note": "Closed in review." if closed else None, "closed_at": closed,
                "created_at": _at(day), "updated_at": closed or _at(day), "updated_by_id": None,
                "version": 1,
            })


def _password_hash():
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


# -- loading -------------------------------------------------------------------------------------


def reset_schema(engine):
    """Drop and create every table of the models (the same schema the migrations build:
    ``tests/test_migrations.py`` holds them equal)."""
    db.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    db.metadata.create_all(engine)


def _complete(table, rows):
    """Rows with every column of ``table``: absent ones get the column's Python default (or
    None), so executemany and COPY see one shape."""
    present = set(rows[0])
    fill = {}
    for column in table.columns:
        if column.name in present:
            continue
        default = column.default
        if default is None:
            fill[column.name] = None
        elif default.is_callable:
            fill[column.name] = default.arg(None)
        else:
            fill[column.name] = default.arg
    if fill:
        for row in rows:
            row.update(fill)
    return rows


def _copy(conn, table, rows):
    """PostgreSQL: COPY the rows in through psycopg."""
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(tuple(
                json.dumps(row[c]) if c in json_columns else row[c] for c in columns
            ))
    if "id" in table.columns:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT max(id) FROM \"{table.name}\"), 1))"
        )


def _foreign_keys():
    return [fk for table in db.metadata.sorted_tables for fk in table.foreign_key_constraints]


def load(engine, rows):
    """Insert every table of ``rows`` in one transaction, then gather statistics.

    On PostgreSQL the foreign keys are dropped for the COPY and added back before the
    commit: adding a foreign key checks every row in one join, which is several times faster
    than a trigger per row, and a violation still refuses the whole load."""
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # isolate_from_table=False here and below: the metadata must go on creating the
            # foreign keys inline (the next scale's create_all, the test suite's schema).
            for fk in _foreign_keys():
                conn.execute(sa.schema.DropConstraint(fk, isolate_from_table=False))
        for table in db.metadata.sorted_tables:
            data = rows.tables.get(table.name)
            if not data:
                continue
            _complete(table, data)
            if postgres:
                _copy(conn, table, data)
            else:
                conn.execute(sa.insert(table), data)
        if postgres:
            for fk in _foreign_keys():
                conn.execute(sa.schema.AddConstraint(fk, isolate_from_table=False))
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time anyone reads: statistics and the
        # visibility map (index-only scans).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def generate(engine, milestones, today, seed=2026, password_hash=None):
    """Empty the schema, load the data of this scale; returns ``(counts, seconds)`` where
    ``seconds`` covers building the rows, inserting them and ANALYZE."""
    reset_schema(engine)
    started = time.perf_counter()
    rows = Rows(milestones, today, seed, password_hash)
    load(engine, rows)
    seconds = time.perf_counter() - started
    counts = {name: len(data) for name, data in rows.tables.items()}
    return counts, seconds


def engine_for(url):
    """An engine with the app's connection settings (SQLite: WAL, foreign keys on)."""
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--milestones", type=int, default=BASE["milestones"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args(argv)
    engine = engine_for(args.database_url)
    counts, seconds = generate(engine, args.milestones, args.today)
    for name, n in counts.items():
        print(f"# {name}: {n}", file=sys.stderr)
    print(f"generate_load_s_{scale_label(args.milestones)} {seconds:.2f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
