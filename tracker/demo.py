"""The demo roadmap of UT Ladakh, dated relative to ``today``.

Deterministic (a seeded random generator) and idempotent: reference rows are matched by
their natural keys, and a department's plan, milestones and bottlenecks are only made when
it has no plan yet, so running it twice leaves the same counts.
"""
import csv
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from models import (
    ActionItem,
    ActionPlan,
    AgendaItem,
    Attendee,
    Bottleneck,
    Department,
    DigitalAsset,
    Milestone,
    MilestoneDependency,
    MilestoneUpdate,
    PlanVersion,
    ReviewMeeting,
    Service,
    User,
)
from tracker.extensions import db

DATA = Path(__file__).resolve().parent / "data"
DOMAIN = "ladakh.example"

STAFF = [
    ("secretary@" + DOMAIN, "Ajeet Kumar Sahu", "Administrative Secretary, IT", "secretary", None),
    ("sio.nic@" + DOMAIN, "Tsering Dolma", "State Informatics Officer, NIC", "nic", None),
    ("nic@" + DOMAIN, "Rigzin Angmo", "Senior Director (IT), NIC", "nic", None),
    ("admin@" + DOMAIN, "Stanzin Namgyal", "System Administrator", "admin", None),
    ("viewer@" + DOMAIN, "Padma Chorol", "Deputy Secretary, Planning", "viewer", None),
]
FIRST = ["Tsewang", "Stanzin", "Rigzin", "Sonam", "Padma", "Jigmet", "Konchok", "Deldan",
         "Nawang", "Tashi", "Phuntsog", "Skarma", "Mohammad", "Ghulam", "Zakir", "Fatima"]
LAST = ["Namgyal", "Dorjay", "Angmo", "Dolma", "Wangchuk", "Spalbar", "Tundup", "Chosphel",
        "Hussain", "Ali", "Bano", "Lonpo", "Gyatso", "Norboo", "Tsomo", "Lhamo"]

WORK = [
    ("service_integration", "Integrate '{service}' with the UT portal"),
    ("service_integration", "Online application and payment for '{service}'"),
    ("website_update", "Migrate department website to the S3WaaS/GIGW template"),
    ("website_update", "Publish bilingual (Hindi/English) content on the website"),
    ("website_update", "Publish PSGA service list and time limits on the website"),
    ("infrastructure", "Move applications to NIC cloud (MeghRaj)"),
    ("infrastructure", "LAN and Wi-Fi upgrade at the directorate"),
    ("capacity_building", "Training of dealing staff on the e-Office system"),
    ("capacity_building", "Training of designated officers on the PSGA dashboard"),
    ("security_compliance", "Security audit of the website by a CERT-In empanelled auditor"),
    ("security_compliance", "SSL certificate and HTTPS on all department sites"),
    ("accessibility", "Accessibility audit (WCAG 2.1 AA) and fixes"),
    ("other", "Digitise legacy records for online services"),
    ("other", "Grievance redressal integration with CPGRAMS"),
]
BOTTLENECKS = [
    ("funds", "Funds for cloud hosting not yet released"),
    ("procurement", "GeM tender for hardware pending technical evaluation"),
    ("manpower", "No dedicated IT staff in the department"),
    ("technical", "Legacy application has no API for integration"),
    ("inter_departmental", "Data sharing approval awaited from Revenue"),
    ("vendor", "Vendor has not deployed the patched version"),
    ("approval", "Administrative approval for the project awaited"),
    ("technical", "Connectivity at district offices is intermittent"),
    ("procurement", "Security auditor empanelment pending"),
    ("funds", "Budget re-appropriation awaited"),
]


