"""The website and app register: the compliance table of every department's websites, web
apps and mobile apps, each asset's page with its health checks, and the Excel export."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from models.digital_asset import SECURITY_HEADERS
from models import Department, DigitalAsset, HealthCheck
from tracker import clock, rules
from tracker.extensions import db
from views.downloads import dated, generated_at, xlsx_response
from views.list_export import ListColumn, export_format, export_list
from tracker.i18n import N_
from tracker.labels import choices, label, website_state, website_state_days
from tracker.operations import websites as website_ops
from tracker.permissions import authorize, visible_department_ids
from tracker.settings import thresholds
from views.registers import Register, can_add, department_choices, department_filter
from views.workflow_forms import opts

bp = Blueprint("websites", __name__, url_prefix="/websites")

HISTORY_LENGTH = 30


class AssetForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=opts(choices("asset_kind")))
    url = StringField(_l("Web address"), validators=[DataRequired(), Length(max=500)])
    hosted_by = SelectField(_l("Hosted by"), choices=opts(choices("host")))
    last_content_update = DateField(_l("Last content update"), validators=[Optional()])
    audit_valid_until = DateField(_l("Security-audit certificate valid until"),
                                  validators=[Optional()])
    accessibility_audit_on = DateField(_l("Accessibility audit done on"), validators=[Optional()])
    https = BooleanField(_l("Served over HTTPS"))
    portal_integrated = BooleanField(_l("Integrated with the portal"))
    version = HiddenField()
    submit = SubmitField(_l("Save"))

    def values(self):
        return {name: getattr(self, name).data for name in website_ops.FIELDS}


class DeleteForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField(_l("Remove from the register"))


def compliance_rows(today, t, department_ids=None, department_code=None):
    """Every asset in scope with its department name and its state per compliance column,
    decided in SQL by the rules: one query."""
    states = {
        "content": rules.content_state_sql(today, t),
        "certificate": rules.certificate_state_sql(DigitalAsset.audit_valid_until, today, t),
        "accessibility": rules.accessibility_state_sql(today, t),
        "https": rules.flag_state_sql(DigitalAsset.https),
        "portal": rules.flag_state_sql(DigitalAsset.portal_integrated),
        "check": rules.check_state_sql(),
    }
    q = (
        sa.select(DigitalAsset, Department.name, *(expr.label(k) for k, expr in states.items()))
        .join(Department, Department.id == DigitalAsset.department_id)
        .order_by(Department.name, DigitalAsset.name, DigitalAsset.id)
    )
    if department_ids is not None:
        q = q.where(DigitalAsset.department_id.in_(department_ids))
    if department_code:
        q = q.where(Department.code == department_code)
    return [
        (row[0], row[1], dict(zip(states, row[2:])))
        for row in db.session.execute(q).all()
    ]


def _asset_states(asset, today, t):
    return {
        "content": rules.content_state(asset, today, t),
        "certificate": rules.certificate_state(asset.audit_valid_until, today, t),
        "accessibility": rules.accessibility_state(asset.accessibility_audit_on, today, t),
        "https": rules.flag_state(asset.https),
        "portal": rules.flag_state(asset.portal_integrated),
        "check": rules.check_state(asset),
    }


def _template_globals(t):
    return {
        "state_days": website_state_days(t),
    }


class AssetRegister(Register):
    model = DigitalAsset
    operations = website_ops
    action = "edit_asset"
    endpoint = "websites"
    id_arg = "asset_id"
    template = "websites/form.html"
    form_class = AssetForm
    delete_form_class = DeleteForm
    added_message = N_("“%(name)s” added to the register.")
    saved_message = N_("“%(name)s” saved.")
    removed_message = N_("“%(name)s” removed from the register.")

    def saved_url(self, record):
        return url_for("websites.show", asset_id=record.id)

    def cancel_url(self, record, department):
        return self.saved_url(record) if record is not None else url_for("websites.index")

    def context(self):
        return _template_globals(thresholds())


REGISTER = AssetRegister()


@bp.route("/")
@login_required
def index():
    today, t = clock.today(), thresholds()
    scope = visible_department_ids(current_user)
    code = department_filter()
    problems_only = request.args.get("problems") == "1"
    rows = compliance_rows(today, t, scope, code)
    if problems_only:
        rows = [r for r in rows if any(s != "ok" for s in r[2].values())]
    fmt = export_format()
    if fmt:
        columns = [
            ListColumn(_("Department"), lambda r: r[1], width=26),
            ListColumn(_("Name"), lambda r: r[0].name, "wrap", 30),
            ListColumn(_("Kind"), lambda r: label("asset_kind", r[0].kind), width=14),
            ListColumn(_("Address"), lambda r: r[0].url, width=34),
            ListColumn(_("Hosted by"), lambda r: label("host", r[0].hosted_by), width=12),
            *(ListColumn(heading, lambda r, k=key: website_state(k, r[2][k], t), width=16)
              for key, heading in (("content", _("Content")), ("certificate", _("Security audit")),
                                   ("accessibility", _("Accessibility audit")),
                                   ("https", _("HTTPS")), ("portal", _("Portal")),
                                   ("check", _("Latest check")))),
        ]
        return export_list(fmt, "websites", _("Websites and apps"), None, columns, rows)
    return render_template(
        "websites/index.html", rows=rows, today=today, selected=code,
        problems_only=problems_only,
        departments=department_choices("read") if scope is None else [],
        can_add=can_add("edit_asset"), **_template_globals(t),
    )


@bp.route("/<int:asset_id>")
@login_required
def show(asset_id):
    asset = authorize("read", REGISTER.get(asset_id))
    today, t = clock.today(), thresholds()
    history = db.session.execute(
        sa.select(HealthCheck)
        .where(HealthCheck.asset_id == asset.id)
        .order_by(HealthCheck.checked_at.desc(), HealthCheck.id.desc())
        .limit(HISTORY_LENGTH)
    ).scalars().all()
    return render_template(
        "websites/show.html", asset=asset, states=_asset_states(asset, today, t),
        latest=history[0] if history else None, history=history, today=today,
        header_names=SECURITY_HEADERS,
        down=rules.website_is_down(history), **_template_globals(t),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    return REGISTER.new()


@bp.route("/<int:asset_id>/edit", methods=["GET", "POST"])
@login_required
def edit(asset_id):
    return REGISTER.edit(asset_id)


@bp.route("/<int:asset_id>/delete", methods=["POST"])
@login_required
def delete(asset_id):
    return REGISTER.delete(asset_id)


@bp.route("/export.xlsx")
@login_required
def export():
    from exports import websites as websites_export  # openpyxl: only when a workbook is asked for

    authorize("read")
    now, t = generated_at(), thresholds()
    today = now.date()
    code = department_filter()
    rows = compliance_rows(today, t, visible_department_ids(current_user), code)
    data = websites_export.websites_workbook(rows, now, t, clock.zone())
    stem = f"website-compliance-{code or 'all'}"
    if code and not code.replace("-", "").replace("_", "").isalnum():
        stem = "website-compliance"
    return xlsx_response(data, dated(stem, today))
