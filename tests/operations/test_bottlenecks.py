from datetime import timedelta

import pytest

from tests import factories
from tracker import clock
from tracker.operations import bottlenecks as ops
from tracker.operations.errors import ValidationError


def test_raise_escalate_resolve(app):
    today = clock.today()
    dept = factories.department("health")
    m = factories.milestone(department=dept, today=today)
    user = factories.user("nic")
    with pytest.raises(ValidationError) as caught:
        ops.raise_bottleneck(factories.department("pwd"), user, milestone=m, title="",
                             category="x", severity="y", target_date=today - timedelta(days=1),
                             today=today)
    assert set(caught.value.errors) == {"title", "category", "severity", "milestone_id",
                                        "target_date"}
    b = ops.raise_bottleneck(dept, user, milestone=m, title="Funds", category="funds",
                             severity="high", today=today)
    assert (b.status, b.raised_on, b.department_id) == ("open", today, dept.id)
    ops.escalate_bottleneck(b, user)
    with pytest.raises(ValidationError):
        ops.escalate_bottleneck(b, user)
    with pytest.raises(ValidationError):
        ops.resolve_bottleneck(b, user, note=" ", today=today)
    ops.resolve_bottleneck(b, user, note="Released", today=today + timedelta(days=3))
    assert (b.status, b.resolved_on, b.resolution_note) == (
        "resolved", today + timedelta(days=3), "Released")
    with pytest.raises(ValidationError):
        ops.resolve_bottleneck(b, user, note="again", today=today)