def _read(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def demo_accounts():
    """(e-mail, role) of every demo account, for the README and the seed's output."""
    accounts = [(email, role) for email, _, _, role, _ in STAFF]
    for row in _read("departments.csv"):
        accounts.append((f"nodal.{row['code']}@{DOMAIN}", f"nodal ({row['code']})"))
    return accounts


# The moment the demo is seeded (naive UTC): no history is dated after it.
_now = None


def _at(day, hour=11):
    """A naive UTC timestamp on a local day (IST is UTC+5:30: 11:00 UTC is 16:30 IST),
    never after the moment of seeding: on today's date (or on a local date already ahead
    of UTC's) it is put back to a few minutes before now, keeping the hours' order."""
    at = datetime.combine(day, time(hour, 0))
    if _now is not None and at > _now - timedelta(minutes=30):
        at = _now - timedelta(minutes=30) + timedelta(minutes=hour)
    return at


def seed(today: date, password: str, now: datetime | None = None):
    """Seed the demo as of the local date ``today`` and the moment ``now`` (naive UTC,
    default the clock's): history (updates, bottlenecks, meetings) is dated up to now."""
    global _now
    _now = now if now is not None else datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        return _seed(today, password)
    finally:
        _now = None


def _seed(today: date, password: str):
    rng = random.Random(2026)
    departments = _seed_departments()
    users = _seed_users(departments, password, rng)
    services = _seed_services(departments)
    _seed_assets(departments, today, rng)
    nic = users["sio.nic@" + DOMAIN]
    secretary = users["secretary@" + DOMAIN]
    have_plan = set(db.session.execute(sa.select(ActionPlan.department_id)).scalars())
    codes = sorted(departments)
    # Two departments have not made a plan yet; a few are at other stages.
    plan_stage = {code: "approved" for code in codes}
    for code in ("sports", "law"):
        plan_stage[code] = None
    for code in ("scitech", "info"):
        plan_stage[code] = "draft"
    for code in ("coop", "fisheries", "skill"):
        plan_stage[code] = "submitted"
    for code in ("labour", "ga"):
        plan_stage[code] = "returned"
    milestone_budget = 400
    planned = [c for c in codes if plan_stage[c]]
    per_dept = {c: milestone_budget // len(planned) for c in planned}
    for c in planned[: milestone_budget - sum(per_dept.values())]:
        per_dept[c] += 1
    bottleneck_budget = {c: 0 for c in planned}
    for i in range(60):
        bottleneck_budget[planned[(i * 7) % len(planned)]] += 1
    for code in planned:
        dept = departments[code]
        if dept.id in have_plan:
            continue
        nodal = users[f"nodal.{code}@{DOMAIN}"]
        _seed_plan(dept, plan_stage[code], per_dept[code], bottleneck_budget[code],
                   services.get(code, []), nodal, nic, secretary, today, rng)
    _seed_dependencies()
    _seed_meetings(departments, users, today, rng)
    db.session.flush()
    return counts()


def _seed_dependencies():
    """The finish-to-start dependencies a roadmap has: in every department a service goes
    live on the portal only after the website's security audit, and online payment only
    after the applications move to the NIC cloud; across departments, Health's service
    integration waits for the Public Works Department's move to the cloud."""
    db.session.flush()
    rows = db.session.execute(
        sa.select(Milestone.id, Milestone.title, Department.code)
        .join(Department, Department.id == Milestone.department_id)).all()
    by_dept = {}
    for ident, title, code in rows:
        by_dept.setdefault(code, []).append((ident, title))

    def find(code, start):
        return next((i for i, t in by_dept.get(code, []) if t.startswith(start)), None)

    links = set()
    for code in by_dept:
        for successor, predecessor in (("Integrate '", "Security audit of the website"),
                                       ("Online application and payment", "Move applications")):
            s_id, p_id = find(code, successor), find(code, predecessor)
            if s_id and p_id:
                links.add((p_id, s_id))
    s_id, p_id = find("health", "Integrate '"), find("pwd", "Move applications")
    if s_id and p_id:
        links.add((p_id, s_id))
    links -= set(db.session.execute(sa.select(MilestoneDependency.predecessor_id,
                                              MilestoneDependency.successor_id)).tuples())
    db.session.add_all(MilestoneDependency(predecessor_id=p, successor_id=s)
                       for p, s in sorted(links))


def counts():
    return {
        model.__tablename__: db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()
        for model in (Department, User, Service, DigitalAsset, ActionPlan, PlanVersion, Milestone,
                      MilestoneUpdate, Bottleneck, ReviewMeeting, AgendaItem, ActionItem)
    }


def _seed_departments():
    existing = {d.code: d for d in db.session.execute(sa.select(Department)).scalars()}
    for row in _read("departments.csv"):
        if row["code"] not in existing:
            dept = Department(code=row["code"], name=row["name"],
                              psga_covered=row["psga_covered"] == "yes")
            db.session.add(dept)
            existing[row["code"]] = dept
    db.session.flush()
    return existing


def _seed_users(departments, password, rng):
    existing = {u.email: u for u in db.session.execute(sa.select(User)).scalars()}
    wanted = list(STAFF)
    for i, code in enumerate(sorted(departments)):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 5) % len(LAST)]}"
        wanted.append((f"nodal.{code}@{DOMAIN}", name, "Nodal Officer", "nodal", code))
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(password)  # one hash for all: seeding stays fast
    for email, name, designation, role, code in wanted:
        if email in existing:
            continue
        user = User(email=email, name=name, designation=designation, role=role,
                    department=departments[code] if code else None, password_hash=password_hash)
        db.session.add(user)
        existing[email] = user
    db.session.flush()
    return existing


