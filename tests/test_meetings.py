"""Review meetings end to end: the agenda built from the rules, frozen when held, minutes,
decisions, finalising, amendments, and the ATR at the next meeting."""
from datetime import date, timedelta

import pytest

from models import ActionItem, AgendaItem, AuditLog, MinutesAmendment, ReviewMeeting
from tests import factories, xlsx
from tracker import clock
from tracker.extensions import db
from tracker.operations import meetings as ops
from tracker.operations.errors import ValidationError
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
T = Thresholds()


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def world(app, today):
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    health_plan = factories.plan(department=health, status="approved")
    factories.plan(department=pwd, status="submitted")
    late = factories.milestone(plan=health_plan, today=TODAY, code="HLT-1",
                               title="Integrate birth certificates",
                               start_date=TODAY - timedelta(days=90),
                               due_date=TODAY - timedelta(days=20))
    stuck = factories.bottleneck(department=pwd, title="Vendor has not delivered servers",
                                 severity="critical", raised_on=TODAY - timedelta(days=10))
    young = factories.bottleneck(department=pwd, title="Young bottleneck", severity="low",
                                 raised_on=TODAY - timedelta(days=2))
    escalated = factories.flag(kind="milestone_overdue", subject_type="milestone",
                               subject_id=late.id, department_id=health.id,
                               severity="critical", escalation="secretary",
                               details={"title": "HLT-1 Integrate birth certificates"})
    nic_only = factories.flag(kind="milestone_at_risk", subject_type="milestone",
                              subject_id=999, department_id=pwd.id, escalation="nic",
                              details={"title": "Only NIC knows"})
    secretary = factories.user("secretary", name="Secretary IT")
    nic = factories.user("nic")
    nodal = factories.user("nodal", department=health)
    viewer = factories.user("viewer")
    return dict(health=health, pwd=pwd, late=late, stuck=stuck, young=young,
                escalated=escalated, nic_only=nic_only, secretary=secretary, nic=nic,
                nodal=nodal, viewer=viewer)


