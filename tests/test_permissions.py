"""The permission function against every role, own and other department."""
import pytest

from tests import factories
from tracker.permissions import DEPARTMENT_WRITES, authorize, can

ROLES = ("secretary", "nic", "nodal", "viewer", "admin")


@pytest.fixture
def setup(app):
    own = factories.department("own")
    other = factories.department("other")
    users = {role: factories.user(role, department=own if role == "nodal" else None) for role in ROLES}
    own_milestone = factories.milestone(department=own)
    other_milestone = factories.milestone(department=other)
    return users, own_milestone, other_milestone


EXPECTED_DEPARTMENT_WRITE = {
    # role: (own department, other department)
    "secretary": (True, True),
    "nic": (True, True),
    "nodal": (True, False),
    "viewer": (False, False),
    "admin": (False, False),
}


@pytest.mark.parametrize("action", sorted(DEPARTMENT_WRITES))
@pytest.mark.parametrize("role", ROLES)
def test_department_writes(setup, role, action):
    users, own_m, other_m = setup
    expected_own, expected_other = EXPECTED_DEPARTMENT_WRITE[role]
    assert can(users[role], action, own_m) is expected_own
    assert can(users[role], action, other_m) is expected_other


@pytest.mark.parametrize("role", ROLES)
def test_read(setup, role):
    users, own_m, other_m = setup
    assert can(users[role], "read", own_m)
    assert can(users[role], "read", other_m) is (role != "nodal")


