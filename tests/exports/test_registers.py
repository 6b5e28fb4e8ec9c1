"""Both registers' workbooks read back with openpyxl, and the service import end to end."""
import io
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from exports import services as services_export
from models import AuditLog, Milestone, Service
from tests import factories
from tracker.extensions import db


@pytest.fixture
def world(app):
    own = factories.department("own", name="Own Department")
    other = factories.department("other", name="Other Department")
    users = {
        "nic": factories.user("nic"),
        "nodal_own": factories.user("nodal", department=own),
        "viewer": factories.user("viewer"),
    }
    birth = factories.service(department=own, name="Birth certificate", time_limit_days=7,
                              designated_officer="Registrar", delivery_mode="integrated",
                              url="https://own.ladakh.example/birth",
                              target_date=date(2026, 12, 1))
    evil = factories.service(department=other, name="=HYPERLINK(\"http://x\")",
                             designated_officer="@SUM(A1)", psga_notified=False,
                             time_limit_days=None)
    factories.milestone(department=own, code="OWN-1", service_id=birth.id)
    return {"own": own, "other": other, "users": users, "birth": birth, "evil": evil}


def _sheet(response, name):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))[name]


def _rows(ws, first=5):
    return [list(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def test_service_export_reads_back(world, as_user):
    response = as_user(world["users"]["viewer"]).get("/services/export.xlsx")
    ws = _sheet(response, "Services")
    assert ws["A1"].value == "Service register"
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref.startswith("A4:L")
    assert ws.page_setup.orientation == "landscape"
    assert [c.value for c in ws[4]] == list(services_export.HEADERS)
    rows = {r[3]: r for r in _rows(ws)}
    birth = rows["Birth certificate"]
    assert birth[1:12] == ["own", "Own Department", "Birth certificate", "Yes", 7, "Registrar",
                           "Integrated with the portal", "https://own.ladakh.example/birth",
                           birth[9], "OWN-1", 1]
    assert birth[9].date() == date(2026, 12, 1)
    birth_cells = next(r for r in ws.iter_rows(min_row=5) if r[3].value == "Birth certificate")
    assert birth_cells[9].number_format == "DD-MM-YYYY"
    # User text that looks like a formula is written as text, never as a formula.
    evil_row = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "other")
    assert evil_row[3].value == "=HYPERLINK(\"http://x\")" and evil_row[3].data_type == "s"
    assert evil_row[6].value == "@SUM(A1)" and evil_row[6].data_type == "s"
    summary = load_workbook(io.BytesIO(response.data))["Summary by department"]
    by_dept = {r[0]: r for r in _rows(summary)}
    assert list(by_dept["Own Department"]) == ["Own Department", 1, 1, 100, 1, 100, 1, 100]
    assert list(by_dept["Other Department"]) == ["Other Department", 1, 0, 0, 0, 0, 0, 0]


def test_nodal_export_holds_only_their_department(world, as_user):
    ws = _sheet(as_user(world["users"]["nodal_own"]).get("/services/export.xlsx"), "Services")
    assert {r[1] for r in _rows(ws)} == {"own"}


def test_website_export_reads_back(world, as_user, app):
    from tracker import clock

    with app.test_request_context():
        today = clock.today()
    factories.asset(department=world["own"], name="Own portal", url="https://own.ladakh.example/",
                    last_content_update=today, https=True,
                    audit_valid_until=today - timedelta(days=3), accessibility_audit_on=None)
    factories.asset(department=world["other"], name="-2+3", url="http://other.example/")
    response = as_user(world["users"]["viewer"]).get("/websites/export.xlsx")
    ws = _sheet(response, "Websites and apps")
    assert ws["A1"].value == "Website and app compliance"
    assert ws.freeze_panes == "A5"
    headers = [c.value for c in ws[4]]
    rows = {r[1]: dict(zip(headers, r)) for r in _rows(ws)}
    own = rows["Own portal"]
    assert own["Content"] == "Up to date"
    assert own["Security audit"] == "Expired"
    assert own["Accessibility audit"] == "Never audited"
    assert own["HTTPS"] == "Yes"
    assert own["Integrated with the portal"] == "Not integrated"
    assert own["Latest check"] == "Not checked"
    assert own["Security audit valid until"].date() == today - timedelta(days=3)
    other = rows["-2+3"]
    assert other["Content"] == "No update recorded" and other["HTTPS"] == "No HTTPS"
    formula_cell = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "-2+3")[1]
    assert formula_cell.data_type == "s"


# --- Import -----------------------------------------------------------------------------------


def _export_bytes(client):
    return client.get("/services/export.xlsx").data


