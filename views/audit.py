"""The audit log browser, for the Secretary and the administrator. Read only: no route of
the app edits or deletes an audit entry."""
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import aliased, joinedload

from models import AuditLog, User
from tracker.clock import local_midnight_utc
from tracker.extensions import db
from tracker.labels import field_value, label
from tracker.permissions import require
from views.list_export import ListColumn, export_format, export_list
from views.sorting import Sort, column
from views.workflow_forms import AuditFilterForm, opts

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50

# Who made the change, for sorting by name (the entry's user is loaded apart).
WHO = aliased(User, name="who")
SORT_COLUMNS = {
    "when": column(AuditLog.at, descending_first=True),
    "who": column(WHO.name),
    "action": column(AuditLog.action),
    "record": column(AuditLog.entity, AuditLog.entity_id),
}


@bp.route("")
@login_required
@require("view_audit")
def index():
    form = AuditFilterForm(request.args)
    users = db.session.execute(sa.select(User.id, User.name, User.email).order_by(User.name)).all()
    form.user_id.choices = opts([("", _("Anyone"))] + [(str(u.id), f"{u.name} ({u.email})")
                                                       for u in users])
    entities = db.session.execute(
        sa.select(AuditLog.entity).distinct().order_by(AuditLog.entity)).scalars().all()
    form.entity.choices = opts([("", _("Any"))] + [(e, label("entity", e)) for e in entities])
    form.validate()

    q = sa.select(AuditLog)
    if form.user_id.data and str(form.user_id.data).isdigit():
        q = q.where(AuditLog.user_id == int(form.user_id.data))
    if form.action.data and not form.action.errors:
        q = q.where(AuditLog.action == form.action.data.strip())
    if form.entity.data:
        q = q.where(AuditLog.entity == form.entity.data)
    if form.entity_id.data is not None and not form.entity_id.errors:
        q = q.where(AuditLog.entity_id == form.entity_id.data)
    if form.date_from.data and not form.date_from.errors:
        q = q.where(AuditLog.at >= local_midnight_utc(form.date_from.data))
    if form.date_to.data and not form.date_to.errors:
        q = q.where(AuditLog.at < local_midnight_utc(form.date_to.data + timedelta(days=1)))
    fmt = export_format()
    if fmt:
        columns = [
            ListColumn(_("When"), lambda r: local_naive(r[0].at), "datetime", 16),
            ListColumn(_("Who"), lambda r: r[1] or _("The system"), width=24),
            ListColumn(_("Action"), lambda r: label("audit_action", r[0].action), width=18),
            ListColumn(_("Record"), lambda r: label("entity", r[0].entity), width=16),
            ListColumn(_("Changes"), lambda r: change_words(r[0].changes, r[0].entity), "wrap", 60),
            ListColumn(_("From address"), lambda r: r[0].remote_addr, width=16),
        ]
        rows = (q.add_columns(User.name).outerjoin(User, User.id == AuditLog.user_id)
                .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
        return export_list(fmt, "audit-log", _("Audit log"), None, columns, rows)
    total = db.session.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar()
    page = max(request.args.get("page", 1, type=int), 1)
    filters = {k: v for k, v in request.args.items() if k not in ("page", "sort")}
    sort = Sort.from_args(request.args, SORT_COLUMNS, "-when",
                          lambda value: url_for("audit.index", **filters, sort=value),
                          tiebreak=(AuditLog.id.desc(),))
    entries = db.session.execute(
        q.outerjoin(WHO, WHO.id == AuditLog.user_id)
        .options(joinedload(AuditLog.user))
        .order_by(*sort.order_by())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).scalars().all()
    args = {**filters, **({} if sort.is_default else {"sort": sort.value})}
    return render_template("audit/index.html", form=form, entries=entries, total=total,
                           page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           args=args, sort=sort)


def local_naive(at):
    """A stored UTC time as the local wall-clock time, for a workbook's date cells."""
    from datetime import timezone

    from tracker import clock

    return at.replace(tzinfo=timezone.utc).astimezone(clock.zone()).replace(tzinfo=None) if at else None


def change_words(changes, entity=None):
    """'Status: Not started → In progress; …' from an audit entry's changes."""
    if not isinstance(changes, dict):
        return None
    parts = []
    for field, value in changes.items():
        name = label("field", field)
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{name}: {_word(entity, field, value[0])} → {_word(entity, field, value[1])}")
        else:
            parts.append(f"{name}: {_word(entity, field, value)}")
    return "; ".join(parts) or None


def _word(entity, field, value):
    import re as _re

    if value is None or value == "":
        return "—"
    text = str(value)
    iso = _re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return f"{iso.group(3)}-{iso.group(2)}-{iso.group(1)}"
    return str(field_value(entity, field, value))
