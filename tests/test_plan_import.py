"""Importing action plans: checked whole, previewed, applied in one transaction; refused
uploads list every problem and change nothing; unsafe files refused before parsing."""
import io
import random
import struct
import tracemalloc
import zipfile
import zlib
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from flask_babel import force_locale
from openpyxl import load_workbook

from exports.plan_import import read_plan
from exports.plan_template import plan_template_workbook
from exports.roadmap import roadmap_workbook
from exports.upload_safety import UploadLimits, UploadRefused, check_xlsx
from models import ActionPlan, AuditLog, Department, Milestone, MilestoneUpdate
from tests import factories
from tests.conftest import _empty_all_tables
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
LIMITS = UploadLimits()
FIELDS = ("code", "title", "description", "category", "owner", "start_date", "due_date",
          "status", "percent_complete", "completed_on")


def filled_template(rows, codes=(("health", "Health"),)):
    """The real template, filled in as NIC would: rows of 11 values in template order.
    Made in English under ``force_locale``, which leaves no language behind in the test's
    application context (Flask-Babel keeps the first one it works out there)."""
    with force_locale("en"):
        made = plan_template_workbook(list(codes), AT)
    wb = load_workbook(io.BytesIO(made))
    ws = wb["Milestones"]
    for i, row in enumerate(rows, start=5):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = [
    ("health", "HLT-01", "Birth certificates online", "Through the portal", "Service integration",
     "DD IT", date(2026, 1, 1), date(2026, 6, 30), "In progress", 40, None),
    ("health", "HLT-02", "Accessibility audit", None, "accessibility", None, None,
     date(2026, 3, 31), "completed", 100, date(2026, 3, 20)),
]


@pytest.fixture
def nic(app):
    factories.department("health", name="Health")
    factories.department("pwd", name="Public Works")
    return factories.user("nic")


