"""The authorization matrix, complete by construction.

One parametrized test walks ``app.url_map``: every route × every method × every role
(``ROLES``) is asked, and the answer must be the one written in ``ROUTES`` below. A route
missing from ``ROUTES`` fails, so no new route can skip the matrix; a line for a route
that no longer exists fails too. A GET changes nothing, and a refused write changes no row
and no version (only the audit entry of the refusal is added). Every answer to a GET
carries the security headers (``assert_secure_headers``: the walk that
tests/test_security_headers.py made of every GET route × role is folded in here), and is
``no-store`` unless it is a static file.

The world is built once for the module (the ``route_world`` fixture); each case runs in a
savepoint rolled back at its end, so every case starts from the same rows.

Adding a route is one line: the endpoint, then per method seven statuses in the order
``anonymous viewer nodal_own nodal_other nic secretary admin``; ``args`` build the URL and
``data`` is the body of the POST, both with ``@`` for rows of the world
(``tests.route_walk.build_world``: ``@own.code``, ``@milestone.id``, ``@bottleneck.id``,
``@meeting.id``, ``@action_item.id``, ``@users.nic.id`` ...). The records are in the
department ``own``: ``nodal_own`` is its nodal officer, ``nodal_other`` is not.
"""
from datetime import date, timedelta

import pytest

from tests.route_walk import (
    REFUSED,
    ROLES,
    R,
    assert_secure_headers,
    cases,
    changes,
    resolve,
    sign_in_as,
    snapshot,
    user_of,
)
from tracker import create_app
from tracker.extensions import db

def _dependency(w):
    """The own milestone waits for the second one (``@milestone2.id``)."""
    from models import MilestoneDependency
    from tracker.extensions import db as _db

    _db.session.flush()
    _db.session.add(MilestoneDependency(predecessor_id=w.milestone2.id,
                                        successor_id=w.milestone.id))


def _draft(w):
    w.plan.status = "draft"


def _approved(w):
    w.plan.status = "approved"


def _no_plan(w):
    """The own department without a plan (its plan moved to a spare department)."""
    from tests import factories

    w.plan.department = factories.department("spare", commit=False)


_PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _pdf_upload(w):
    """A fresh PDF to upload (``@pdf_upload``): each case builds its own world."""
    import io

    w.pdf_upload = (io.BytesIO(_PDF), "order.pdf")


def _bottleneck_attachment(w):
    """Evidence on the own department's bottleneck (``@attachment.id``), stored on disk."""
    import hashlib

    from tracker import attachments as store
    from tracker.operations import attachments as ops

    checked = store.CheckedFile("order.pdf", store.PDF, len(_PDF),
                                hashlib.sha256(_PDF).hexdigest(), _PDF)
    w.attachment, = ops.attach_to_bottleneck(w.bottleneck, w.users.nic, files=[checked])


TODAY = date.today()
SOON = (TODAY + timedelta(days=40)).isoformat()
READ = "302 200 200 200 200 200 200"       # every signed-in user
OWN = "302 200 200 404 200 200 200"        # records of the own department
API_READ = "401 200 200 200 200 200 200"
API_OWN = "401 200 200 404 200 200 200"
EXPORT = "302 403 403 403 200 200 403"     # exports: NIC and the Secretary
MEETINGS = "302 403 403 403 200 200 403"   # manage meetings: NIC and the Secretary
CHAIR = "302 403 403 403 403 200 403"      # chair, minutes: the Secretary
CHAIR_POST = "302 403 403 403 403 302 403"
REVIEW = "302 403 403 404 403 303 403"     # approve or return a plan: the Secretary
DEPT_WRITE_GET = "302 403 200 404 200 200 403"
DEPT_WRITE = "302 403 302 404 302 302 403"
# The workflow pages (milestones, bottlenecks, plans) answer a POST with 303 See Other.
WORKFLOW = "302 403 303 404 303 303 403"
ADMIN = "302 403 403 403 403 403 200"     # the administrator's screens
ADMIN_POST = "302 403 403 403 403 403 303"
THRESHOLDS = {"at_risk_window_days": "10", "stale_days": "20", "sla_critical_days": "3",
              "sla_high_days": "7", "sla_medium_days": "14", "sla_low_days": "30",
              "certificate_warning_days": "30", "website_stale_days": "90",
              "escalate_to_nic_days": "7", "escalate_to_secretary_days": "14",
              "accessibility_audit_valid_days": "365", "forecast_margin_days": "7"}
