"""Each user's in-app inbox: the digest, reminders and events addressed to them."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required

from models import Department, Flag, Notification
from models.base import utcnow
from views.auth import safe_next
from tracker.extensions import db
from tracker.operations import notifications as operations
from tracker.links import subject_url
from views.sorting import Sort, column
from views.unit_of_work import unit_of_work

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_SIZE = 50
SORT_COLUMNS = {
    "subject": column(Notification.subject),
    "date": column(sa.func.coalesce(Notification.digest_on, Notification.created_at),
                   descending_first=True),
    "state": column(Notification.read_at.is_not(None)),
    "email": column(Notification.emailed_at, descending_first=True),
}


@bp.route("/")
@login_required
def index():
    unread_only = request.args.get("show") == "unread"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = (
        sa.select(Notification, Flag, Department.code, Department.name)
        .outerjoin(Flag, Flag.id == Notification.flag_id)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(Notification.user_id == current_user.id)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    filters = {k: v for k, v in request.args.items() if k not in ("page", "sort")}
    sort = Sort.from_args(request.args, SORT_COLUMNS, "-date",
                          lambda value: url_for("notifications.index", **filters, sort=value),
                          tiebreak=(Notification.created_at.desc(), Notification.id.desc()))
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(query.with_only_columns(Notification.id).subquery())
    ).scalar_one()
    rows = [
        (n, flag.cleared_at if flag else None, *operations.in_words(n, flag),
         (subject_url(flag, code) if flag is not None else None) or n.link, name)
        for n, flag, code, name in db.session.execute(
            query.order_by(*sort.order_by())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
    ]
    return render_template(
        "notifications/index.html", rows=rows, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), unread_only=unread_only, sort=sort,
        page_args={**filters, **({} if sort.is_default else {"sort": sort.value})},
    )


def _own(notification_id):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id):
    notification = _own(notification_id)
    with unit_of_work():
        operations.mark_read(notification, current_user, now=utcnow())
    if request.form.get("open") and notification.link:
        return redirect(safe_next(notification.link) or url_for("notifications.index"))
    return redirect(safe_next(request.form.get("next")) or url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    with unit_of_work():
        count = operations.mark_all_read(current_user, now=utcnow())
    flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.",
                   count), "success")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def inbox_count():
    """``unread_notification_count()`` for the header: one query, only when called."""

    def unread_notification_count():
        if not current_user.is_authenticated:
            return 0
        return operations.unread_count(current_user)

    return {"unread_notification_count": unread_notification_count}