def _seed_services(departments):
    existing = {(s.department_id, s.name): s for s in db.session.execute(sa.select(Service)).scalars()}
    by_dept = {}
    modes = ("offline", "online_standalone", "integrated")
    for i, row in enumerate(_read("services.csv") + _read("services_extra.csv")):
        dept = departments[row["department"]]
        key = (dept.id, row["service"])
        service = existing.get(key)
        if service is None:
            mode = modes[(i * 7) % 3] if i % 5 else "offline"
            service = Service(
                department=dept,
                name=row["service"],
                psga_notified=row["psga_notified"] == "yes",
                time_limit_days=int(row["time_limit_days"]) if row["time_limit_days"] else None,
                designated_officer=f"Designated Officer, {dept.name}",
                delivery_mode=mode,
                url=f"https://{dept.code}.{DOMAIN}/services/{i + 1}" if mode != "offline" else None,
            )
            db.session.add(service)
            existing[key] = service
        by_dept.setdefault(row["department"], []).append(service)
    db.session.flush()
    return by_dept


def _seed_assets(departments, today, rng):
    existing = {(a.department_id, a.url) for a in db.session.execute(sa.select(DigitalAsset)).scalars()}
    for i, code in enumerate(sorted(departments)):
        dept = departments[code]
        url = f"https://{code}.{DOMAIN}/"
        if (dept.id, url) in existing:
            continue
        db.session.add(DigitalAsset(
            department=dept,
            name=f"{dept.name} website",
            kind="website",
            url=url,
            hosted_by=("nic", "department", "vendor")[i % 3],
            last_content_update=today - timedelta(days=(i * 17) % 200),
            audit_valid_until=None if i % 11 == 0 else today + timedelta(days=((i * 37) % 400) - 60),
            accessibility_audit_on=None if i % 4 == 0 else today - timedelta(days=(i * 29) % 500),
            https=i % 9 != 0,
            portal_integrated=i % 3 != 0,
        ))
        if i % 4 == 1:
            db.session.add(DigitalAsset(
                department=dept, name=f"{dept.name} mobile app", kind="mobile_app",
                url=f"https://{code}.{DOMAIN}/app", hosted_by="vendor", https=True,
                last_content_update=today - timedelta(days=(i * 13) % 150),
                audit_valid_until=today + timedelta(days=(i * 23) % 300 - 30),
            ))
    db.session.flush()


def _milestone_dates(rng, today):
    start = today - timedelta(days=rng.randint(-60, 330))
    due = start + timedelta(days=rng.randint(30, 240))
    return start, due