def _upload(client, data, name="plan.xlsx"):
    return client.post("/reports/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _milestones():
    return db.session.execute(db.select(Milestone).order_by(Milestone.code)).scalars().all()


def test_upload_preview_then_apply_creates_and_updates_in_one_go(nic, as_user, app):
    client = as_user(nic)
    response = _upload(client, filled_template(GOOD))
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "2 milestone(s) will be created" in page
    assert _milestones() == []  # nothing saved by the preview
    token = page.split("/reports/import/")[1].split("/apply")[0]
    other = factories.user("nic")
    # The token is the uploader's: another user cannot apply it.
    client.post("/sign-out")
    assert as_user(other).post(f"/reports/import/{token}/apply").status_code == 302
    assert _milestones() == []
    client.post("/sign-out")
    client = as_user(nic)
    assert client.post(f"/reports/import/{token}/apply").status_code == 302
    m1, m2 = _milestones()
    assert (m1.code, m1.title, m1.category, m1.status, m1.percent_complete, m1.start_date) == (
        "HLT-01", "Birth certificates online", "service_integration", "in_progress", 40,
        date(2026, 1, 1))
    assert (m2.status, m2.completed_on) == ("completed", date(2026, 3, 20))
    plan = db.session.execute(db.select(ActionPlan)).scalar_one()
    assert plan.status == "draft" and m1.plan_id == plan.id
    assert db.session.execute(db.select(AuditLog).filter_by(action="import_plan")).scalar_one()
    # Applying again is refused: the upload no longer waits.
    assert client.post(f"/reports/import/{token}/apply").status_code == 302

    # A second upload changes one milestone: previewed as a change, recorded in its history.
    changed = [list(GOOD[0]), list(GOOD[1])]
    changed[0][7], changed[0][9] = date(2026, 7, 31), 60
    page = _upload(client, filled_template([tuple(r) for r in changed])).get_data(as_text=True)
    assert "1 milestone(s) will be created" not in page and "Change" in page
    token = page.split("/reports/import/")[1].split("/apply")[0]
    client.post(f"/reports/import/{token}/apply")
    db.session.expire_all()
    m1 = _milestones()[0]
    assert (m1.due_date, m1.percent_complete) == (date(2026, 7, 31), 60)
    update = db.session.execute(db.select(MilestoneUpdate)).scalar_one()
    assert (update.due_from, update.due_to, update.reason) == (
        date(2026, 6, 30), date(2026, 7, 31), "other")


def test_a_file_with_three_errors_lists_all_three_and_creates_nothing(nic, as_user):
    rows = [
        GOOD[0],
        ("nowhere", "X-1", "Unknown department", None, "Other", None, None, date(2026, 5, 1),
         "Not started", 0, None),
        ("health", "HLT-03", "Due before start", None, "Other", None, date(2026, 5, 1),
         date(2026, 4, 1), "Not started", 0, None),
        ("health", "HLT-01", "Duplicate code", None, "Other", None, None, date(2026, 5, 1),
         "Not started", 0, None),
    ]
    response = _upload(as_user(nic), filled_template(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "3 problem(s)" in page
    assert "<td>Milestones</td><td>6</td><td>A (Department code)</td>" in page
    assert "<td>Milestones</td><td>7</td><td>H (Due date)</td><td>is before the start date</td>" in page
    assert "<td>Milestones</td><td>8</td><td>B (Milestone code)</td>" in page
    assert "already used for this department in row 5" in page
    assert _milestones() == []
    assert db.session.execute(db.select(ActionPlan)).first() is None


def test_every_kind_of_cell_problem_is_found(app):
    rows = [
        ("health", "", "", None, "Cooking", None, "soon", None, "Sleeping", 140, None),
        ("health", "OK-1", "x", None, "Other", None, None, date(2026, 1, 1), "Completed", 90, None),
        ("health", "OK-2", "x", None, "Other", None, None, date(2026, 1, 1), "In progress", 10,
         date(2026, 1, 1)),
    ]
    _, problems = read_plan(filled_template(rows), {"health"})
    found = {(p.row, p.column.split(" ")[0], p.message.split(":")[0]) for p in problems}
    assert found == {
        (5, "B", "is required"), (5, "C", "is required"),
        (5, "E", "'Cooking' is not a category"), (5, "G", "is not a date"),
        (5, "H", "is required"), (5, "I", "'Sleeping' is not a status"),
        (5, "J", "must be a whole number from 0 to 100"),
        (6, "J", "must be 100 for a completed milestone"),
        (6, "K", "is required for a completed milestone"),
        (7, "K", "is only for a completed milestone"),
    }


def _plan_rows(n, start=0, status="Not started", percent=0):
    return [("health" if i % 2 else "pwd", f"BULK-{i:04d}", f"Milestone {i}", None, "Other",
             None, None, date(2026, 5, 1) + timedelta(days=i % 30), status, percent, None)
            for i in range(start, start + n)]


def _apply_counting(count_queries, rows, user, codes=(("health", "Health"), ("pwd", "Public Works"))):
    from tracker.operations import imports

    parsed, problems = read_plan(filled_template(rows, codes), {"health", "pwd"})
    assert problems == []
    with count_queries() as statements:
        counts = imports.apply_plan(parsed, user, filename="bulk.xlsx")
    return counts, statements


@pytest.mark.parametrize("n", [6, 60])
def test_applying_a_plan_runs_the_same_few_statements_for_6_rows_or_60(nic, count_queries, n):
    """Set-based: the statements do not grow with the rows created (batched INSERTs), and
    each row still gets its audit entry, each changed milestone its history row."""
    counts, statements = _apply_counting(count_queries, _plan_rows(n), nic)
    assert counts == {"created": n, "updated": 0, "unchanged": 0}
    assert len(statements) <= 12, statements
    # Half the rows again, changed (status and percent: a history row each), plus n new rows.
    rows = _plan_rows(n // 2, status="In progress", percent=50) + _plan_rows(n, start=n)
    counts, statements = _apply_counting(count_queries, rows, nic)
    assert counts == {"created": n, "updated": n // 2, "unchanged": 0}
    # One UPDATE per changed milestone, each checking the version it read (optimistic locking;
    # SQLAlchemy does not batch versioned UPDATEs); every other statement is batched.
    updates = [s for s in statements if s.startswith("UPDATE milestones")]
    assert len(updates) == n // 2
    assert len(statements) - len(updates) <= 12, statements
    assert db.session.query(Milestone).count() == 2 * n
    plans = db.session.execute(db.select(ActionPlan)).scalars().all()
    assert len(plans) == 2
    assert {m.plan_id for m in _milestones()} == {p.id for p in plans}
    for plan in plans:
        positions = sorted(m.position for m in _milestones() if m.plan_id == plan.id)
        assert positions == list(range(n))
    history = db.session.execute(db.select(MilestoneUpdate)).scalars().all()
    assert len(history) == n // 2
    assert {(h.status_from, h.status_to, h.percent_to, h.note) for h in history} == {
        ("not_started", "in_progress", 50, "Imported from bulk.xlsx")}
    entries = db.session.execute(db.select(AuditLog).order_by(AuditLog.id)).scalars().all()
    actions = [(e.action, e.entity) for e in entries]
    assert actions.count(("create", "action_plan")) == 2
    assert actions.count(("create", "milestone")) == 2 * n
    assert actions.count(("update", "milestone")) == n // 2
    assert actions.count(("import_plan", "action_plan")) == 2
    by_id = {m.id: m for m in _milestones()}
    for e in entries:
        if e.entity == "milestone":
            assert e.entity_id in by_id and e.changes["source"] == "bulk.xlsx"
            if e.action == "create":
                assert e.changes["code"] == by_id[e.entity_id].code


def test_round_trip_a_department_roadmap_exported_and_imported_into_a_fresh_database(app, nic, as_user):
    health = db.session.execute(db.select(Department).filter_by(code="health")).scalar_one()
    plan = factories.plan(department=health, status="approved")
    for n, (status, pct) in enumerate((("not_started", 0), ("in_progress", 35), ("blocked", 10),
                                       ("completed", 100), ("dropped", 5))):
        factories.milestone(plan=plan, today=TODAY, code=f"HLT-{n}", title=f"=Milestone {n}",
                            description=f"Line one\nline two {n}", owner=f"Officer {n}",
                            category=("website_update", "other", "infrastructure",
                                      "accessibility", "security_compliance")[n],
                            status=status, percent_complete=pct,
                            start_date=TODAY - timedelta(days=30 + n),
                            due_date=TODAY + timedelta(days=10 * n - 15),
                            completed_on=TODAY - timedelta(days=2) if status == "completed" else None)
    other = factories.department("other", name="Other")
    factories.milestone(department=other, today=TODAY, code="OTH-1")
    before = [tuple(getattr(m, f) for f in FIELDS) for m in _milestones()
              if m.department_id == health.id]
    data = roadmap_workbook(TODAY, Thresholds(), AT, department_ids=[health.id])

    db.session.remove()
    _empty_all_tables()
    factories.department("health", name="Health")
    importer = factories.user("nic")
    client = as_user(importer)
    page = _upload(client, data, "roadmap-health.xlsx").get_data(as_text=True)
    assert "5 milestone(s) will be created" in page
    token = page.split("/reports/import/")[1].split("/apply")[0]
    assert client.post(f"/reports/import/{token}/apply").status_code == 302
    after = [tuple(getattr(m, f) for f in FIELDS) for m in _milestones()]
    assert after == before


# --- Refused before parsing ---------------------------------------------------------------


def _zip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in entries:
            z.writestr(name, body)
    return out.getvalue()


def crafted_bomb(expanded_mib=260):
    """A well-formed .xlsx-looking zip of ~0.3 MB whose sheet inflates to ``expanded_mib`` MiB:
    one flushed deflate block of 1 MiB of spaces, repeated (no slow compression needed)."""
    chunk = b" " * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    body = block * expanded_mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(expanded_mib):
        crc = zlib.crc32(chunk, crc)
    files = [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")]
    out, central = io.BytesIO(), io.BytesIO()
    entries = [(n, zlib.compressobj(9, zlib.DEFLATED, -15), b) for n, _, b in
               ((n, None, b) for n, b in files)]
    records = []
    for name, comp, raw in entries:
        data = comp.compress(raw) + comp.flush()
        records.append((name.encode(), data, zlib.crc32(raw), len(raw)))
    records.append((b"xl/worksheets/sheet1.xml", body, crc, expanded_mib << 20))
    for name, data, crc_, size in records:
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc_, len(data),
                              size, len(name), 0) + name + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc_,
                                  len(data), size, len(name), 0, 0, 0, 0, 0, offset) + name)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records),
                               len(cd), start, 0))
    return out.getvalue()


