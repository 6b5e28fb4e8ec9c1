"""The meeting pages as a user sees them: agenda editing, amendments, action items."""
from datetime import date, timedelta

import pytest

from models import ActionItem, AgendaItem, MinutesAmendment
from tests import factories
from tracker import clock
from tracker.extensions import db

TODAY = date(2026, 11, 20)


@pytest.fixture
def setup(app, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    dept = factories.department("health", name="Health")
    factories.plan(department=dept, status="submitted")
    factories.bottleneck(department=dept, title="Servers awaited", severity="high",
                         raised_on=TODAY - timedelta(days=20))
    return dict(dept=dept, secretary=factories.user("secretary"),
                nodal=factories.user("nodal", department=dept))


def _items(meeting_id):
    return db.session.execute(db.select(AgendaItem).filter_by(meeting_id=meeting_id)
                              .order_by(AgendaItem.position)).scalars().all()


def test_agenda_is_edited_through_the_page(setup, as_user):
    client = as_user(setup["secretary"])
    client.post("/meetings/new", data={"title": "Review", "meeting_date": TODAY.isoformat()})
    meeting_id = db.session.execute(db.select(AgendaItem.meeting_id)).scalar()
    assert client.post(f"/meetings/{meeting_id}/agenda",
                       data={"title": "Any other business", "details": "", "department_id": "0"}
                       ).status_code == 302
    built, free = _items(meeting_id)
    assert (built.kind, free.kind) == ("department", "free")
    assert built.title == setup["dept"].name
    assert built.snapshot["findings"][0]["title"] == "Servers awaited"
    client.post(f"/meetings/{meeting_id}/agenda/{free.id}/move", data={"direction": "up"})
    assert [i.title for i in _items(meeting_id)][0] == "Any other business"
    r = client.post(f"/meetings/{meeting_id}/agenda/{free.id}/edit",
                    data={"title": "", "details": "x"})
    assert r.status_code == 422 and "There is a problem" in r.get_data(as_text=True)
    client.post(f"/meetings/{meeting_id}/agenda/{free.id}/edit",
                data={"title": "Renamed", "details": "x"})
    client.post(f"/meetings/{meeting_id}/agenda/{built.id}/remove")
    assert [i.title for i in _items(meeting_id)] == ["Renamed"]
    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Renamed" in page and "Mark the meeting held" in page

    client.post(f"/meetings/{meeting_id}/held")
    r = client.post(f"/meetings/{meeting_id}/agenda/{free.id}/remove", follow_redirects=True)
    assert "not possible: the meeting is held" in r.get_data(as_text=True)
    assert len(_items(meeting_id)) == 1
    assert "Save the minutes" in client.get(f"/meetings/{meeting_id}").get_data(as_text=True)

    client.post(f"/meetings/{meeting_id}/minutes", data={f"minutes-{free.id}": "First"})
    client.post(f"/meetings/{meeting_id}/finalise")
    r = client.post(f"/meetings/{meeting_id}/agenda/{free.id}/amend",
                    data={"minutes": "Second", "reason": ""})
    assert r.status_code == 422
    r = client.post(f"/meetings/{meeting_id}/agenda/{free.id}/amend",
                    data={"minutes": "Second", "reason": "Wrong figure"})
    assert r.status_code == 302
    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Second" in page and "Wrong figure" in page and "First" in page
    amendment = db.session.execute(db.select(MinutesAmendment)).scalar_one()
    assert (amendment.previous_text, amendment.new_text) == ("First", "Second")


def test_decision_form_errors_beside_the_fields(setup, as_user):
    meeting = factories.meeting(status="held")
    item = AgendaItem(meeting_id=meeting.id, title="Item", position=0)
    db.session.add(item)
    db.session.commit()
    client = as_user(setup["secretary"])
    r = client.post(f"/meetings/{meeting.id}/agenda/{item.id}/decisions",
                    data={"text": "", "department_id": str(setup["dept"].id), "due_date": ""})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="text-error"' in page and 'id="due_date-error"' in page
    assert db.session.execute(db.select(ActionItem)).first() is None


def test_action_item_update_conflict_and_note_required(setup, as_user):
    item = factories.action_item(department=setup["dept"], due_date=TODAY - timedelta(days=4))
    client = as_user(setup["nodal"])
    page = client.get("/meetings/action-items").get_data(as_text=True)
    assert "Do the thing that was decided" in page and ">4<" in page
    r = client.post(f"/meetings/action-items/{item.id}",
                    data={"status": "done", "closing_note": "", "version": str(item.version)})
    assert r.status_code == 422 and "closing note" in r.get_data(as_text=True)
    r = client.post(f"/meetings/action-items/{item.id}",
                    data={"status": "done", "closing_note": "Done", "version": "99"})
    assert r.status_code == 303
    db.session.refresh(item)
    assert item.status == "open"
    r = client.post(f"/meetings/action-items/{item.id}",
                    data={"status": "done", "closing_note": "Done", "version": str(item.version)})
    assert r.status_code == 302
    db.session.refresh(item)
    assert (item.status, item.closing_note) == ("done", "Done")
    other = factories.action_item(department=factories.department("pwd"))
    assert client.get(f"/meetings/action-items/{other.id}").status_code == 404
    assert "Do the thing" in client.get("/meetings/action-items?status=done").get_data(as_text=True)
