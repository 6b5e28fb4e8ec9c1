"""One schema per resource of /api/v1 (pydantic): the request models validate what a client
sends, the response models describe what it gets back, and ``views.api.openapi`` builds the
published description from both.

A request model refuses what the API refuses (unknown fields, wrong types, nulls where a value
is needed, text too long or holding a hidden character, a value off its list) and every
failure becomes a field of the 422 with the API's own words (``field_errors``): the generic
ones below, or the words the field names itself with ``Says`` (those of the operation behind
it, so a value off its list reads the same whichever layer catches it). Business rules (a
target date in the past, a name already used) stay in the operations.
"""
from datetime import date, datetime
from types import UnionType
from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from models.action_plan import PLAN_STATUSES
from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.digital_asset import ASSET_KINDS, HOSTS
from models.flag import ESCALATION_LEVELS, FLAG_KINDS, FLAG_SEVERITIES
from models.meeting import ACTION_ITEM_STATUSES, AGENDA_KINDS, MEETING_STATUSES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES, REVISION_REASONS
from models.service import DELIVERY_MODES
from tracker import rules
from tracker.text import hidden_character
from views.api.errors import ApiError

# --- Field types and their words ----------------------------------------------------------

REQUIRED = "Required."
NOT_NULL = "Required (cannot be null)."
MESSAGES = {
    "missing": REQUIRED,
    "extra_forbidden": "Unknown field.",
    "string_type": "Must be text.",
    "int_type": "Must be a whole number.",
    "bool_type": "Must be true or false.",
    "date_type": "Must be a date as text, YYYY-MM-DD.",
    "string_too_long": "Use at most {max_length} characters.",
}


class Says:
    """The words a field answers with when one of its constraints fails, by pydantic error
    type (``literal_error``, ``string_too_short``, ``greater_than_equal``, …)."""

    def __init__(self, **messages):
        self.messages = messages


def _refuse(message):
    return PydanticCustomError("api", "{message}", {"message": str(message)})


def _text(null, multiline):
    def check(value):
        if value is None:
            if null is not None:
                raise _refuse(null)
            return value
        if not isinstance(value, str):
            raise _refuse(MESSAGES["string_type"])
        hidden = hidden_character(value, multiline=multiline)
        if hidden:
            raise _refuse(f"Contains a hidden control character ({hidden}); remove it.")
        return value
    return BeforeValidator(check)


def Text(max_length=None, *, min_length=None, multiline=False, null=REQUIRED, says=None):
    """Text on one line (``multiline``: tabs and new lines allowed). ``null``: the words for a
    null where the field is required (a field that may be null is ``Optional[Text(…)]``)."""
    return Annotated[str, Field(strict=True, max_length=max_length, min_length=min_length),
                     _text(null, multiline), says or Says()]


def Choice(values, message, *, null=REQUIRED):
    """One of ``values``; anything else answers ``message``."""
    return Annotated[Literal[tuple(values)], _text(null, False), Says(literal_error=message)]


def Whole(*, ge=None, le=None, message=None, null=NOT_NULL):
    def check(value):
        if value is None and null is not None:
            raise _refuse(null)
        return value
    range_words = Says(greater_than_equal=message, less_than_equal=message) if message else Says()
    return Annotated[StrictInt, Field(ge=ge, le=le), BeforeValidator(check), range_words]


def _day(value):
    if value is None:
        raise _refuse(NOT_NULL)
    if not isinstance(value, str):
        raise _refuse(MESSAGES["date_type"])
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _refuse("Use a date as YYYY-MM-DD.") from None


Day = Annotated[date, BeforeValidator(_day)]


def _flag(value):
    if value is None:
        raise _refuse(NOT_NULL)
    return value


YesNo = Annotated[StrictBool, BeforeValidator(_flag)]

# The version read (the ETag's number), when not sent as If-Match.
Version = Annotated[Optional[StrictInt], Field(description="The version read (or send If-Match).")]


class Body(BaseModel):
    """A request body: every field checked, any other refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def sent(self):
        """The fields the client sent (by name), with their checked values."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


def _says(annotation, metadata=()):
    """The ``Says`` of a field, wherever its type nests it (``Optional[Annotated[…]]``)."""
    found = next((m for m in metadata if isinstance(m, Says)), None)
    if found is None and get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        found = _says(base, extra)
    if found is None and get_origin(annotation) in (Union, UnionType):
        found = next(filter(None, (_says(arg) for arg in get_args(annotation))), None)
    return found


def field_errors(model, error: PydanticError):
    """``{field: words}`` for every field of ``model`` that failed (the first failure each)."""
    fields = {}
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else "record"
        if name in fields:
            continue
        info = model.model_fields.get(name)
        says = _says(info.annotation, info.metadata) if info else None
        kind = item["type"]
        if says and kind in says.messages:
            fields[name] = str(says.messages[kind])
        elif kind in MESSAGES:
            fields[name] = MESSAGES[kind].format(**item.get("ctx", {}))
        else:  # a custom refusal carries its words; anything else keeps pydantic's
            fields[name] = item["msg"]
    return fields


