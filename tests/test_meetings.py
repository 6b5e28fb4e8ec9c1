"""Review meetings end to end: the agenda built from the rules, frozen when held, minutes,
decisions, finalising, amendments, and the ATR at the next meeting."""
import re
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


def _minutes_rows(wb):
    return [" ".join(str(v) for v in row if v is not None) for row in xlsx.rows(wb["Minutes"])]


def test_scenario_agenda_minutes_decisions_export_and_atr(world, as_user, client):
    w = world
    client = as_user(w["secretary"])

    # Planning: the departments are offered ranked, with their findings in words, ticked.
    page = client.get("/meetings/new").get_data(as_text=True)
    assert page.index(">Health<") < page.index(">Public Works<")  # 20 days late before 7
    assert "HLT-1 · Integrate birth certificates" in page
    assert "Overdue by 20 days — due 31-10-2026, 50 % done, in progress" in page
    assert page.count('name="department"') == 2 and page.count("checked") == 2

    # One item per department; the young bottleneck (within its SLA) is no finding.
    meeting = _plan_meeting(client, attendees=[("Dr Padma", "Nodal Officer", w["health"].id),
                                               ("Mr Stanzin", "Executive Engineer", w["pwd"].id)])
    assert [(i.kind, i.department_id) for i in meeting.agenda_items] == [
        ("department", w["health"].id), ("department", w["pwd"].id)]
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Vendor has not delivered servers" in page and "Young bottleneck" not in page
    assert "Open 10 days, 7 past its time limit of 3 days — severity critical" in page
    assert "Not on this agenda: 0 departments, 0 findings." in page
    assert "Dr Padma" in page
    assert "ranked by the number of critical findings" in page

    # Held, after the confirmation page: the points are frozen as discussed.
    confirm = client.get(f"/meetings/{meeting.id}/held").get_data(as_text=True)
    assert "cannot be undone" in confirm and "Yes, mark the meeting held" in confirm
    assert client.post(f"/meetings/{meeting.id}/held").status_code == 302
    health_item, pwd_item = meeting.agenda_items
    assert pwd_item.snapshot["findings"][0]["age"] == 10
    from models.base import utcnow

    w["stuck"].status, w["stuck"].resolved_on, w["stuck"].resolved_at = "resolved", TODAY, utcnow()
    db.session.commit()
    db.session.refresh(pwd_item)
    assert pwd_item.snapshot["findings"][0]["title"] == "Vendor has not delivered servers"

    # One save: the minutes of both items and a decision beside each.
    due_a, due_b = TODAY + timedelta(days=14), TODAY + timedelta(days=21)
    r = client.post(f"/meetings/{meeting.id}/minutes", data={
        "version": str(meeting.version), "at": str(pwd_item.id),
        f"minutes-{health_item.id}": "The delay was explained by the department.",
        f"minutes-{pwd_item.id}": "The vendor was asked to deliver.",
        f"decision-{health_item.id}-text": "Complete the certificate integration",
        f"decision-{health_item.id}-officer": "Dr Padma",
        f"decision-{health_item.id}-due": due_a.isoformat(),
        f"decision-{health_item.id}-department": str(w["health"].id),
        f"decision-{pwd_item.id}-text": "Escalate the server delivery to the vendor's head office",
        f"decision-{pwd_item.id}-officer": "Mr Stanzin",
        f"decision-{pwd_item.id}-due": due_b.isoformat(),
        f"decision-{pwd_item.id}-department": str(w["pwd"].id),
    })
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#item-{pwd_item.id}")
    db.session.refresh(health_item)
    assert health_item.minutes == "The delay was explained by the department."
    confirm = client.get(f"/meetings/{meeting.id}/finalise").get_data(as_text=True)
    assert "2 items with minutes" in confirm and "2 decisions" in confirm
    assert client.post(f"/meetings/{meeting.id}/finalise").status_code == 302
    db.session.refresh(meeting)
    assert meeting.status == "minutes_final"

    # The minutes exported and read back: a portrait A4 sheet of minutes first.
    response = client.get(f"/meetings/{meeting.id}/minutes.xlsx")
    assert response.status_code == 200
    assert f"minutes-{TODAY:%Y-%m-%d}" in response.headers["Content-Disposition"]
    wb = xlsx.read(response.data)
    assert wb.sheetnames == ["Minutes", "Decisions", "ATR"]
    ws = wb["Minutes"]
    assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert ws.oddFooter.center.text == "Page &P of &N"
    assert ws["A1"].value == "Minutes of the meeting: First review"
    lines = _minutes_rows(wb)
    assert "1. Health" in lines and "2. Public Works" in lines
    assert any("Dr Padma, Nodal Officer (Health)" in line for line in lines)
    assert any(line.startswith("(a) HLT-1 · Integrate birth certificates: Overdue by 20 days")
               for line in lines)
    assert "The delay was explained by the department." in lines
    assert "1.1 Complete the certificate integration Dr Padma (Health) " + \
        due_a.strftime("%d-%m-%Y") in lines
    for row, cell in ((r, ws.cell(row=r, column=2)) for r in range(1, ws.max_row + 1)):
        if cell.font and cell.value:
            assert cell.font.sz >= 9
        if isinstance(cell.value, str) and len(cell.value) > 100:  # wraps: the row is taller
            assert ws.row_dimensions[row].height > 20
    header, decisions = xlsx.table(wb["Decisions"])
    assert [(d["Decision"], d["Department"], d["Responsible officer"]) for d in decisions] == [
        ("Complete the certificate integration", "Health", "Dr Padma"),
        ("Escalate the server delivery to the vendor's head office", "Public Works", "Mr Stanzin"),
    ]
    assert [d["Due date"].date() for d in decisions] == [due_a, due_b]

    # The department reports action taken on its own item.
    client.post("/sign-out")
    nodal_client = as_user(w["nodal"])
    own = db.session.execute(db.select(ActionItem).filter_by(department_id=w["health"].id)).scalar_one()
    other = db.session.execute(db.select(ActionItem).filter_by(department_id=w["pwd"].id)).scalar_one()
    r = nodal_client.post(f"/meetings/action-items/{own.id}",
                          data={"status": "done", "closing_note": "Integrated on the portal.",
                                "version": str(own.version)})
    assert r.status_code == 302
    nodal_client.post("/sign-out")

    # At the next meeting the open decision is a point of its department (the ATR).
    client = as_user(w["secretary"])
    second = _plan_meeting(client, title="Second review", day=TODAY + timedelta(days=30))
    pwd_next = next(i for i in second.agenda_items if i.department_id == w["pwd"].id)
    atr = [f for f in pwd_next.snapshot["findings"] if f["kind"] == "atr"]
    assert [f["text"] for f in atr] == ["Escalate the server delivery to the vendor's head office"]
    page = client.get(f"/meetings/{second.id}").get_data(as_text=True)
    assert "Decided at “First review” on 20-11-2026 — due 11-12-2026; responsible: Mr Stanzin" in page
    rows = ops.atr_rows(TODAY + timedelta(days=30), meeting=second)
    assert {(r.item.text, r.status_then, r.status_now, r.days_overdue) for r in rows} == {
        ("Complete the certificate integration", "open", "done", 0),
        ("Escalate the server delivery to the vendor's head office", "open", "open", 9),
    }


