"""Sign-in and sign-out.

One message for every failed sign-in (no user enumeration); lock-out after
``LOGIN_MAX_FAILURES`` failures for ``LOGIN_LOCKOUT_MINUTES``; a new session on sign-in; and a
per-user session counter, so that a cookie copied before sign-out is refused after it; a
session ends after ``SESSION_IDLE_MINUTES`` without a request and ``SESSION_MAX_HOURS`` after
sign-in, whatever happens. Every sign-in event is an audit entry and a line of the security
log (``tracker.platform.security_log``).
"""
import logging
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import (
    current_user,
    login_required,
    login_user,
    logout_user,
    user_unauthorized,
)
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms.validators import DataRequired, Email, Length

from models import User
from models.base import utcnow
from tracker import audit
from tracker.platform import security_log
from tracker.extensions import db, limiter, login_manager
from tracker.i18n import N_

bp = Blueprint("auth", __name__)

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


@user_unauthorized.connect
def _log_sign_in_required(sender, **extra):
    """An anonymous request for a page that needs sign-in (it is sent to the sign-in page)."""
    security_log.event("sign_in_required", status=302)


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


_dummy_hash = None


def _spend_a_hash(password):
    """Check ``password`` against a throw-away hash, so that an unknown e-mail takes as long
    to refuse as a wrong password (no user enumeration by timing)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash("not a password of anyone")
    check_password_hash(_dummy_hash, password)


def authenticate(email, password, now=None):
    """The user when ``password`` is right and the account neither inactive nor locked;
    otherwise None. Counts failures and locks the account; the caller commits."""
    now = now or utcnow()
    config = current_app.config
    email = email.strip().lower()
    user = db.session.execute(db.select(User).filter_by(email=email)).scalar()
    if user is None:
        _spend_a_hash(password)
        audit.record("sign_in_failed", "user", None, {"email": email})
        security_log.event("sign_in_failed", email=email, level=logging.WARNING,
                           reason="unknown_email")
        return None
    if user.locked_until is not None and user.locked_until > now:
        _spend_a_hash(password)
        audit.record("sign_in_refused_locked", "user", user.id, user=user)
        security_log.event("sign_in_refused_locked", user=user, level=logging.WARNING,
                           locked_until=security_log.local_iso(user.locked_until))
        return None
    if not user.active or not user.check_password(password):
        user.failed_logins += 1
        audit.record("sign_in_failed", "user", user.id, {"failed_logins": user.failed_logins},
                     user=user)
        security_log.event("sign_in_failed", user=user, level=logging.WARNING,
                           reason="inactive" if not user.active else "wrong_password",
                           failures=user.failed_logins)
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
            audit.record("account_locked", "user", user.id,
                         {"locked_until": user.locked_until}, user=user)
            security_log.event("account_locked", user=user, level=logging.WARNING,
                               locked_until=security_log.local_iso(user.locked_until))
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("sign_in", "user", user.id, user=user)
    security_log.event("sign_in", user=user)
    return user


def _epoch(now=None):
    """Seconds since 1970 of a naive UTC instant (default now)."""
    return int((now or utcnow()).replace(tzinfo=timezone.utc).timestamp())


def start_session(sess, now=None):
    """Stamp a new session with its sign-in time, for the idle and absolute time-outs."""
    stamp = _epoch(now)
    sess["auth_at"] = stamp
    sess["seen_at"] = stamp


def session_expired(sess, now=None):
    """Why the signed-in session ``sess`` has ended ("idle", "absolute"), or None."""
    config = current_app.config
    now = _epoch(now)
    auth_at, seen_at = sess.get("auth_at"), sess.get("seen_at")
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return "absolute"  # a session from before the time-outs, or not made by sign_in
    if now - auth_at > config["SESSION_MAX_HOURS"] * 3600:
        return "absolute"
    if now - seen_at > config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


@bp.before_app_request
def end_expired_sessions():
    """Sign out a session idle too long or too old; otherwise note that it was seen."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    if not current_user.is_authenticated:
        return None
    now = utcnow()
    reason = session_expired(session, now)
    if reason is None:
        stamp = _epoch(now)
        if stamp - session["seen_at"] >= 60:  # rewrite the cookie at most once a minute
            session["seen_at"] = stamp
        return None
    security_log.event("session_expired", reason=reason)
    message = gettext("Your session has ended. Please sign in again.")
    locale = session.get("locale") or getattr(current_user, "locale", None)
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(message, "info")
    if request.method == "GET":
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.sign_in"))


def safe_next(target):
    """A local path to go to after sign-in; anything pointing at another host is ignored.
    Browsers drop tabs and new lines inside a URL, so ``/\t/evil.example`` would become
    ``//evil.example``: control characters and spaces are refused too."""
    if not target:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
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
            start_session(session)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        flash(gettext(FAILED_MESSAGE), "error")
        return render_template("auth/sign_in.html", form=form), 401
    return render_template("auth/sign_in.html", form=form), 400 if form.errors else 200


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    user = current_user._get_current_object()
    user.session_version += 1  # refuses every cookie issued before this moment
    audit.record("sign_out", "user", user.id, user=user)
    security_log.event("sign_out", user=user)
    db.session.commit()
    message = gettext("You have signed out.")
    locale = session.get("locale") or user.locale
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the user's language
    flash(message, "info")
    return redirect(url_for("auth.sign_in"))
