"""A human-readable page of the API description."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("api_help", __name__, url_prefix="/help/api")


@bp.route("/")
@login_required
def index():
    from views.api.openapi import spec

    return render_template("help/api.html", spec=spec())