def _edit(data, edits, add=()):
    """Change cells of the Services sheet by (service name, header) and append rows."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Services"]
    headers = {c.value: c.column for c in ws[4]}
    for row in ws.iter_rows(min_row=5):
        for (name, header), value in edits.items():
            if row[3].value == name:
                ws.cell(row=row[0].row, column=headers[header], value=value)
    for values in add:
        r = ws.max_row + 1
        for header, value in values.items():
            ws.cell(row=r, column=headers[header], value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, data, name="register.xlsx"):
    return client.post("/services/import", data={"workbook": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _token(page):
    import re

    return re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_import_preview_then_apply(world, as_user):
    client = as_user(world["users"]["nic"])
    data = _edit(_export_bytes(client),
                 {("Birth certificate", "Time limit (days)"): 5,
                  ("Birth certificate", "Delivery mode"): "Online (standalone)"},
                 add=[{"Department code": "own", "Service": "Death certificate",
                       "PSGA-notified": "Yes", "Time limit (days)": 10,
                       "Delivery mode": "Offline", "Target date": "15-01-2027"}])
    preview = _upload(client, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "1 to add, 1 to change, 1 unchanged." in page
    assert "Time limit (days): 7 → 5" in page
    # Nothing is written before the confirmation.
    db.session.expire_all()
    assert db.session.get(Service, world["birth"].id).time_limit_days == 7
    applied = client.post("/services/import/apply", data={"token": _token(page)})
    assert applied.status_code == 302
    db.session.expire_all()
    birth = db.session.get(Service, world["birth"].id)
    assert birth.time_limit_days == 5 and birth.delivery_mode == "online_standalone"
    death = db.session.execute(sa.select(Service).filter_by(name="Death certificate")).scalar_one()
    assert death.target_date == date(2027, 1, 15) and death.department_id == world["own"].id
    assert db.session.execute(sa.select(AuditLog).filter_by(action="import")).scalar_one()
    # The same confirmation cannot be applied twice.
    again = client.post("/services/import/apply", data={"token": _token(page)})
    assert again.status_code == 302 and "/services/import" in again.headers["Location"]


def test_import_lists_every_error_and_changes_nothing(world, as_user):
    client = as_user(world["users"]["nodal_own"])
    data = _edit(_export_bytes(client),
                 {("Birth certificate", "Time limit (days)"): "soon",
                  ("Birth certificate", "Delivery mode"): "by post"},
                 add=[{"Department code": "other", "Service": "Sneaky", "PSGA-notified": "No"},
                      {"Department code": "nope", "Service": "Ghost"},
                      {"Department code": "own", "Service": "Online thing",
                       "PSGA-notified": "Maybe", "Delivery mode": "Integrated with the portal",
                       "Milestone code": "OWN-9", "Target date": "=TODAY()"}])
    response = _upload(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for row, column, message in [
        (5, "Time limit (days)", "Enter a whole number of days."),
        (5, "Delivery mode", "Enter Offline"),
        (6, "Department code", "1 row is a service of another department (Other"),
        (7, "Department code", "No active department has the code"),
        (8, "Target date", "Formulas are not accepted; type the value."),
    ]:
        assert f"<td>Services</td><td>{row}</td><td>{column}</td><td>{message}" in page, (row, column)
    assert db.session.execute(sa.select(sa.func.count(Service.id))).scalar() == 2
    assert db.session.get(Service, world["birth"].id).time_limit_days == 7


def test_import_row_checks_against_the_database(world, as_user):
    client = as_user(world["users"]["nic"])
    data = _edit(_export_bytes(client), {},
                 add=[{"Department code": "own", "Service": "Online thing",
                       "PSGA-notified": "Yes", "Delivery mode": "Integrated with the portal",
                       "Milestone code": "OWN-1"}])
    page = _upload(client, data).get_data(as_text=True)
    assert "<td>7</td><td>Time limit (days)</td><td>A PSGA-notified service needs its time limit in days." in page
    assert "<td>7</td><td>Web address</td><td>A service delivered online needs its web address." in page
    assert "<td>7</td><td>Milestone code</td><td>Milestone OWN-1 already brings another service online." in page


def test_import_refuses_a_row_changed_since_export(world, as_user):
    client = as_user(world["users"]["nic"])
    exported = _export_bytes(client)
    service = db.session.get(Service, world["birth"].id)
    service.designated_officer = "Someone else"
    db.session.commit()  # version 2 now
    page = _upload(client, _edit(exported, {("Birth certificate", "Time limit (days)"): 3})
                   ).get_data(as_text=True)
    assert "Changed in the tracker since this workbook was exported (version 1, now 2)" in page
    db.session.expire_all()
    assert db.session.get(Service, world["birth"].id).time_limit_days == 7


def test_import_is_applied_whole_or_not_at_all(world, as_user):
    client = as_user(world["users"]["nic"])
    data = _edit(_export_bytes(client), {("Birth certificate", "Time limit (days)"): 4},
                 add=[{"Department code": "own", "Service": "New one", "PSGA-notified": "No"}])
    page = _upload(client, data).get_data(as_text=True)
    # Between preview and confirmation someone changes the birth certificate.
    service = db.session.get(Service, world["birth"].id)
    service.designated_officer = "Changed meanwhile"
    db.session.commit()
    response = client.post("/services/import/apply", data={"token": _token(page)})
    assert response.status_code == 422
    assert "Changed in the tracker since this workbook was exported" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Service, world["birth"].id).time_limit_days == 7
    # The other row, valid on its own, was not applied either.
    assert db.session.execute(sa.select(Service).filter_by(name="New one")).first() is None


@pytest.mark.parametrize("make, message", [
    (lambda: b"not a zip at all", "not an Excel workbook (.xlsx)"),
    (lambda: _with_macro(), "The workbook contains macros."),
    (lambda: _bomb(), "it may be a compressed bomb"),
])
def test_unsafe_uploads_are_refused(world, as_user, make, message):
    response = _upload(as_user(world["users"]["nic"]), make())
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def _with_macro():
    out = io.BytesIO()
    Workbook().save(out)
    data = io.BytesIO(out.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 10)
    return buffer.getvalue()


def _bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/huge.xml", b"0" * (4 * 1024 * 1024))
    return buffer.getvalue()


def test_viewer_may_not_import(world, as_user):
    client = as_user(world["users"]["viewer"])
    assert client.get("/services/import").status_code == 403
    assert client.post("/services/import/apply", data={"token": "ab"}).status_code == 403
