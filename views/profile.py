"""The signed-in user's profile: their personal API tokens."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from models import ApiToken
from tracker.extensions import db
from tracker.operations.tokens import create_token, revoke_token
from views.unit_of_work import unit_of_work

bp = Blueprint("profile", __name__, url_prefix="/profile")


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. 'Health MIS sync'."))
    submit = SubmitField(_l("Create token"))


def _tokens():
    return db.session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    ).scalars().all()


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        with unit_of_work():
            _, new_token = create_token(current_user, form.name.data)
        form = TokenForm(formdata=None)
    elif form.errors:
        status = 422
    return render_template("profile/index.html", form=form, tokens=_tokens(),
                           new_token=new_token), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    with unit_of_work():
        revoke_token(token, current_user)
    flash(_("The token was revoked. Systems using it can no longer reach the API."), "info")
    return redirect(url_for("profile.index"))