# Hidden fields a form could be tricked with: they must be ignored or refused.
FORGED = {"department_id": "@other.id", "department": "@other.code", "plan_id": "@other_plan.id",
          "owner": "Forged Owner", "baseline_due": "2000-01-01", "status_approved": "1",
          "approved_by_id": "@users.secretary.id", "meeting_id": "@final_meeting.id"}

ROUTES = {
    # endpoint               method   anon viewer own other nic  sec  admin
    "static":                R(GET="200 200 200 200 200 200 200", args={"filename": "css/app.css"}),
    "auth.sign_in":          R(GET="200 302 302 302 302 302 302",
                               POST="401 302 302 302 302 302 302", writes=False,
                               data={"email": "nobody@test.example", "password": "wrong"}),
    "auth.sign_out":         R(POST="302 302 302 302 302 302 302", writes=False),
    "home.index":            R(GET="302 200 200 200 200 200 200"),
    "home.overview":         R(GET=READ),
    "home.plans":            R(GET=READ),
    "home.approve_plan":     R(POST=REVIEW, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version", **FORGED},
                               keep=("plan.department_id",)),
    "home.return_plan":      R(POST=REVIEW, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version",
                                     "comment": "Add the dates", **FORGED},
                               keep=("plan.department_id",)),
    "home.set_language":     R(POST="302 302 302 302 302 302 302", data={"language": "hi"},
                               writes=False),
    "departments.show":      R(GET="302 200 200 404 200 200 200", args={"code": "@own.code"}),
    "api_help.index":        R(GET=READ),
    "audit.index":           R(GET="302 403 403 403 403 200 200"),
    "jobs.index":            R(GET="302 403 403 403 403 403 200"),
    "admin.index":           R(GET=ADMIN),
    "admin.users":           R(GET=ADMIN),
    "admin.new_user":        R(GET=ADMIN, POST=ADMIN_POST,
                               data={"name": "New Person", "email": "new.person@test.example",
                                     "role": "viewer", "department": "", "active": "y",
                                     "password": "temporary-1"}),
    "admin.edit_user":       R(GET=ADMIN, POST=ADMIN_POST, args={"user_id": "@users.viewer.id"},
                               data={"name": "Renamed Viewer", "email": "renamed@test.example",
                                     "role": "viewer", "department": "", "active": "y"}),
    "admin.reset_password":  R(POST=ADMIN_POST, args={"user_id": "@users.viewer.id"},
                               data={"password": "brand-new-pass"}),
    "admin.departments":     R(GET=ADMIN),
    "admin.new_department":  R(GET=ADMIN, POST=ADMIN_POST,
                               data={"code": "newdept", "name": "A New Department", "active": "y"}),
    "admin.edit_department": R(GET=ADMIN, POST=ADMIN_POST, args={"code": "@own.code"},
                               data={"name": "Renamed Department", "active": "y"}),
    "admin.settings":        R(GET=ADMIN, POST=ADMIN_POST, data=THRESHOLDS),
    "profile.index":         R(GET=READ, POST="302 200 200 200 200 200 200",
                               data={"name": "Department MIS", **FORGED}),
    "profile.revoke":        R(POST="302 404 302 404 404 404 404", args={"token_id": "@token.id"}),
    "notifications.index":   R(GET=READ),
    "notifications.read":    R(POST="302 404 302 404 404 404 404",
                               args={"notification_id": "@notification.id"}),
    "notifications.read_all": R(POST="302 302 302 302 302 302 302"),
    "flags.index":           R(GET=READ),
    "flags.show":            R(GET=OWN, args={"flag_id": "@flag.id"}),

    # Dashboards
    "dashboard.index":       R(GET=READ),
    "dashboard.records":     R(GET=READ),
    "dashboard.download":    R(GET=READ, args={"name": "health", "fmt": "csv"}),
    "dashboard.plotly_js":   R(GET="200 200 200 200 200 200 200"),

    # Milestones and bottlenecks
    "milestones.show":       R(GET=OWN, args={"milestone_id": "@milestone.id"}),
    "milestones.update":     R(POST=WORKFLOW, args={"milestone_id": "@milestone.id"},
                               data={"version": "@milestone.version", "status": "in_progress",
                                     "percent_complete": "70", "note": "Testing done", **FORGED},
                               keep=("milestone.department_id", "milestone.plan_id",
                                     "milestone.owner", "milestone.baseline_due")),
    "milestones.add_dependency": R(POST=WORKFLOW, args={"milestone_id": "@milestone.id"},
                                   data={"predecessor": "OWN-2", **FORGED},
                                   keep=("milestone.department_id", "milestone.version")),
    "milestones.remove_dependency": R(POST=WORKFLOW, prepare=_dependency,
                                      args={"milestone_id": "@milestone.id",
                                            "predecessor_id": "@milestone2.id"}),
    "bottlenecks.index":     R(GET=READ),
    "bottlenecks.show":      R(GET=OWN, args={"bottleneck_id": "@bottleneck.id"}),
    "bottlenecks.raise_on_department": R(
        GET=DEPT_WRITE_GET, POST=WORKFLOW, args={"code": "@own.code"},
        data={"title": "Funds not released", "category": "funds", "severity": "high",
              "milestone_id": "", **FORGED}),
    "bottlenecks.raise_on_milestone": R(
        GET=DEPT_WRITE_GET, POST=WORKFLOW, args={"milestone_id": "@milestone.id"},
        data={"title": "Vendor late", "category": "vendor", "severity": "medium",
              "milestone_id": "@milestone.id", **FORGED}),
    "bottlenecks.escalate":  R(POST="302 403 403 404 303 303 403",
                               args={"bottleneck_id": "@bottleneck.id"},
                               data={"version": "@bottleneck.version", "note": "Needs the Secretary",
                                     **FORGED},
                               keep=("bottleneck.department_id", "bottleneck.milestone_id")),
    "bottlenecks.resolve":   R(POST=WORKFLOW, args={"bottleneck_id": "@bottleneck.id"},
                               data={"version": "@bottleneck.version", "note": "Funds released",
                                     **FORGED},
                               keep=("bottleneck.department_id", "bottleneck.milestone_id")),

    # Attachments: evidence on a bottleneck, the signed copy of final minutes
    "attachments.download":  R(GET=OWN, args={"attachment_id": "@attachment.id"},
                               prepare=_bottleneck_attachment),
    "attachments.remove":    R(POST=WORKFLOW, args={"attachment_id": "@attachment.id"},
                               prepare=_bottleneck_attachment),
    "attachments.attach_to_bottleneck": R(
        POST=WORKFLOW, args={"bottleneck_id": "@bottleneck.id"},
        data={"files": "@pdf_upload", **FORGED}, prepare=_pdf_upload,
        keep=("bottleneck.department_id", "bottleneck.milestone_id")),
    "attachments.attach_signed_minutes": R(
        POST="302 403 403 403 403 303 403", args={"meeting_id": "@final_meeting.id"},
        data={"file": "@pdf_upload"}, prepare=_pdf_upload),

    # Action plans
    "plans.show":            R(GET=OWN, args={"code": "@own.code"}),
    "plans.version":         R(GET=OWN, args={"code": "@own.code", "number": 1}),
    "plans.create":          R(POST=WORKFLOW, args={"code": "@own.code"}, prepare=_no_plan,
                               data={"title": "Action plan 2026", **FORGED}),
    "plans.add_milestone":   R(GET=DEPT_WRITE_GET, POST=WORKFLOW, args={"code": "@own.code"},
                               prepare=_draft,
                               data={"code": "OWN-9", "title": "Portal integration",
                                     "category": "service_integration", "due_date": SOON,
                                     "service_id": "", **FORGED}),
    "plans.edit_milestone":  R(GET=DEPT_WRITE_GET, POST=WORKFLOW, prepare=_draft,
                               args={"code": "@own.code", "milestone_id": "@milestone2.id"},
                               data={"version": "@milestone2.version", "code": "OWN-2",
                                     "title": "Renamed", "category": "website_update",
                                     "due_date": SOON, "service_id": "",
                                     **{k: v for k, v in FORGED.items() if k != "owner"}},
                               keep=("milestone2.department_id", "milestone2.plan_id",
                                     "milestone2.baseline_due")),
    "plans.move_milestone":  R(POST=WORKFLOW, prepare=_draft, data={"direction": "up"},
                               args={"code": "@own.code", "milestone_id": "@milestone2.id"}),
    "plans.remove_milestone": R(POST=WORKFLOW, prepare=_draft,
                                args={"code": "@own.code", "milestone_id": "@milestone2.id"}),
    "plans.submit":          R(POST=WORKFLOW, prepare=_draft, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version", **FORGED},
                               keep=("plan.department_id",)),
    "plans.approve":         R(POST=REVIEW, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version", "comment": "Approved",
                                     **FORGED},
                               keep=("plan.department_id",)),
    "plans.return_":         R(POST=REVIEW, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version",
                                     "comment": "Add the dates", **FORGED},
                               keep=("plan.department_id",)),
    "plans.revise":          R(POST=WORKFLOW, prepare=_approved, args={"code": "@own.code"},
                               data={"lock_version": "@plan.lock_version", **FORGED}),

    # Services and websites
    "services.index":        R(GET=READ),
    "services.summary":      R(GET=READ),
    "services.export":       R(GET=READ),
    "services.new":          R(GET="302 403 200 200 200 200 403", POST=DEPT_WRITE,
                               data={"department": "@own.code", "name": "Birth certificate",
                                     "time_limit_days": "7", "delivery_mode": "offline",
                                     "milestone": "", "department_id": "@other.id"}),
    "services.edit":         R(GET=DEPT_WRITE_GET, POST=DEPT_WRITE,
                               args={"service_id": "@service.id"},
                               data={"name": "Renamed service", "time_limit_days": "10",
                                     "delivery_mode": "offline", "milestone": "",
                                     "version": "@service.version", **FORGED},
                               keep=("service.department_id",)),
    "services.delete":       R(POST=DEPT_WRITE, args={"service_id": "@service.id"},
                               data={"version": "@service.version"}),
    "services.import_workbook": R(GET="302 403 200 200 200 200 403",
                                  POST="302 403 422 422 422 422 403"),
    "services.apply_import": R(POST="302 403 302 302 302 302 403", data={"token": "abc"},
                               writes=False),
    "websites.index":        R(GET=READ),
    "websites.show":         R(GET=OWN, args={"asset_id": "@asset.id"}),
    "websites.export":       R(GET=READ),
    "websites.new":          R(GET="302 403 200 200 200 200 403", POST=DEPT_WRITE,
                               data={"department": "@own.code", "name": "Tourism site",
                                     "kind": "website", "url": "https://tourism.test.example/",
                                     "hosted_by": "nic", "https": "y",
                                     "department_id": "@other.id"}),
    "websites.edit":         R(GET=DEPT_WRITE_GET, POST=DEPT_WRITE, args={"asset_id": "@asset.id"},
                               data={"name": "Renamed site", "kind": "website",
                                     "url": "https://renamed.test.example/", "hosted_by": "nic",
                                     "version": "@asset.version", **FORGED},
                               keep=("asset.department_id",)),
    "websites.delete":       R(POST=DEPT_WRITE, args={"asset_id": "@asset.id"},
                               data={"version": "@asset.version"}),

    # Reports and the plan import
    "reports.index":         R(GET=EXPORT),
    "reports.bottlenecks_xlsx": R(GET=EXPORT),
    "reports.department_status_xlsx": R(GET=EXPORT),
    "reports.roadmap_xlsx":  R(GET=EXPORT),
    "reports.plan_template_xlsx": R(GET=EXPORT),
    "reports.import_plan":   R(GET=EXPORT, POST="302 403 403 403 422 422 403"),
    # No upload is waiting under this token: NIC and the Secretary are sent back to the import
    # page with nothing changed (applying a real upload: tests/test_plan_import.py).
    "reports.apply_import":  R(POST="302 403 403 403 302 302 403", args={"token": "abc"},
                               writes=False),
    "reports.cancel_import": R(POST="302 403 403 403 302 302 403", args={"token": "abc"},
                               writes=False),

    # Review meetings
    "meetings.index":        R(GET=READ),
    "meetings.show":         R(GET=READ, args={"meeting_id": "@meeting.id"}),
    "meetings.new":          R(GET=MEETINGS, POST="302 403 403 403 302 302 403",
                               data={"title": "Monthly review", "meeting_date": SOON,
                                     "venue": "Civil Secretariat", "chair": "Secretary IT",
                                     "attendees-0-name": "", "attendees-0-designation": "",
                                     "attendees-0-department_id": "0"}),
    "meetings.edit":         R(GET=MEETINGS, POST="302 403 403 403 302 302 403",
                               args={"meeting_id": "@meeting.id"},
                               data={"title": "Renamed review", "meeting_date": SOON,
                                     "attendees-0-name": "", "attendees-0-designation": "",
                                     "attendees-0-department_id": "0", "status": "minutes_final"}),
    "meetings.refresh":      R(POST="302 403 403 403 302 302 403", args={"meeting_id": "@meeting.id"}),
    "meetings.add_item":     R(POST="302 403 403 403 302 302 403", args={"meeting_id": "@meeting.id"},
                               data={"title": "Website audits", "department_id": "@own.id"}),
    "meetings.edit_item":    R(GET=MEETINGS, POST="302 403 403 403 302 302 403",
                               args={"meeting_id": "@meeting.id", "item_id": "@agenda_item.id"},
                               data={"title": "Renamed item", "department_id": "@other.id",
                                     "meeting_id": "@final_meeting.id"},
                               keep=("agenda_item.department_id", "agenda_item.meeting_id")),
    "meetings.remove_item":  R(POST="302 403 403 403 302 302 403",
                               args={"meeting_id": "@meeting.id", "item_id": "@agenda_item.id"}),
    "meetings.move_item":    R(POST="302 403 403 403 302 302 403", data={"direction": "down"},
                               args={"meeting_id": "@meeting.id", "item_id": "@agenda_item.id"}),
    "meetings.item_points":  R(GET=READ, args={"meeting_id": "@meeting.id",
                                               "item_id": "@agenda_item.id"}),
    "meetings.left_off":     R(GET=READ, POST="302 403 403 403 302 302 403",
                               args={"meeting_id": "@meeting.id"}, data={"department": "@own.id"}),
    "meetings.mark_held":    R(GET=CHAIR, POST=CHAIR_POST, args={"meeting_id": "@meeting.id"}),
    "meetings.save_minutes": R(POST=CHAIR_POST, data={"item": "@held_item.id",
                                                       "minutes": "Agreed to release funds."},
                               args={"meeting_id": "@held_meeting.id"}),
    "meetings.add_decision": R(GET=CHAIR, POST=CHAIR_POST,
                               args={"meeting_id": "@held_meeting.id", "item_id": "@held_item.id"},
                               data={"text": "Release the funds", "department_id": "@own.id",
                                     "responsible_officer": "Director", "due_date": SOON}),
    "meetings.remove_decision": R(POST=CHAIR_POST, args={"meeting_id": "@held_meeting.id",
                                                    "decision_id": "@decision.id"}),
    "meetings.finalise":     R(GET=CHAIR, POST=CHAIR_POST, args={"meeting_id": "@held_meeting.id"}),
    "meetings.amend":        R(GET=CHAIR, POST=CHAIR_POST,
                               args={"meeting_id": "@final_meeting.id", "item_id": "@final_item.id"},
                               data={"minutes": "Discussed and agreed.", "reason": "Omission"}),
    "meetings.minutes_xlsx": R(GET=EXPORT, args={"meeting_id": "@held_meeting.id"}),
    "meetings.meeting_atr_xlsx": R(GET=EXPORT, args={"meeting_id": "@held_meeting.id"}),
    "meetings.action_items": R(GET=READ),
    "meetings.atr_xlsx":     R(GET=EXPORT),
    "meetings.action_item":  R(GET=OWN, POST=DEPT_WRITE, args={"item_id": "@action_item.id"},
                               data={"status": "done", "closing_note": "Funds released",
                                     "version": "@action_item.version", **FORGED},
                               keep=("action_item.department_id", "action_item.meeting_id")),

    # The JSON API: bearer tokens, anonymous gets 401
    "api.openapi_json":      R(api=True, GET="200 200 200 200 200 200 200"),
    "api.departments":       R(api=True, GET=API_READ),
    "api.department":        R(api=True, GET=API_OWN, args={"code": "@own.code"}),
    "api.plans":             R(api=True, GET=API_READ),
    "api.plan":              R(api=True, GET=API_OWN, args={"plan_id": "@plan.id"}),
    "api.milestones":        R(api=True, GET=API_READ),
    "api.milestone":         R(api=True, GET=API_OWN, args={"milestone_id": "@milestone.id"}),
    "api.milestone_history": R(api=True, GET=API_OWN, args={"milestone_id": "@milestone.id"}),
    "api.update_milestone":  R(api=True, PATCH="401 403 200 404 200 200 403",
                               args={"milestone_id": "@milestone.id"},
                               data={"version": "@milestone.version", "percent_complete": 80,
                                     "note": "Through the API"}),
    "api.milestone_dependencies": R(api=True, GET=API_OWN,
                                    args={"milestone_id": "@milestone.id"}),
    "api.add_milestone_dependency": R(api=True, POST="401 403 201 404 201 201 403",
                                      args={"milestone_id": "@milestone.id"},
                                      data={"predecessor": "OWN-2"}),
    "api.remove_milestone_dependency": R(api=True, DELETE="401 403 200 404 200 200 403",
                                         prepare=_dependency,
                                         args={"milestone_id": "@milestone.id",
                                               "predecessor_id": "@milestone2.id"}),
    "api.bottlenecks":       R(api=True, GET=API_READ),
    "api.bottleneck":        R(api=True, GET=API_OWN, args={"bottleneck_id": "@bottleneck.id"}),
    "api.create_bottleneck": R(api=True, POST="401 403 201 404 201 201 403",
                               data={"department": "@own.code", "title": "No vendor",
                                     "category": "vendor", "severity": "high"}),
    "api.update_bottleneck": R(api=True, PATCH="401 403 200 404 200 200 403",
                               args={"bottleneck_id": "@bottleneck.id"},
                               data={"version": "@bottleneck.version", "title": "Renamed"}),
    "api.escalate_bottleneck": R(api=True, POST="401 403 403 404 200 200 403",
                                 args={"bottleneck_id": "@bottleneck.id"},
                                 data={"note": "Needs the Secretary"}),
    "api.resolve_bottleneck": R(api=True, POST="401 403 200 404 200 200 403",
                                args={"bottleneck_id": "@bottleneck.id"},
                                data={"note": "Solved"}),
    "api.flags":             R(api=True, GET=API_READ),
    "api.services":          R(api=True, GET=API_READ),
    "api.websites":          R(api=True, GET=API_READ),
    "api.service":           R(api=True, GET=API_OWN, args={"service_id": "@service.id"}),
    "api.update_service":    R(api=True, PATCH="401 403 200 404 200 200 403",
                               args={"service_id": "@service.id"},
                               data={"version": "@service.version", "time_limit_days": 10}),
    "api.website":           R(api=True, GET=API_OWN, args={"website_id": "@asset.id"}),
    "api.update_website":    R(api=True, PATCH="401 403 200 404 200 200 403",
                               args={"website_id": "@asset.id"},
                               data={"version": "@asset.version", "name": "Renamed site"}),
    "api.update_action_item": R(api=True, PATCH="401 403 200 404 200 200 403",
                                args={"item_id": "@action_item.id"},
                                data={"version": "@action_item.version", "status": "done",
                                      "closing_note": "Funds released"}),
    "api.meetings":          R(api=True, GET=API_READ),
    "api.meeting":           R(api=True, GET=API_READ, args={"meeting_id": "@meeting.id"}),
    "api.action_items":      R(api=True, GET=API_READ),
    "api.action_item":       R(api=True, GET=API_OWN, args={"item_id": "@action_item.id"}),
}

