"""Sign-in and sign-out.

One message for every failed sign-in (no user enumeration); lock-out after
``LOGIN_MAX_FAILURES`` failures for ``LOGIN_LOCKOUT_MINUTES``; a new session on sign-in; and a
per-user session counter, so that a cookie copied before sign-out is refused after it.
"""
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from models import User
from models.base import utcnow
from tracker import audit
from tracker.extensions import db, limiter, login_manager
from tracker.i18n import N_

bp = Blueprint("auth", __name__)
log = logging.getLogger("tracker.auth")

FAILED_MESSAGE = N_("Sign-in failed: the e-mail or password is wrong, or the account is locked.")


@login_manager.user_loader
def load_user(user_id):
    try:
        uid, version = (int(part) for part in user_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter an e-mail address like name@example.gov.in.")),
        Length(max=254, message=_l("The e-mail address is too long.")),
    ])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")),
        Length(max=200, message=_l("The password is too long.")),
    ])
    submit = SubmitField(_l("Sign in"))


def authenticate(email, password, now=None):
    """The user when ``password`` is right and the account neither inactive nor locked;
    otherwise None. Counts failures and locks the account; the caller commits."""
    now = now or utcnow()
    config = current_app.config
    user = db.session.execute(db.select(User).filter_by(email=email.strip().lower())).scalar()
    if user is None:
        audit.record("sign_in_failed", "user", None, {"email": email.strip().lower()})
        return None
    if user.locked_until is not None and user.locked_until > now:
        audit.record("sign_in_refused_locked", "user", user.id, user=user)
        return None
    if not user.active or not user.check_password(password):
        user.failed_logins += 1
        audit.record("sign_in_failed", "user", user.id, {"failed_logins": user.failed_logins},
                     user=user)
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
            audit.record("account_locked", "user", user.id,
                         {"locked_until": user.locked_until}, user=user)
            log.warning("account locked: %s from %s", user.email, request.remote_addr)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("sign_in", "user", user.id, user=user)
    return user


def safe_next(target):
    """A local path to go to after sign-in; anything pointing at another host is ignored."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is not None:
            locale = session.get("locale")
            session.clear()  # a new session: nothing from before sign-in survives
            if locale:  # but the language just chosen on this page is kept, and saved
                session["locale"] = user.locale = locale
                db.session.commit()
            login_user(user, remember=False)
            log.info("sign-in: %s from %s", user.email, request.remote_addr)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        log.info("sign-in failed for %r from %s", form.email.data, request.remote_addr)
        flash(gettext(FAILED_MESSAGE), "error")
        return render_template("auth/sign_in.html", form=form), 401
    return render_template("auth/sign_in.html", form=form), 400 if form.errors else 200


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    user = current_user._get_current_object()
    user.session_version += 1  # refuses every cookie issued before this moment
    audit.record("sign_out", "user", user.id, user=user)
    db.session.commit()
    message = gettext("You have signed out.")
    locale = session.get("locale") or user.locale
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the user's language
    flash(message, "info")
    return redirect(url_for("auth.sign_in"))
