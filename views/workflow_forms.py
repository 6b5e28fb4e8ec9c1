"""Forms of the plan, milestone and bottleneck pages, and the glue that puts an operation's
per-field ``ValidationError`` messages beside the fields of a form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES, REVISION_REASONS
from tracker.labels import lazy_label
from tracker.rules import AGE_BUCKETS


def opts(pairs):
    """``(value, label)`` pairs as the option objects WTForms expects."""
    return [SelectChoice(value, text) for value, text in pairs]


def choices(kind, values, blank=None):
    """Options of a select: each code of ``values`` with its words (``tracker.labels``)."""
    result = [(v, lazy_label(kind, v)) for v in values]
    return opts(([("", blank)] if blank is not None else []) + result)


def apply_errors(form, errors):
    """Put an operation's ``{field: [messages]}`` beside the form's fields; return the
    messages that belong to no field (to show above the form)."""
    general = []
    for name, messages in errors.items():
        if name in form:
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            general.extend(messages)
    return general


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class MilestoneUpdateForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    status = SelectField(_l("Status"), choices=choices("milestone_status", MILESTONE_STATUSES))
    percent_complete = IntegerField(
        _l("Percent complete"),
        validators=[InputRequired(_l("Enter a whole number from 0 to 100.")),
                    NumberRange(0, 100, _l("Enter a whole number from 0 to 100."))])
    completed_on = DateField(_l("Completed on"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    reason = SelectField(_l("Reason for moving the due date"),
                         choices=choices("revision_reason", REVISION_REASONS, blank=_l("(due date unchanged)")),
                         default="")
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])
    # Checked by content in tracker/attachments.py, not here.
    attachments = MultipleFileField(
        _l("Evidence (optional)"),
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.xlsx"})


class MilestoneForm(FlaskForm):
    version = HiddenField()
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    category = SelectField(_l("Category"), choices=choices("milestone_category", MILESTONE_CATEGORIES))
    owner = StringField(_l("Owner"), validators=[Length(max=200)])
    start_date = DateField(_l("Start date"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[InputRequired(_l("Enter the due date."))])
    service_id = SelectField(_l("Service it brings online"), coerce=optional_int,
                             validate_choice=True)


class PlanActionForm(FlaskForm):
    """Submit, revise: only the plan version that was read."""

    lock_version = HiddenField()


class ReviewForm(FlaskForm):
    lock_version = HiddenField()
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])


class BottleneckForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    category = SelectField(_l("Category"), choices=choices("bottleneck_category", BOTTLENECK_CATEGORIES))
    severity = SelectField(_l("Severity"), choices=choices("severity", SEVERITIES), default="medium")
    action_by = StringField(_l("Who must act"), validators=[Length(max=200)])
    target_date = DateField(_l("Target date"), validators=[Optional()])
    milestone_id = SelectField(_l("Milestone"), coerce=optional_int)


class EscalateForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])


class ResolveForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(_l("How was it resolved?"), validators=[Length(max=5000)])


class BottleneckFilterForm(FlaskForm):
    class Meta:
        csrf = False

    department = SelectField(_l("Department"), validate_choice=False)
    severity = SelectField(_l("Severity"), choices=choices("severity", SEVERITIES, blank=_l("Any")),
                           validate_choice=False)
    category = SelectField(_l("Category"), choices=choices("bottleneck_category", BOTTLENECK_CATEGORIES, blank=_l("Any")),
                           validate_choice=False)
    # Open ones (open or escalated) unless asked otherwise: the list people work from.
    status = SelectField(
        _l("Status"),
        choices=opts([("unresolved", _l("Open or escalated")), ("all", _l("Any"))])
        + choices("bottleneck_status", BOTTLENECK_STATUSES),
        default="unresolved", validate_choice=False)
    sla = SelectField(
        _l("Time limit"),
        choices=opts([("", _l("Any")), ("past", _l("Past its time limit")),
                      ("within", _l("Within its time limit"))]),
        validate_choice=False)
    age = SelectField(_l("Age"),
                      choices=choices("age_bucket", AGE_BUCKETS, blank=_l("Any")),
                      validate_choice=False)


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user_id = SelectField(_l("User"), validate_choice=False)
    action = StringField(_l("Action"), validators=[Length(max=60)])
    entity = SelectField(_l("Record type"), validate_choice=False)
    entity_id = IntegerField(_l("Record id"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class DependencyForm(FlaskForm):
    """The milestone this one waits for, by its code (a list of codes to pick from)."""

    predecessor = StringField(
        _l("Waits for the milestone (code)"),
        validators=[DataRequired(_l("Enter the code of the milestone it waits for.")),
                    Length(max=40)],
        render_kw={"list": "milestone-codes", "autocomplete": "off"})


class RemoveForm(FlaskForm):
    """A POST button: only the CSRF token."""