def validate(model, body):
    """``body`` (a JSON object) checked by ``model``, or a 422 naming every field at fault."""
    try:
        return model.model_validate(body)
    except PydanticError as error:
        raise ApiError(422, "Validation failed.", field_errors(model, error)) from None


# --- Request bodies -----------------------------------------------------------------------

Note = Text(5000, multiline=True)


class MilestoneProgress(Body):
    """Progress on a milestone; a field left out (or null) keeps its value."""

    version: Version = None
    status: Optional[Choice(MILESTONE_STATUSES, _l("Choose a status from the list."))] = None
    percent_complete: Optional[Whole(ge=0, le=100,
                                     message=_l("Enter a whole number from 0 to 100."))] = None
    note: Optional[Note] = None
    due_date: Optional[Day] = None
    reason: Optional[Choice(REVISION_REASONS,
                            _l("Give the reason for moving the due date."))] = None
    completed_on: Optional[Day] = None




_CATEGORY_WORDS = _l("Choose a category from the list.")
_SEVERITY_WORDS = _l("Choose a severity from the list.")


class BottleneckNew(Body):
    """A bottleneck raised on a department (by its code), or on one of its milestones."""

    department: Text()
    milestone_id: Optional[StrictInt] = None
    title: Text(300, min_length=1, says=Says(string_too_short=_l("Say what is holding the work up.")))
    description: Optional[Text(10000, multiline=True)] = None
    category: Choice(BOTTLENECK_CATEGORIES, _CATEGORY_WORDS)
    severity: Choice(SEVERITIES, _SEVERITY_WORDS)
    action_by: Optional[Text(200)] = None
    target_date: Optional[Day] = None


_TITLE_WORDS = _l("Say what is holding the work up, in at most 300 characters.")


class BottleneckEdit(Body):
    """The changed details of an open bottleneck; a field left out keeps its value, a null
    target date clears it."""

    version: Version = None
    title: Text(300, min_length=1, null=_TITLE_WORDS,
                says=Says(string_too_short=_TITLE_WORDS)) = None
    description: Text(10000, multiline=True, null=NOT_NULL) = None
    category: Choice(BOTTLENECK_CATEGORIES, _CATEGORY_WORDS, null=_CATEGORY_WORDS) = None
    severity: Choice(SEVERITIES, _SEVERITY_WORDS, null=_SEVERITY_WORDS) = None
    action_by: Text(200, null=NOT_NULL) = None
    target_date: Optional[Day] = None


class BottleneckNote(Body):
    """An escalation or resolution: a note (a resolution needs one) and the version read."""

    version: Version = None
    note: Optional[Note] = None


class ServiceEdit(Body):
    """The changed fields of a service; a field left out keeps its value."""

    version: Version = None
    name: Text(300, min_length=1, null=NOT_NULL, says=Says(
        string_too_short=_l("Enter the name of the service."),
        string_too_long=_l("The name is longer than %(max)d characters.", max=300))) = None
    psga_notified: YesNo = None
    time_limit_days: Optional[Whole(ge=1, le=365, message=_l(
        "Enter a whole number of days from 1 to %(max)d.", max=365))] = None
    designated_officer: Text(200, null=NOT_NULL, says=Says(string_too_long=_l(
        "The designated officer is longer than %(max)d characters.", max=200))) = None
    delivery_mode: Choice(DELIVERY_MODES, _l("Choose offline, online (standalone) or integrated."),
                          null=NOT_NULL) = None
    url: Optional[Text(500, says=Says(string_too_long=_l(
        "Enter a web address starting with http:// or https://.")))] = None
    target_date: Optional[Day] = None


class WebsiteEdit(Body):
    """The changed fields of a website or app; a field left out keeps its value."""

    version: Version = None
    name: Text(200, min_length=1, null=NOT_NULL, says=Says(
        string_too_short=_l("Enter the name of the website or app."),
        string_too_long=_l("The name is longer than %(max)d characters.", max=200))) = None
    kind: Choice(ASSET_KINDS, _l("Choose website, web app or mobile app."), null=NOT_NULL) = None
    url: Text(500, min_length=1, null=NOT_NULL, says=Says(
        string_too_short=_l("Enter the web address."),
        string_too_long=_l("Enter a web address starting with http:// or https://."))) = None
    hosted_by: Choice(HOSTS, _l("Choose NIC, the department or a vendor."), null=NOT_NULL) = None
    last_content_update: Optional[Day] = None
    audit_valid_until: Optional[Day] = None
    accessibility_audit_on: Optional[Day] = None
    https: YesNo = None
    portal_integrated: YesNo = None


class ActionItemEdit(Body):
    """Action taken on an action item: its status (a closing note to close it)."""

    version: Version = None
    status: Optional[Choice(ACTION_ITEM_STATUSES,
                            f"Use one of: {', '.join(ACTION_ITEM_STATUSES)}.")] = None
    closing_note: Optional[Note] = None