def test_the_secretary_chooses_the_departments_and_what_is_left_off_is_counted(world, as_user,
                                                                               app):
    w = world
    app.config["AGENDA_MAX_DEPARTMENTS"] = 1
    client = as_user(w["secretary"])
    page = client.get("/meetings/new").get_data(as_text=True)
    assert page.count("checked") == 1 and f'value="{w["health"].id}" id="dept-{w["health"].id}" checked' in page
    # Unticking everything but Public Works.
    data = {"title": "Chosen", "meeting_date": TODAY.isoformat(), "choosing": "1",
            "department": str(w["pwd"].id)}
    assert client.post("/meetings/new", data=data).status_code == 302
    meeting = db.session.execute(db.select(ReviewMeeting).filter_by(title="Chosen")).scalar_one()
    assert [i.department_id for i in meeting.agenda_items] == [w["pwd"].id]
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Not on this agenda: 1 departments, 1 findings." in page
    left = client.get(f"/meetings/{meeting.id}/left-off").get_data(as_text=True)
    assert "Health" in left and "HLT-1 · Integrate birth certificates" in left
    # ... and put on it after all.
    assert client.post(f"/meetings/{meeting.id}/left-off",
                       data={"department": str(w["health"].id)}).status_code == 302
    db.session.refresh(meeting)
    assert {i.department_id for i in meeting.agenda_items} == {w["pwd"].id, w["health"].id}
    assert meeting.left_off["departments"] == 0