# The routes as the app has them, read once when the tests are collected.
_APP = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
CASES = cases(_APP, ROUTES)


def test_every_route_is_in_the_table_and_every_line_is_a_route(figure):
    found = {endpoint for endpoint, _ in CASES}
    missing = sorted(found - set(ROUTES))
    stale = sorted(set(ROUTES) - found)
    assert not missing, f"add a line to ROUTES for: {missing}"
    assert not stale, f"ROUTES names endpoints the app does not have: {stale}"
    for endpoint, spec in ROUTES.items():
        methods = {m for e, m in CASES if e == endpoint}
        assert spec.methods() == methods, f"{endpoint}: the app has {methods}, ROUTES {spec.methods()}"
    figure(f"authorization matrix: {len(found)} routes, {len(CASES)} route-methods "
           f"× {len(ROLES)} roles = {len(CASES) * len(ROLES)} cases")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_route_answers_each_role_as_the_table_says(app, client, route_world, endpoint, method,
                                                  role):
    spec = ROUTES.get(endpoint)
    assert spec is not None, (
        f"{endpoint} ({method}) is not in ROUTES of tests/test_authorization_matrix.py: "
        f"add one line with the expected status for each of {', '.join(ROLES)}"
    )
    assert method in spec.methods(), f"ROUTES[{endpoint!r}] has no {method} line"
    world = route_world
    if spec.prepare:
        spec.prepare(world)
        db.session.commit()
    headers = {}
    if spec.api:
        if role != "anonymous":
            headers["Authorization"] = f"Bearer {getattr(world.tokens, role)}"
    else:
        sign_in_as(client, user_of(world, role))
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **spec.url_args(world))
    kept = {path: resolve("@" + path, world) for path in spec.keep}
    before = snapshot()

    body = spec.body(world) if method != "GET" else None
    if spec.api:
        response = client.open(url, method=method, headers=headers,
                               json=body if method != "GET" else None)
    else:
        response = client.open(url, method=method, data=body)

    expected = spec.expected(method, role)
    assert response.status_code == expected, (
        f"{role} {method} {url}: got {response.status_code}, the table says {expected}"
    )
    # The security headers, on every answer (tests/test_security_headers.py walked the GETs).
    assert_secure_headers(response, f"{role} {method} {url} ({response.status_code})")
    if method == "GET" and endpoint in ("static", "dashboard.plotly_js"):
        # Files, not pages: cacheable.
        assert "no-store" not in response.headers.get("Cache-Control", ""), f"{role} GET {url}"
    elif method == "GET":
        assert response.headers["Cache-Control"] == "no-store", f"{role} GET {url}"
    refused = response.status_code in REFUSED or (
        role == "anonymous" and response.status_code == 302
        and response.headers["Location"].startswith("/sign-in"))
    after = snapshot()
    if method == "GET" or refused:
        assert changes(before, after) == [], f"{role} {method} {url} changed the database"
    elif spec.writes:
        assert changes(before, after), f"{role} {method} {url} was allowed but changed nothing"
    db.session.expire_all()
    for path, value in kept.items():
        assert resolve("@" + path, world) == value, f"{role} {method} {url} changed {path}"


