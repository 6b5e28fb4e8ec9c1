"""The in-app inbox: list, unread count in the header, mark read."""
from models import AuditLog, Notification
from tests import factories
from tracker.extensions import db


def test_inbox_lists_notifications_and_the_header_counts_unread(app, as_user):
    user = factories.user("nodal")
    factories.notification(user, subject="Milestone overdue: H-01 Birth certificates",
                           link="/flags/1")
    factories.notification(user, subject="Website down: Health portal")
    factories.notification(factories.user("nic"), subject="Someone else's item")
    client = as_user(user)
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Milestone overdue: H-01 Birth certificates" in html
    assert 'href="/flags/1"' in html
    assert "Someone else" not in html
    assert "(2 unread)" in client.get("/").get_data(as_text=True)


def test_mark_one_read(app, as_user):
    user = factories.user("nodal")
    notice = factories.notification(user, subject="Website down: Health portal")
    other = factories.notification(user, subject="Another")
    client = as_user(user)
    response = client.post(f"/notifications/{notice.id}/read", data={"next": "/notifications/"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, notice.id).read_at is not None
    assert db.session.get(Notification, other.id).read_at is None
    assert "(1 unread)" in client.get("/notifications/").get_data(as_text=True)
    assert db.session.execute(
        db.select(AuditLog).filter_by(action="read", entity="notification")).scalar()
    html = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert "Another" in html and "Website down" not in html


def test_mark_all_read(app, as_user):
    user = factories.user("secretary")
    for i in range(3):
        factories.notification(user, subject=f"Item {i}")
    client = as_user(user)
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "3 notifications marked read." in response.get_data(as_text=True)
    assert "(0 unread)" in response.get_data(as_text=True)


def test_another_users_notification_is_404(app, as_user):
    notice = factories.notification(factories.user("nic"))
    client = as_user(factories.user("nodal"))
    assert client.post(f"/notifications/{notice.id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, notice.id).read_at is None


def test_inbox_query_count_does_not_grow(app, as_user, count_queries):
    user = factories.user("nodal")
    factories.notification(user)
    client = as_user(user)

    def page_queries():
        with count_queries() as statements:
            assert client.get("/notifications/").status_code == 200
        return len(statements)

    page_queries()
    few = page_queries()
    for i in range(25):
        factories.notification(user, subject=f"Item {i}", commit=False)
    db.session.commit()
    page_queries()
    assert page_queries() == few


def test_the_inbox_sorts_by_its_columns_and_keeps_the_filter(app, as_user):
    from datetime import datetime, timedelta

    from models import Notification
    from tests import factories
    from tracker.extensions import db

    user = factories.user("secretary")
    at = datetime(2026, 12, 1, 9, 0)
    for n, subject in enumerate(("Bravo item", "Alpha item", "Charlie item")):
        db.session.add(Notification(user_id=user.id, event="flag_raised", subject=subject,
                                    created_at=at + timedelta(hours=n)))
    db.session.commit()
    client = as_user(user)

    def order(path):
        page = client.get(path).get_data(as_text=True)
        return [s for s in ("Alpha item", "Bravo item", "Charlie item")
                if s in page] and sorted(("Alpha item", "Bravo item", "Charlie item"),
                                         key=page.index)

    assert order("/notifications/") == ["Charlie item", "Alpha item", "Bravo item"]  # newest
    assert order("/notifications/?sort=subject") == ["Alpha item", "Bravo item", "Charlie item"]
    assert order("/notifications/?sort=-subject&show=unread") == ["Charlie item", "Bravo item",
                                                                   "Alpha item"]
    page = client.get("/notifications/?sort=subject&show=unread").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and "show=unread" in page
    assert order("/notifications/?sort=nonsense") == ["Charlie item", "Alpha item", "Bravo item"]