def test_a_meeting_cannot_be_marked_held_before_its_date(world, as_user):
    w = world
    client = as_user(w["secretary"])
    meeting = _plan_meeting(client, title="Next week", day=TODAY + timedelta(days=7))
    confirm = client.get(f"/meetings/{meeting.id}/held").get_data(as_text=True)
    assert "dated 27-11-2026: it can be marked held on that day or after" in confirm
    assert "Yes, mark the meeting held" not in confirm
    r = client.post(f"/meetings/{meeting.id}/held", follow_redirects=True)
    assert "dated 27-11-2026" in r.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.status == "planned" and meeting.held_at is None
    with pytest.raises(ValidationError):
        ops.mark_held(meeting, w["secretary"], today=TODAY, t=T)


def _held(w):
    meeting = ops.plan_meeting(title="R", meeting_date=TODAY, venue="", chair="", attendees=[],
                               user=w["secretary"], today=TODAY, t=T)
    ops.mark_held(meeting, w["secretary"], today=TODAY, t=T)
    db.session.commit()
    return meeting


def test_minutes_form_keeps_what_was_typed_on_a_mistake_and_on_a_conflict(world, as_user):
    w = world
    meeting = _held(w)
    first, second = meeting.agenda_items
    client = as_user(w["secretary"])
    typed = {"version": str(meeting.version),
             f"minutes-{first.id}": "A long discussion we must not lose.",
             f"decision-{second.id}-text": "Release the funds", f"decision-{second.id}-due": ""}
    r = client.post(f"/meetings/{meeting.id}/minutes", data=typed)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "A long discussion we must not lose." in page and "Release the funds" in page
    assert "Give the due date of the decision." in page
    db.session.refresh(first)
    assert first.minutes == "" and not meeting.action_items

    # Someone else saves first: nothing of ours is saved, our text is kept, theirs is shown.
    ops.record_meeting_minutes(meeting, minutes={first.id: "Their text"}, decisions=[],
                               user=w["secretary"])
    db.session.commit()
    r = client.post(f"/meetings/{meeting.id}/minutes", data={
        "version": typed["version"], f"minutes-{first.id}": "A long discussion we must not lose."})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "A long discussion we must not lose." in page and "Their text" in page
    db.session.refresh(first)
    assert first.minutes == "Their text"
    # Saving again (the page carries the new version) keeps ours.
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = client.post(f"/meetings/{meeting.id}/minutes", data={
        "version": version, f"minutes-{first.id}": "A long discussion we must not lose."})
    assert r.status_code == 302
    db.session.refresh(first)
    assert first.minutes == "A long discussion we must not lose."