def test_refusals_each_say_why(app):
    valid = filled_template(GOOD)
    cases = {
        "notes.txt": (b"just text", "Only Excel workbooks (.xlsx)"),
        "plan.xls": (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "Only Excel workbooks (.xlsx)"),
        "plan.xlsm": (valid, "Macro-enabled workbooks (.xlsm) are not accepted"),
        "renamed.xlsx": (b"%PDF-1.4 not a zip", "not an Excel workbook"),
        "macro-inside.xlsx": (_zip([("[Content_Types].xml", "<Types/>"),
                                     ("xl/workbook.xml", "<w/>"), ("xl/vbaProject.bin", "x")]),
                              "contains macros"),
        "big.xlsx": (b"PK\x03\x04" + b"\0" * (LIMITS.max_bytes + 1), "the largest file accepted"),
        "many.xlsx": (_zip([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>")]
                           + [(f"xl/x{i}.xml", "x") for i in range(LIMITS.max_entries)]),
                      "parts"),
        "bomb.xlsx": (crafted_bomb(60), "compressed bomb"),
        "empty.xlsx": (b"", "empty"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(UploadRefused) as refused:
            check_xlsx(name, data, LIMITS)
        assert message in str(refused.value), name
    check_xlsx("plan.xlsx", valid, LIMITS)  # the template itself passes


def test_each_refusal_is_shown_on_the_import_page(nic, as_user, app):
    client = as_user(nic)
    for name, data, message in (
        ("plan.csv", b"a,b", "Only Excel workbooks (.xlsx) can be imported."),
        ("plan.xlsm", filled_template(GOOD), "Macro-enabled workbooks (.xlsm) are not accepted"),
        ("bomb.xlsx", crafted_bomb(60), "compressed bomb"),
    ):
        response = _upload(client, data, name)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = _upload(client, b"PK\x03\x04" + b"\0" * 60_000, "big.xlsx")
    assert response.status_code == 413
    assert "larger than the upload limit" in response.get_data(as_text=True)
    assert _milestones() == []


def test_a_small_file_that_would_expand_past_250_mb_is_refused_unopened(app, monkeypatch):
    bomb = crafted_bomb(260)
    assert len(bomb) < 1_100_000
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 250 << 20

    def no_reading(*args, **kwargs):
        raise AssertionError("an entry was opened: the check must read only the directory")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused, match="compressed bomb"):
            check_xlsx("bomb.xlsx", bomb, LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20


# --- Fuzz -------------------------------------------------------------------------------------


def _import_path(name, data):
    """What the upload view does; the only exception allowed out is UploadRefused."""
    check_xlsx(name, data, LIMITS)
    return read_plan(data, {"health"})


_VALID = None


def _valid():
    global _VALID
    if _VALID is None:
        _VALID = filled_template(GOOD)
    return _VALID


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=2000),
    st.binary(max_size=2000).map(lambda b: b"PK\x03\x04" + b),
    st.tuples(st.integers(0, 2**32), st.integers(1, 40)).map(lambda t: ("mutate", *t)),
    st.tuples(st.integers(0, 2**32), st.integers(1, 2000)).map(lambda t: ("truncate", *t)),
))
def test_fuzz_of_the_import_path_60_examples_refused_cleanly_or_read(case):
    if isinstance(case, bytes):
        data = case
    else:
        kind, seed, n = case
        data = bytearray(_valid())
        rng = random.Random(seed)
        if kind == "mutate":
            for _ in range(n):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            del data[rng.randrange(len(data) - n):][:n]
        data = bytes(data)
    try:
        rows, problems = _import_path("fuzz.xlsx", data)
    except UploadRefused as exc:
        assert str(exc)
    else:
        assert isinstance(rows, list) and isinstance(problems, list)