def _seed_plan(dept, stage, n_milestones, n_bottlenecks, services, nodal, nic, secretary, today, rng):
    plan = ActionPlan(department=dept, title=f"Action plan for digital integration: {dept.name}",
                      status="draft", created_by=nic, created_at=_at(today - timedelta(days=400)))
    db.session.add(plan)
    db.session.flush()
    milestones = []
    for pos in range(n_milestones):
        category, template = WORK[(pos + dept.id) % len(WORK)]
        service = services[pos % len(services)] if services and category == "service_integration" else None
        if category == "service_integration" and service is None:
            category, template = "other", "Digitise legacy records for online services"
        title = template.format(service=service.name if service else "")
        start, due = _milestone_dates(rng, today)
        m = Milestone(
            plan=plan, department=dept, code=f"{dept.code.upper()}-{pos + 1:02d}", title=title,
            description=f"{title}. Part of the department's digital-integration action plan.",
            category=category, owner=nodal.name, position=pos, start_date=start, due_date=due,
            service=service, status="not_started", percent_complete=0,
            created_at=plan.created_at, updated_at=_at(min(start, today)),
        )
        milestones.append(m)
        db.session.add(m)
    db.session.flush()

    if stage in ("submitted", "approved", "returned"):
        submitted_at = _at(today - timedelta(days=rng.randint(150, 300)))
        snapshot = [{"code": m.code, "title": m.title, "due_date": m.due_date.isoformat()} for m in milestones]
        version = PlanVersion(plan=plan, number=1, submitted_by=nic, submitted_at=submitted_at,
                              snapshot=snapshot)
        plan.current_version = 1
        plan.submitted_by, plan.submitted_at, plan.status = nic, submitted_at, "submitted"
        if stage in ("approved", "returned"):
            version.outcome = stage
            version.reviewed_by, version.reviewed_at = secretary, submitted_at + timedelta(days=5)
            version.review_comment = ("Approved. Departments to report progress fortnightly."
                                      if stage == "approved" else
                                      "Returned: add dated milestones for PSGA services and name the owners.")
            plan.status = stage
            plan.reviewed_by, plan.reviewed_at = secretary, version.reviewed_at
            plan.review_comment = version.review_comment
        db.session.add(version)
    if stage == "approved":
        for m in milestones:
            m.baseline_due = m.due_date
            _progress(m, nodal, today, rng)
    db.session.flush()
    _seed_bottlenecks(dept, milestones if stage == "approved" else [], n_bottlenecks, nodal, today, rng)


# Each department's habit: how much longer than planned its milestones take (a department
# of 1.4 finishes in 1.4× its planned time), so the forecasts have a record to learn from.
SLIP_HABITS = (0.95, 1.05, 1.15, 1.25, 1.4, 1.6)


def slip_habit(dept_code):
    return random.Random(f"slip-{dept_code}").choice(SLIP_HABITS)


def _progress(m, user, today, rng):
    """Give an approved milestone a plausible history up to today: it takes its department's
    habit times its planned duration (give or take), and reports progress along the way."""
    if m.start_date >= today:
        return
    span = max((m.due_date - m.start_date).days, 1)
    noise = random.Random(f"{m.code}-{span}")
    actual = max(1, round(span * slip_habit(m.department.code) * noise.lognormvariate(0, 0.15)))
    finish = m.start_date + timedelta(days=actual)
    roll = rng.random()
    updates = []
    percent, status = 0, "not_started"
    if finish < today and roll < 0.9:
        target, final, upto = 100, "completed", (finish - m.start_date).days
    elif m.due_date < today and roll < 0.95:
        target, final, upto = None, "dropped", (min(today, finish) - m.start_date).days
    else:
        upto = (today - m.start_date).days
        expected = int(100 * upto / actual)
        target = max(0, min(95, expected + rng.randint(-10, 10)))
        final = "blocked" if roll > 0.97 else ("in_progress" if target else "not_started")
    # Update days after the start, up to the finish (or today) at the latest.
    steps = sorted(rng.sample(range(1, upto + 1), k=min(upto, rng.randint(1, 4)))) if upto > 0 else []
    if final == "completed" and (not steps or steps[-1] != upto):
        steps = [d for d in steps if d < upto] + [upto]
    for i, day_offset in enumerate(steps):
        last = i == len(steps) - 1
        # Reported progress: the true share done, rounded to 5 %, often a little behind.
        on_track = max(0, min(95, 5 * round(20 * day_offset / actual) + 5 * noise.randint(-2, 1)))
        new_percent = target if last and target is not None else max(percent, on_track)
        new_status = final if last else "in_progress"
        if new_status == status and new_percent == percent:
            continue
        updates.append(MilestoneUpdate(
            milestone=m, user=user, at=_at(m.start_date + timedelta(days=day_offset)),
            status_from=status, status_to=new_status,
            percent_from=percent, percent_to=new_percent,
            note=("Work completed and verified." if new_status == "completed" else
                  "Progress reported at the fortnightly review."),
        ))
        percent, status = new_percent, new_status
    # Some open milestones had their due date revised with a reason: slippage.
    if status not in ("completed", "dropped") and rng.random() < 0.25:
        new_due = m.due_date + timedelta(days=rng.randint(15, 90))
        at_day = max(min(today, m.due_date), m.start_date + timedelta(days=steps[-1] if steps else 0))
        updates.append(MilestoneUpdate(
            milestone=m, user=user, at=_at(at_day, 12), due_from=m.due_date, due_to=new_due,
            reason=rng.choice(("dependency", "funds", "procurement", "vendor", "scope")),
            note="Revised at the department's request; approved in review.",
        ))
        m.due_date = new_due
    m.status, m.percent_complete = status, percent
    if status == "completed":
        m.completed_on = max(u.at for u in updates).date()
    if updates:
        m.updated_at = max(u.at for u in updates)
        m.updated_by = user
    db.session.add_all(updates)


