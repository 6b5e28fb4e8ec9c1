import pytest

from tests import factories
from tracker import audit, clock
from tracker.extensions import db


@pytest.fixture
def entries(app):
    a = factories.user("nic", name="Anil NIC")
    b = factories.user("nodal", name="Bina Nodal")
    audit.record("update", "milestone", 7, {"status": ["not_started", "in_progress"]}, user=a)
    audit.record("raise", "bottleneck", 3, {"title": [None, "Funds"]}, user=b)
    db.session.commit()
    return a, b


@pytest.mark.parametrize("role, status", [("secretary", 200), ("admin", 200), ("nic", 403),
                                          ("viewer", 403)])
def test_who_may_browse(entries, as_user, role, status):
    assert as_user(factories.user(role)).get("/audit").status_code == status


def test_nodal_officer_may_not_browse(entries, as_user):
    client = as_user(factories.user("nodal"))
    assert client.get("/audit").status_code == 403


def test_filters(entries, as_user):
    a, b = entries
    client = as_user(factories.user("secretary"))
    html = client.get("/audit").get_data(as_text=True)
    assert "Anil NIC" in html and "Bina Nodal" in html and "Not started → In progress" in html
    html = client.get(f"/audit?user_id={b.id}").get_data(as_text=True)
    assert "Funds" in html and "In progress" not in html
    html = client.get("/audit?entity=milestone&entity_id=7").get_data(as_text=True)
    assert "In progress" in html and "Funds" not in html
    html = client.get("/audit?action=raise").get_data(as_text=True)
    assert "Funds" in html and "In progress" not in html
    today = clock.today().isoformat()
    html = client.get(f"/audit?date_from={today}&date_to={today}").get_data(as_text=True)
    assert "Funds" in html


def test_the_log_cannot_be_changed_from_the_app(app, entries, as_user):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    client = as_user(factories.user("secretary"))
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/audit").status_code == 405
