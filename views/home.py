from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from tracker import clock, reports
from tracker.extensions import db
from tracker.permissions import visible_department_ids
from tracker.settings import thresholds

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    today = clock.today()
    summaries = reports.department_summaries(today, thresholds(), visible_department_ids(current_user))
    totals = {}
    for s in summaries:
        for health, n in s.counts.items():
            totals[health] = totals.get(health, 0) + n
    return render_template("home/index.html", summaries=summaries, totals=totals, today=today)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language; remembered in the session and, when signed in, the profile."""
    from flask import current_app

    from flask_babel import refresh

    code = request.form.get("language", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            from tracker import audit

            audit.record("set_language", "user", current_user.id,
                         {"locale": [current_user.locale, code]})
            current_user.locale = code
            db.session.commit()
        refresh()  # the locale chosen for this request so far is no longer the user's
    from tracker.auth import safe_next

    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))
