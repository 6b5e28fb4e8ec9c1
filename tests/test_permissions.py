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
