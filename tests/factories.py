"""Small factories: each makes one row with sensible defaults and commits it."""
import itertools
from datetime import date, datetime, timedelta

from models import (
    ActionItem,
    ActionPlan,
    Bottleneck,
    Department,
    DigitalAsset,
    Flag,
    Milestone,
    ReviewMeeting,
    Service,
    User,
)
from models.base import utcnow
from tracker.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

# One hash for every factory user: hashing is deliberately slow.
_HASH = None


def _password_hash():
    global _HASH
    if _HASH is None:
        from werkzeug.security import generate_password_hash

        _HASH = generate_password_hash(PASSWORD)
    return _HASH


def _save(obj, commit=True):
    db.session.add(obj)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return obj


def department(code=None, commit=True, **kw):
    n = next(_seq)
    code = code or f"dept{n}"
    kw.setdefault("name", f"Department {code}")
    kw.setdefault("psga_covered", True)
    return _save(Department(code=code, **kw), commit)


def user(role="secretary", department=None, email=None, commit=True, **kw):
    n = next(_seq)
    if role == "nodal" and department is None:
        department = globals()["department"](commit=False)
    u = User(
        email=email or f"{role}{n}@test.example",
        name=kw.pop("name", f"{role.title()} {n}"),
        role=role,
        department=department,
        password_hash=_password_hash(),
        **kw,
    )
    return _save(u, commit)


def plan(department=None, status="draft", commit=True, **kw):
    department = department or globals()["department"](commit=False)
    kw.setdefault("title", f"Action plan of {department.code}")
    if status != "draft":
        kw.setdefault("current_version", 1)
    return _save(ActionPlan(department=department, status=status, **kw), commit)


def milestone(plan=None, department=None, commit=True, **kw):
    if plan is None:
        plan = globals()["plan"](department=department, commit=False)
    n = next(_seq)
    today = kw.pop("today", date.today())
    kw.setdefault("code", f"M-{n}")
    kw.setdefault("title", f"Milestone {n}")
    kw.setdefault("category", "service_integration")
    kw.setdefault("start_date", today - timedelta(days=30))
    kw.setdefault("due_date", today + timedelta(days=60))
    kw.setdefault("status", "in_progress")
    kw.setdefault("percent_complete", 50)
    if kw["status"] == "completed":
        kw["percent_complete"] = 100
        kw.setdefault("completed_on", today)
    return _save(Milestone(plan=plan, department=plan.department, **kw), commit)


def bottleneck(department=None, milestone=None, commit=True, **kw):
    if department is None:
        department = milestone.department if milestone else globals()["department"](commit=False)
    n = next(_seq)
    kw.setdefault("title", f"Bottleneck {n}")
    kw.setdefault("category", "technical")
    kw.setdefault("severity", "medium")
    kw.setdefault("raised_on", date.today())
    if kw.get("status") == "resolved":
        kw.setdefault("resolved_on", kw["raised_on"])
        kw.setdefault("resolved_at", utcnow())
    return _save(Bottleneck(department=department, milestone=milestone, **kw), commit)


def service(department=None, commit=True, **kw):
    department = department or globals()["department"](commit=False)
    n = next(_seq)
    kw.setdefault("name", f"Service {n}")
    kw.setdefault("psga_notified", True)
    kw.setdefault("time_limit_days", 15)
    return _save(Service(department=department, **kw), commit)


def asset(department=None, commit=True, **kw):
    department = department or globals()["department"](commit=False)
    n = next(_seq)
    kw.setdefault("name", f"Website {n}")
    kw.setdefault("url", f"https://site{n}.test.example/")
    return _save(DigitalAsset(department=department, **kw), commit)


def meeting(commit=True, **kw):
    n = next(_seq)
    kw.setdefault("title", f"Review meeting {n}")
    kw.setdefault("meeting_date", date.today())
    return _save(ReviewMeeting(**kw), commit)


def action_item(meeting=None, department=None, commit=True, **kw):
    meeting = meeting or globals()["meeting"](commit=False)
    department = department or globals()["department"](commit=False)
    kw.setdefault("text", "Do the thing that was decided")
    kw.setdefault("due_date", date.today() + timedelta(days=14))
    return _save(ActionItem(meeting=meeting, department=department, **kw), commit)


def flag(kind="milestone_overdue", subject_type="milestone", subject_id=1, commit=True, **kw):
    kw.setdefault("severity", "warning")
    return _save(Flag(kind=kind, subject_type=subject_type, subject_id=subject_id, **kw), commit)


def health_check(asset, commit=True, **kw):
    from models import HealthCheck

    kw.setdefault("ok", True)
    kw.setdefault("checked_at", utcnow())
    return _save(HealthCheck(asset=asset, **kw), commit)


def notification(user, commit=True, **kw):
    from models import Notification

    kw.setdefault("event", "digest")
    kw.setdefault("subject", "Something needs your attention")
    return _save(Notification(user=user, **kw), commit)