def _seed_bottlenecks(dept, milestones, n, nodal, today, rng):
    severities = ("low", "medium", "high", "critical")
    for i in range(n):
        category, title = BOTTLENECKS[(i + dept.id) % len(BOTTLENECKS)]
        open_ms = [m for m in milestones if m.status not in ("completed", "dropped")]
        milestone = rng.choice(open_ms) if open_ms and rng.random() < 0.7 else None
        raised_on = today - timedelta(days=rng.choice((2, 5, 9, 12, 20, 25, 40, 55, 75, 100)))
        b = Bottleneck(
            department=dept, milestone=milestone, title=title,
            description=f"{title}. Raised by the nodal officer of {dept.name}.",
            category=category, severity=severities[(i * 3 + dept.id) % 4], raised_by=nodal,
            raised_at=_at(raised_on, 6), raised_on=raised_on,
            action_by=("Finance Department" if category == "funds" else
                       "NIC" if category == "technical" else f"Director, {dept.name}"),
            target_date=raised_on + timedelta(days=30),
        )
        roll = rng.random()
        if roll < 0.35 and (today - raised_on).days > 3:
            resolved_on = raised_on + timedelta(days=rng.randint(1, (today - raised_on).days))
            b.status, b.resolved_on, b.resolved_at = "resolved", resolved_on, _at(resolved_on, 7)
            b.resolution_note = "Resolved after follow-up in the review meeting."
            b.resolved_by = nodal
        elif roll < 0.5:
            b.status, b.escalated_at = "escalated", _at(raised_on + timedelta(days=1), 7)
        db.session.add(b)


def _seed_meetings(departments, users, today, rng):
    if db.session.execute(sa.select(ReviewMeeting.id).limit(1)).first():
        return
    secretary = users["secretary@" + DOMAIN]
    codes = sorted(departments)
    for n, days_ago in enumerate((70, 28)):
        day = today - timedelta(days=days_ago)
        meeting = ReviewMeeting(
            title=f"Review of the digital-integration roadmap ({n + 1})", meeting_date=day,
            venue="Conference Hall, Civil Secretariat, Leh", chair=secretary.name,
            status="minutes_final", created_by=secretary, held_at=_at(day, 6),
            finalised_at=_at(day + timedelta(days=2), 6), finalised_by=secretary,
        )
        db.session.add(meeting)
        meeting.attendees.append(Attendee(name=secretary.name, designation=secretary.designation))
        for code in codes[n * 6:(n + 1) * 6]:
            nodal = users[f"nodal.{code}@{DOMAIN}"]
            meeting.attendees.append(Attendee(name=nodal.name, designation="Nodal Officer",
                                              department=departments[code]))
        for pos, code in enumerate(codes[n * 6:(n + 1) * 6]):
            dept = departments[code]
            item = AgendaItem(position=pos, kind="free", title=f"Progress of {dept.name}",
                              department=dept,
                              minutes=f"The nodal officer of {dept.name} presented the status. "
                                      "Pending integrations were discussed.")
            meeting.agenda_items.append(item)
            db.session.flush()
            for k in range(rng.randint(2, 3)):
                due = day + timedelta(days=rng.choice((14, 21, 30, 45)))
                status = "done" if due < today and rng.random() < 0.5 else "open"
                db.session.add(ActionItem(
                    meeting=meeting, agenda_item=item, department=dept,
                    text=("Complete the security audit of the website" if k == 0 else
                          "Integrate the pending PSGA services with the portal" if k == 1 else
                          "Submit the revised action plan with dated milestones"),
                    responsible_officer=users[f"nodal.{code}@{DOMAIN}"].name, due_date=due,
                    status=status,
                    closing_note="Done; certificate uploaded." if status == "done" else None,
                    closed_at=_at(min(today, due)) if status == "done" else None,
                ))
    db.session.flush()