# --- Responses ----------------------------------------------------------------------------


class DependencyNew(Body):
    """The milestone to wait for: its code, or ``DEPARTMENT:CODE`` when codes clash."""

    predecessor: Text(62, min_length=1)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def Enum(values):
    return Literal[tuple(values)]


class ErrorDetail(Out):
    code: str
    message: str
    fields: dict[str, str]


class Error(Out):
    error: ErrorDetail


class Conflict(Out):
    """A 409: the error, and the record as it is now."""

    error: ErrorDetail
    current: dict[str, Any]


class Department(Out):
    id: int
    code: str
    name: str
    psga_covered: bool
    active: bool


class Plan(Out):
    id: int
    department: str
    title: str
    status: Enum(PLAN_STATUSES)
    version: int
    submitted_at: Optional[datetime]
    reviewed_at: Optional[datetime]
    review_comment: Optional[str]


class PlanVersion(Out):
    number: int
    submitted_at: Optional[datetime]
    outcome: Optional[Enum(("approved", "returned"))]
    reviewed_at: Optional[datetime]
    review_comment: Optional[str]


class PlanDetail(Plan):
    versions: list[PlanVersion]


class Milestone(Out):
    id: int
    code: str
    department: str
    plan_id: int
    title: str
    description: str
    category: Enum(MILESTONE_CATEGORIES)
    owner: str
    start_date: Optional[date]
    baseline_due: Optional[date]
    due_date: date
    completed_on: Optional[date]
    status: Enum(MILESTONE_STATUSES)
    percent_complete: Annotated[int, Field(ge=0, le=100)]
    health: Enum(rules.HEALTHS)
    days_slipped: Annotated[int, Field(ge=0)]
    service_id: Optional[int]
    updated_at: Optional[datetime]
    version: int


class MilestoneUpdate(Out):
    id: int
    at: Optional[datetime]
    by: Optional[str]
    status_from: Optional[str]
    status_to: Optional[str]
    percent_from: Optional[int]
    percent_to: Optional[int]
    due_from: Optional[date]
    due_to: Optional[date]
    reason: Optional[Enum(REVISION_REASONS)]
    note: str


class Bottleneck(Out):
    id: int
    department: str
    milestone_id: Optional[int]
    title: str
    description: str
    category: Enum(BOTTLENECK_CATEGORIES)
    severity: Enum(SEVERITIES)
    status: Enum(BOTTLENECK_STATUSES)
    raised_on: date
    action_by: str
    target_date: Optional[date]
    escalated_at: Optional[datetime]
    resolution_note: Optional[str]
    resolved_on: Optional[date]
    age_days: int
    age_bucket: Enum(rules.AGE_BUCKETS)
    past_sla: bool
    version: int


class Flag(Out):
    id: int
    kind: Enum(FLAG_KINDS)
    subject_type: str
    subject_id: int
    department: Optional[str]
    severity: Enum(FLAG_SEVERITIES)
    escalation: Enum(ESCALATION_LEVELS)
    raised_at: Optional[datetime]
    details: dict[str, Any]


class Service(Out):
    id: int
    department: str
    name: str
    psga_notified: bool
    time_limit_days: Optional[int]
    designated_officer: str
    delivery_mode: Enum(DELIVERY_MODES)
    url: Optional[str]
    target_date: Optional[date]
    version: int


class Website(Out):
    id: int
    department: str
    name: str
    kind: Enum(ASSET_KINDS)
    url: str
    hosted_by: Enum(HOSTS)
    last_content_update: Optional[date]
    audit_valid_until: Optional[date]
    accessibility_audit_on: Optional[date]
    https: bool
    portal_integrated: bool
    last_check_at: Optional[datetime]
    last_check_ok: Optional[bool]
    version: int


class Meeting(Out):
    id: int
    title: str
    date: date
    venue: str
    chair: str
    status: Enum(MEETING_STATUSES)


class DependencyMilestone(Out):
    """A milestone on either side of a dependency (finish-to-start)."""

    id: int
    code: str
    title: str
    department: str
    status: Enum(MILESTONE_STATUSES)
    due_date: date


class Dependencies(Out):
    """What the milestone waits for (predecessors) and what waits for it (successors)."""

    milestone_id: int
    predecessors: list[DependencyMilestone]
    successors: list[DependencyMilestone]
    left_off: Annotated[int, Field(ge=0)]


class ActionItem(Out):
    id: int
    meeting_id: int
    text: str
    department: str
    responsible_officer: str
    due_date: date
    status: Enum(ACTION_ITEM_STATUSES)
    closing_note: Optional[str]
    version: int


class AgendaItem(Out):
    position: int
    kind: Enum(AGENDA_KINDS)
    title: str
    minutes: str


class MeetingDetail(Meeting):
    agenda: list[AgendaItem]
    action_items: list[ActionItem]