def test_agenda_can_be_edited_until_held(world):
    w = world
    meeting = ops.plan_meeting(title="R", meeting_date=TODAY, venue="", chair="", attendees=[],
                               user=w["secretary"], today=TODAY, t=T)
    first, second = meeting.agenda_items[:2]
    free = ops.add_item(meeting, title="Any other business", details="", department_id=None,
                        user=w["secretary"])
    assert meeting.agenda_items[-1] is free and free.kind == "free"
    ops.move_item(free, w["secretary"], offset=-1)
    order = sorted(meeting.agenda_items, key=lambda i: i.position)
    assert order[-2] is free
    ops.remove_item(first, w["secretary"])
    assert [i.position for i in sorted(meeting.agenda_items, key=lambda i: i.position)] == [0, 1]
    assert meeting.left_off["departments"] == 0  # counted from the next refresh
    ops.refresh_agenda(meeting, w["secretary"], today=TODAY, t=T)
    assert meeting.left_off["departments"] == 1
    assert ops.add_departments(meeting, w["secretary"], department_ids=[first.department_id],
                               today=TODAY, t=T) == 1
    ops.mark_held(meeting, w["secretary"], today=TODAY, t=T)
    with pytest.raises(ValidationError):
        ops.add_item(meeting, title="Late", details="", department_id=None, user=w["secretary"])
    with pytest.raises(ValidationError):
        ops.remove_item(second, w["secretary"])
    with pytest.raises(ValidationError):
        ops.build_agenda(meeting, TODAY, T)


def test_final_minutes_are_amended_with_the_original_kept(world):
    w = world
    meeting = _held(w)
    item = meeting.agenda_items[0]
    ops.record_minutes(item, w["secretary"], text="Original text")
    ops.finalise_minutes(meeting, w["secretary"])
    with pytest.raises(ValidationError):
        ops.record_minutes(item, w["secretary"], text="Silently changed")
    ops.amend_minutes(item, text="Corrected text", reason="Typo in the date", user=w["secretary"])
    db.session.commit()
    amendment = db.session.execute(db.select(MinutesAmendment)).scalar_one()
    assert (amendment.previous_text, amendment.new_text, amendment.user_id) == (
        "Original text", "Corrected text", w["secretary"].id)
    assert item.minutes == "Corrected text"
    assert db.session.execute(
        db.select(AuditLog).filter_by(action="amend_minutes", entity_id=item.id)).scalar_one()


def test_finding_words():
    f = {"kind": "overdue", "code": "FISH-08", "title": "Online fishing licence",
         "due": "2026-03-15", "percent": 0, "status": "not_started", "late": 264}
    assert ops.finding_line(f) == ("FISH-08 · Online fishing licence: Overdue by 264 days — "
                                   "due 15-03-2026, 0 % done, not started")


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
    assert nic.get(f"/meetings/{meeting.id}/held").status_code == 403
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


INTERNAL_ID = re.compile(r"\b(?:milestone|bottleneck|action[ _]item|department|agenda[ _]item|flag)"
                         r" ?#?\d+\b", re.I)
STORED_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _leaks(text):
    text = re.sub(r"https?://\S+|/flags/\?\S+", "", text)  # an address is not words
    return [p.pattern for p in (INTERNAL_ID, STORED_CODE, ISO_DATE) if p.search(text)] and [
        m.group(0) for p in (INTERNAL_ID, STORED_CODE, ISO_DATE) for m in p.finditer(text)]