def _plan_meeting(client, title="First review", day=TODAY, attendees=()):
    data = {"title": title, "meeting_date": day.isoformat(), "venue": "Civil Secretariat, Leh",
            "chair": "Secretary IT"}
    for i, (name, designation, dept_id) in enumerate(attendees):
        data[f"attendees-{i}-name"] = name
        data[f"attendees-{i}-designation"] = designation
        data[f"attendees-{i}-department_id"] = str(dept_id)
    response = client.post("/meetings/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.execute(db.select(ReviewMeeting).filter_by(title=title)).scalar_one()


def test_scenario_agenda_minutes_decisions_export_and_atr(world, as_user, client):
    w = world
    client = as_user(w["secretary"])

    # Flags and bottlenecks in the data -> the agenda holds them.
    meeting = _plan_meeting(client, attendees=[("Dr Padma", "Nodal Officer", w["health"].id),
                                               ("Mr Stanzin", "Executive Engineer", w["pwd"].id)])
    titles = [i.title for i in meeting.agenda_items]
    assert any("Vendor has not delivered servers" in t for t in titles)
    assert any("HLT-1 Integrate birth certificates" in t for t in titles)
    assert not any("Young bottleneck" in t for t in titles)  # within its SLA
    assert not any("Only NIC knows" in t for t in titles)  # not escalated to the Secretary
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Bottleneck past SLA: Vendor has not delivered servers" in page
    assert "Dr Padma" in page

    # Held: the agenda is frozen; resolving the bottleneck later does not rewrite it.
    assert client.post(f"/meetings/{meeting.id}/held").status_code == 302
    bottleneck_item = next(i for i in meeting.agenda_items if i.kind == "bottleneck")
    assert bottleneck_item.snapshot["status"] == "open"
    assert bottleneck_item.snapshot["age_days"] == 10
    w["stuck"].status = "resolved"
    w["stuck"].resolved_on = TODAY
    from models.base import utcnow

    w["stuck"].resolved_at = utcnow()
    db.session.commit()
    db.session.refresh(bottleneck_item)
    assert bottleneck_item.snapshot["status"] == "open"

    # Minutes and two decisions.
    flag_item = next(i for i in meeting.agenda_items if i.kind == "flag")
    r = client.post(f"/meetings/{meeting.id}/agenda/{flag_item.id}/minutes",
                    data={"minutes": "The delay was explained by the vendor."})
    assert r.status_code == 302
    due_a, due_b = TODAY + timedelta(days=14), TODAY + timedelta(days=21)
    for item, text, dept, due in (
        (flag_item, "Complete the certificate integration", w["health"], due_a),
        (bottleneck_item, "Escalate the server delivery to the vendor's head office", w["pwd"], due_b),
    ):
        r = client.post(f"/meetings/{meeting.id}/agenda/{item.id}/decisions",
                        data={"text": text, "department_id": str(dept.id),
                              "responsible_officer": "Nodal officer", "due_date": due.isoformat()})
        assert r.status_code == 302, r.get_data(as_text=True)
    assert client.post(f"/meetings/{meeting.id}/finalise").status_code == 302
    db.session.refresh(meeting)
    assert meeting.status == "minutes_final"

    # The minutes exported and read back.
    response = client.get(f"/meetings/{meeting.id}/minutes.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert f"minutes-{TODAY:%Y-%m-%d}" in response.headers["Content-Disposition"]
    wb = xlsx.read(response.data)
    assert wb.sheetnames == ["Minutes", "Decisions", "ATR", "Overdue milestones",
                             "Open bottlenecks"]
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None
        assert ws.page_setup.orientation in ("portrait", "landscape")  # per sheet
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.oddFooter.center.text == "Page &P of &N"
        header_row = int(ws.freeze_panes[1:]) - 1
        assert ws.print_title_rows == f"${header_row}:${header_row}"
        assert ws.auto_filter.ref.startswith(f"A{header_row}:")
    header, decisions = xlsx.table(wb["Decisions"])
    assert [(d["Decision"], d["Department"]) for d in decisions] == [
        ("Complete the certificate integration", "Health"),
        ("Escalate the server delivery to the vendor's head office", "Public Works"),
    ]
    assert [d["Due date"].date() for d in decisions] == [due_a, due_b]
    due_cell = wb["Decisions"].cell(row=int(wb["Decisions"].freeze_panes[1:]), column=6)
    assert due_cell.is_date and due_cell.number_format == "DD-MM-YYYY"
    minutes_ws = wb["Minutes"]
    assert minutes_ws["A1"].value == "Minutes: First review"
    flat = [v for row in xlsx.rows(minutes_ws) for v in row if v is not None]
    assert "The delay was explained by the vendor." in flat
    assert any(isinstance(v, str) and "Dr Padma" in v for v in flat)
    _, overdue = xlsx.table(wb["Overdue milestones"])
    assert [(o["Milestone code"], o["Days overdue"], o["Health"]) for o in overdue] == [
        ("HLT-1", 20, "Overdue")]
    _, open_b = xlsx.table(wb["Open bottlenecks"])
    assert [b["Bottleneck"] for b in open_b] == ["Young bottleneck"]

    # The department reports action taken on its own item.
    client.post("/sign-out")
    nodal_client = as_user(w["nodal"])
    own = db.session.execute(db.select(ActionItem).filter_by(department_id=w["health"].id)).scalar_one()
    other = db.session.execute(db.select(ActionItem).filter_by(department_id=w["pwd"].id)).scalar_one()
    r = nodal_client.post(f"/meetings/action-items/{own.id}",
                          data={"status": "done", "closing_note": "Integrated on the portal.",
                                "version": str(own.version)})
    assert r.status_code == 302
    assert nodal_client.post(f"/meetings/action-items/{other.id}",
                             data={"status": "done", "closing_note": "x"}).status_code == 404
    nodal_client.post("/sign-out")

    # At the next meeting the ATR shows both decisions with their statuses.
    client = as_user(w["secretary"])
    second = _plan_meeting(client, title="Second review", day=TODAY + timedelta(days=30))
    atr_items = [i for i in second.agenda_items if i.kind == "atr"]
    assert [i.subject_id for i in atr_items] == [other.id]  # only the open one is an agenda item
    rows = ops.atr_rows(TODAY + timedelta(days=30), meeting=second)
    assert {(r.item.text, r.status_then, r.status_now, r.days_overdue) for r in rows} == {
        ("Complete the certificate integration", "open", "done", 0),
        ("Escalate the server delivery to the vendor's head office", "open", "open", 9),
    }
    page = client.get(f"/meetings/{second.id}").get_data(as_text=True)
    assert "Complete the certificate integration" in page and "Integrated on the portal." in page
    wb = xlsx.read(client.get(f"/meetings/{second.id}/minutes.xlsx").data)
    _, atr = xlsx.table(wb["ATR"])
    assert {(a["Decision"], a["Department"], a["Status now"]) for a in atr} == {
        ("Complete the certificate integration", "Health", "Done"),
        ("Escalate the server delivery to the vendor's head office", "Public Works", "Open"),
    }


def test_agenda_can_be_edited_until_held(world):
    w = world
    meeting = ops.plan_meeting(title="R", meeting_date=TODAY, venue="", chair="", attendees=[],
                               user=w["secretary"], today=TODAY, t=T)
    first, second = meeting.agenda_items[:2]
    free = ops.add_item(meeting, title="Any other business", details="", department_id=None,
                        user=w["secretary"])
    assert meeting.agenda_items[-1] is free and free.kind == "free"
    ops.move_item(free, -1, w["secretary"])
    order = sorted(meeting.agenda_items, key=lambda i: i.position)
    assert order[-2] is free
    ops.remove_item(first, w["secretary"])
    assert [i.position for i in sorted(meeting.agenda_items, key=lambda i: i.position)] == [0, 1]
    ops.edit_item(second, title="Renamed", details="d", user=w["secretary"])
    # Building again adds nothing already there, but brings back what was removed.
    assert ops.build_agenda(meeting, TODAY, T) == 1
    ops.mark_held(meeting, w["secretary"], TODAY, T)
    with pytest.raises(ValidationError):
        ops.add_item(meeting, title="Late", details="", department_id=None, user=w["secretary"])
    with pytest.raises(ValidationError):
        ops.remove_item(second, w["secretary"])
    with pytest.raises(ValidationError):
        ops.build_agenda(meeting, TODAY, T)


def test_final_minutes_are_amended_with_the_original_kept(world):
    w = world
    meeting = ops.plan_meeting(title="R", meeting_date=TODAY, venue="", chair="", attendees=[],
                               user=w["secretary"], today=TODAY, t=T)
    item = meeting.agenda_items[0]
    ops.mark_held(meeting, w["secretary"], TODAY, T)
    ops.record_minutes(item, "Original text", w["secretary"])
    ops.finalise_minutes(meeting, w["secretary"])
    with pytest.raises(ValidationError):
        ops.record_minutes(item, "Silently changed", w["secretary"])
    ops.amend_minutes(item, text="Corrected text", reason="Typo in the date", user=w["secretary"])
    db.session.commit()
    amendment = db.session.execute(db.select(MinutesAmendment)).scalar_one()
    assert (amendment.previous_text, amendment.new_text, amendment.user_id) == (
        "Original text", "Corrected text", w["secretary"].id)
    assert item.minutes == "Corrected text"
    assert db.session.execute(
        db.select(AuditLog).filter_by(action="amend_minutes", entity_id=item.id)).scalar_one()


def test_closing_an_action_item_needs_a_note(world):
    item = factories.action_item(department=world["health"], due_date=TODAY - timedelta(days=3))
    with pytest.raises(ValidationError):
        ops.update_action_item(item, status="done", closing_note=" ", user=world["nodal"])
    assert ops.atr_rows(TODAY)[0].days_overdue == 3


def test_roles_on_meeting_pages(world, as_user, client):
    w = world
    meeting = factories.meeting(title="Planned", meeting_date=TODAY)
    nic = as_user(w["nic"])
    assert nic.get("/meetings/new").status_code == 200
    assert nic.post(f"/meetings/{meeting.id}/held").status_code == 403
    assert nic.post(f"/meetings/{meeting.id}/finalise").status_code == 403
    nic.post("/sign-out")
    viewer = as_user(w["viewer"])
    assert viewer.get(f"/meetings/{meeting.id}").status_code == 200
    assert viewer.get("/meetings/new").status_code == 403
    assert viewer.post(f"/meetings/{meeting.id}/agenda", data={"title": "x"}).status_code == 403
    assert viewer.get(f"/meetings/{meeting.id}/minutes.xlsx").status_code == 403
    assert db.session.execute(db.select(AgendaItem)).first() is None


def test_plan_form_errors_are_shown_beside_the_fields(world, as_user):
    client = as_user(world["secretary"])
    response = client.post("/meetings/new", data={"title": "", "meeting_date": "soon"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and 'id="title-error"' in page


def test_meeting_list_runs_a_fixed_number_of_queries(world, as_user, count_queries):
    client = as_user(world["secretary"])
    for n in range(3):
        factories.meeting(title=f"M{n}")
    with count_queries() as few:
        client.get("/meetings/")
    for n in range(10):
        factories.meeting(title=f"N{n}")
    with count_queries() as many:
        assert client.get("/meetings/").status_code == 200
    assert len(many) == len(few)