@pytest.mark.parametrize("endpoint,data", [
    ("services.new", {"department": "@other.code", "name": "Forged service",
                      "delivery_mode": "offline", "milestone": ""}),
    ("websites.new", {"department": "@other.code", "name": "Forged site", "kind": "website",
                      "url": "https://forged.test.example/", "hosted_by": "nic"}),
])
def test_a_nodal_officer_cannot_forge_another_department_in_a_form(app, client, route_world,
                                                                 endpoint, data):
    world = route_world
    sign_in_as(client, world.users.nodal_own)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint)
    before = snapshot()
    response = client.post(url, data={k: resolve(v, world) for k, v in data.items()})
    assert response.status_code in (403, 404, 422)
    assert changes(before, snapshot()) == []


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "/api/v1/milestones/{milestone.id}",
     {"version": "@milestone.version", "department_id": "@other.id", "plan_id": "@other_plan.id"}),
    ("PATCH", "/api/v1/bottlenecks/{bottleneck.id}",
     {"version": "@bottleneck.version", "department_id": "@other.id", "status": "resolved"}),
    ("POST", "/api/v1/bottlenecks",
     {"department": "@other.code", "title": "Forged", "category": "vendor", "severity": "low"}),
])
def test_forged_fields_in_the_api_are_refused(client, route_world, method, path, body):
    world = route_world
    url = path.format(milestone=world.milestone, bottleneck=world.bottleneck)
    before = snapshot()
    response = client.open(url, method=method,
                           headers={"Authorization": f"Bearer {world.tokens.nodal_own}"},
                           json={k: resolve(v, world) for k, v in body.items()})
    assert response.status_code in (403, 404, 422), response.get_json()
    assert changes(before, snapshot()) == []