@pytest.mark.parametrize("locale", ["en", "hi"])
def test_no_internal_ids_stored_codes_or_iso_dates_in_a_meetings_words(world, as_user, locale):
    """The meeting page (planned, held, final), its confirmation pages, the points' page, the
    minutes workbook and the digest e-mail of an overdue decision, in both languages."""
    from jobs import digest, mail
    from tests.test_i18n import visible_text

    w = world
    w["secretary"].locale = locale
    from datetime import datetime

    factories.milestone(plan=w["late"].plan, today=TODAY, code="HLT-2", title="Stale one",
                        status="in_progress", percent_complete=40,
                        due_date=TODAY + timedelta(days=60), updated_at=datetime(2026, 10, 1))
    db.session.commit()
    client = as_user(w["secretary"])
    meeting = _plan_meeting(client, attendees=[("Dr Padma", "Nodal Officer", w["health"].id)])
    pages = [f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/held",
             f"/meetings/{meeting.id}/items/{meeting.agenda_items[0].id}",
             f"/meetings/{meeting.id}/left-off", "/meetings/new"]
    texts = [visible_text(client.get(p).get_data(as_text=True)) for p in pages]
    client.post(f"/meetings/{meeting.id}/held")
    item = meeting.agenda_items[0]
    client.post(f"/meetings/{meeting.id}/minutes", data={
        f"minutes-{item.id}": "Discussed.", f"decision-{item.id}-text": "Finish it",
        f"decision-{item.id}-due": (TODAY - timedelta(days=1)).isoformat(),
        f"decision-{item.id}-department": str(w["health"].id)})
    texts += [visible_text(client.get(p).get_data(as_text=True))
              for p in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/finalise")]
    client.post(f"/meetings/{meeting.id}/finalise")
    texts.append(visible_text(client.get(f"/meetings/{meeting.id}").get_data(as_text=True)))
    wb = xlsx.read(client.get(f"/meetings/{meeting.id}/minutes.xlsx").data)
    texts.append("\n".join(v for v in (c for r in xlsx.rows(wb.worksheets[0]) for c in r)
                           if isinstance(v, str)))
    # The overdue decision reaches the Secretary's digest once escalated.
    decision = db.session.execute(db.select(ActionItem).filter_by(text="Finish it")).scalar_one()
    factories.flag(kind="action_item_overdue", subject_type="action_item",
                   subject_id=decision.id, department_id=w["health"].id, severity="critical",
                   escalation="secretary", details={"label": decision.text})
    from tracker.operations.notifications import notify_flags

    notify_flags(datetime_now())  # what the scan does: the flag reaches the Secretary's inbox
    digest.create_digest(TODAY, datetime_now())
    db.session.commit()
    items = mail.pending(TODAY)[w["secretary"]]
    contents = mail.digest_contents(mail._digests(items))
    message = mail.build_message(w["secretary"], items, TODAY,
                                 contents.get(w["secretary"].id))
    for part in message.iter_parts():
        content = part.get_content()
        texts.append(visible_text(content) if part.get_content_subtype() == "html" else content)
    texts.append(str(message["Subject"]))
    for text in texts:
        assert not _leaks(text), (_leaks(text), text[:2000])
    assert any("HLT-1 · Integrate birth certificates" in t for t in texts)
    assert any("HLT-2 · Stale one" in t for t in texts)
    assert any("Finish it" in t for t in texts[-3:])  # the e-mail
    if locale == "hi":
        assert any("विलंबित" in t for t in texts)
        assert any("बैठक का कार्यवृत्त" in t for t in texts)


def datetime_now():
    from datetime import datetime

    return datetime(2026, 11, 20, 3, 0)


def test_on_the_demo_data_the_default_agenda_is_bounded_and_hides_nothing(app):
    """At most AGENDA_MAX_DEPARTMENTS items; every finding is under one of them or counted in
    'Not on this agenda'."""
    from tracker import demo

    demo.seed(TODAY, "demo-password-1")
    secretary = db.session.execute(
        db.select(factories.User).filter_by(email="secretary@ladakh.example")).scalar_one()
    everything = ops.department_findings(TODAY, T)
    total = sum(len(f) for f in everything.values())
    assert len(everything) > 12
    meeting = ops.plan_meeting(title="Weekly", meeting_date=TODAY, venue="", chair="",
                               attendees=[], user=secretary, today=TODAY, t=T,
                               limit=app.config["AGENDA_MAX_DEPARTMENTS"])
    assert len(meeting.agenda_items) == 12
    on = sum(i.snapshot["total"] for i in meeting.agenda_items)
    assert on + meeting.left_off["findings"] == total
    assert len(meeting.agenda_items) + meeting.left_off["departments"] == len(everything)
    ranks = [ops.Candidate(i.department_id, i.title, i.snapshot["findings"]).rank_key()
             for i in meeting.agenda_items]
    assert ranks == sorted(ranks)