@pytest.mark.parametrize(
    "action, allowed",
    [
        ("review_plan", {"secretary"}),
        ("finalise_minutes", {"secretary"}),
        ("escalate_bottleneck", {"secretary", "nic"}),
        ("import_plan", {"secretary", "nic"}),
        ("manage_meetings", {"secretary", "nic"}),
        ("export", {"secretary", "nic"}),
        ("manage_users", {"admin"}),
        ("manage_departments", {"admin"}),
        ("manage_settings", {"admin"}),
        ("view_audit", {"secretary", "admin"}),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_role_actions(setup, role, action, allowed):
    users, own_m, other_m = setup
    assert can(users[role], action, own_m) is (role in allowed)
    assert can(users[role], action, other_m) is (role in allowed)


def test_nodal_officer_refused_every_change_to_another_department(setup):
    users, own_m, other_m = setup
    nodal = users["nodal"]
    other_records = [
        other_m,
        other_m.department,
        other_m.plan,
        factories.bottleneck(department=other_m.department),
        factories.service(department=other_m.department),
        factories.asset(department=other_m.department),
        factories.action_item(department=other_m.department),
    ]
    for record in other_records:
        for action in DEPARTMENT_WRITES:
            assert not can(nodal, action, record), (action, record)


def test_authorize_answers_404_for_unseen_and_403_for_unallowed(setup, app):
    from werkzeug.exceptions import Forbidden, NotFound

    users, own_m, other_m = setup
    with pytest.raises(NotFound):
        authorize("update_milestone", other_m, user=users["nodal"])
    with pytest.raises(Forbidden):
        authorize("update_milestone", own_m, user=users["viewer"])
    assert authorize("update_milestone", own_m, user=users["nodal"]) is own_m


def test_inactive_user_may_do_nothing(setup):
    users, own_m, _ = setup
    users["secretary"].active = False
    assert not can(users["secretary"], "update_milestone", own_m)


def test_unknown_action_is_a_programming_error(setup):
    users, own_m, _ = setup
    with pytest.raises(ValueError):
        can(users["secretary"], "launch_rockets", own_m)


# --- The record's state ---------------------------------------------------------------------

PLAN_STATES = ("draft", "submitted", "approved", "returned")
PLAN_ACTIONS = {
    # action: (role that may, the plan states in which it can)
    "edit_plan": ("nic", {"draft", "returned"}),
    "submit_plan": ("nic", {"draft", "returned"}),
    "review_plan": ("secretary", {"submitted"}),
    "revise_plan": ("nic", {"approved"}),
}


@pytest.mark.parametrize("action", sorted(PLAN_ACTIONS))
@pytest.mark.parametrize("status", PLAN_STATES)
def test_a_plan_action_only_in_its_states(setup, action, status):
    users, own_m, _ = setup
    role, states = PLAN_ACTIONS[action]
    plan = own_m.plan
    plan.status = status
    assert can(users[role], action, plan) is (status in states)
    # The nodal officer of the department writes the plan as NIC does; nobody else reviews.
    assert can(users["nodal"], action, plan) is (role == "nic" and status in states)
    assert not can(users["viewer"], action, plan)


def test_a_milestone_of_the_plan_is_edited_only_while_the_plan_is(setup):
    users, own_m, _ = setup
    own_m.plan.status = "submitted"
    assert not can(users["nic"], "edit_plan", own_m)
    own_m.plan.status = "returned"
    assert can(users["nic"], "edit_plan", own_m)
    # A plan to start (the department, no plan yet) has no state to ask.
    assert can(users["nodal"], "edit_plan", own_m.department)


BOTTLENECK_ACTIONS = {
    "escalate_bottleneck": {"open"},
    "resolve_bottleneck": {"open", "escalated"},
    "edit_bottleneck": {"open", "escalated"},
    "update_bottleneck": {"open", "escalated", "resolved"},  # evidence, even once resolved
}


@pytest.mark.parametrize("action", sorted(BOTTLENECK_ACTIONS))
@pytest.mark.parametrize("status", ("open", "escalated", "resolved"))
def test_a_bottleneck_action_only_in_its_states(setup, action, status):
    users, own_m, _ = setup
    b = factories.bottleneck(milestone=own_m, status=status)
    assert can(users["nic"], action, b) is (status in BOTTLENECK_ACTIONS[action])
    assert not can(users["viewer"], action, b)


MEETING_ACTIONS = {
    # action: (role that may, states in which it can)
    "edit_meeting": ("nic", {"planned", "held"}),
    "edit_agenda": ("nic", {"planned"}),
    "mark_meeting_held": ("secretary", {"planned"}),
    "record_minutes": ("secretary", {"held"}),
    "finalise_minutes": ("secretary", {"held"}),
    "amend_minutes": ("secretary", {"minutes_final"}),
    "attach_signed_minutes": ("secretary", {"minutes_final"}),
}


@pytest.mark.parametrize("action", sorted(MEETING_ACTIONS))
@pytest.mark.parametrize("status", ("planned", "held", "minutes_final"))
def test_a_meeting_action_only_in_its_states(setup, action, status):
    from datetime import date

    users, _own, _other = setup
    role, states = MEETING_ACTIONS[action]
    meeting = factories.meeting(status=status, meeting_date=date(2026, 3, 2))
    today = date(2026, 3, 2)
    assert can(users[role], action, meeting, today=today) is (status in states)
    assert not can(users["viewer"], action, meeting, today=today)
    assert not can(users["nodal"], action, meeting, today=today)
    if role == "nic":
        assert can(users["secretary"], action, meeting, today=today) is (status in states)
    else:
        assert not can(users["nic"], action, meeting, today=today)


def test_a_meeting_is_marked_held_on_its_day_or_after_not_before(setup):
    from datetime import date, timedelta

    users, _own, _other = setup
    day = date(2026, 3, 2)
    meeting = factories.meeting(status="planned", meeting_date=day)
    secretary = users["secretary"]
    assert not can(secretary, "mark_meeting_held", meeting, today=day - timedelta(days=1))
    assert can(secretary, "mark_meeting_held", meeting, today=day)
    assert can(secretary, "mark_meeting_held", meeting, today=day + timedelta(days=30))


def test_authorize_is_the_role_gate_and_leaves_the_state_to_the_operation(setup, app):
    """A request on a plan approved meanwhile reaches the operation, which says why not."""
    from werkzeug.exceptions import Forbidden

    from tracker.operations import plans as plan_ops
    from tracker.operations.errors import ValidationError

    users, own_m, _ = setup
    plan = own_m.plan
    plan.status = "approved"
    assert not can(users["secretary"], "review_plan", plan)
    assert authorize("review_plan", plan, user=users["secretary"]) is plan
    with pytest.raises(Forbidden):
        authorize("review_plan", plan, user=users["nic"])
    with pytest.raises(ValidationError) as refused:
        plan_ops.approve_plan(plan, users["secretary"])
    assert refused.value.messages == ["Only a submitted plan can be approved."]
