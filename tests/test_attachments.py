"""The attachment store and its three uses: evidence on a milestone update, evidence on a
bottleneck, the signed copy of a meeting's final minutes. Files are checked by content; a
refused file changes nothing (no row, no file on disk); every upload and removal is audited."""
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from models import Attachment, AuditLog, MilestoneUpdate
from models.base import utcnow
from tests import factories
from tracker.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40 + b"\xff\xd9"
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def xlsx_bytes():
    wb = Workbook()
    wb.active["A1"] = "Sanctioned amount"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def store(app, tmp_path):
    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    return tmp_path / "attachments"


def files_on_disk(store):
    return sorted(p for p in store.rglob("*") if p.is_file()) if store.exists() else []


def count(model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


@pytest.fixture
def world(app, store):
    pwd = factories.department("pwd", name="Public Works")
    health = factories.department("health", name="Health")
    milestone = factories.milestone(department=pwd, code="PWD-01", title="Online building permits")
    bottleneck = factories.bottleneck(department=pwd, milestone=milestone,
                                      title="Server procurement stuck")
    return dict(
        pwd=pwd, health=health, milestone=milestone, bottleneck=bottleneck,
        nodal=factories.user("nodal", department=pwd, name="Nodal PWD"),
        other_nodal=factories.user("nodal", department=health, name="Nodal Health"),
        nic=factories.user("nic", name="NIC officer"),
        secretary=factories.user("secretary", name="Secretary IT"),
        viewer=factories.user("viewer"),
    )


def update_data(milestone, note="Government order issued", files=()):
    data = {"version": str(milestone.version), "status": "in_progress",
            "percent_complete": "60", "note": note}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return data


def post_update(client, milestone, **kw):
    return client.post(f"/milestones/{milestone.id}/update", data=update_data(milestone, **kw),
                       content_type="multipart/form-data")


def test_round_trip_on_a_milestone_update(world, as_user, auth, client, store):
    m = world["milestone"]
    as_user(world["nodal"])
    response = post_update(client, m, files=[("GO 12 of 2026.pdf", PDF),
                                             ("screen shot.png", PNG)])
    assert response.status_code == 303, response.get_data(as_text=True)
    attachments = db.session.execute(sa.select(Attachment).order_by(Attachment.id)).scalars().all()
    assert [(a.filename, a.content_type, a.size) for a in attachments] == [
        ("GO 12 of 2026.pdf", "application/pdf", len(PDF)),
        ("screen shot.png", "image/png", len(PNG))]
    update = db.session.execute(sa.select(MilestoneUpdate)).scalar_one()
    assert {a.milestone_update_id for a in attachments} == {update.id}
    assert {a.department_id for a in attachments} == {world["pwd"].id}
    assert len(files_on_disk(store)) == 2
    # Names on disk are the server's, never the user's.
    assert all(".pdf" not in p.name and " " not in p.name for p in files_on_disk(store))

    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "GO 12 of 2026.pdf" in page and "screen shot.png" in page
    assert f"/attachments/{attachments[0].id}" in page
    assert "application/pdf" not in page  # words, not codes

    # Another permitted user downloads it: as an attachment, its type, nosniff.
    auth.sign_out()
    as_user(world["nic"])
    response = client.get(f"/attachments/{attachments[0].id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "GO" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # Another department's nodal officer: no such page.
    auth.sign_out()
    as_user(world["other_nodal"])
    assert client.get(f"/attachments/{attachments[0].id}").status_code == 404
    assert client.get(f"/attachments/{attachments[0].id + 100}").status_code == 404

    entries = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "attachment")
                                 .order_by(AuditLog.id)).scalars().all()
    assert [(e.action, e.entity_id, e.user_id) for e in entries] == [
        ("attach", attachments[0].id, world["nodal"].id),
        ("attach", attachments[1].id, world["nodal"].id)]
    assert entries[0].changes["sha256"][1] == attachments[0].sha256
    assert entries[0].changes["milestone_update_id"] == [None, update.id]


@pytest.mark.parametrize("name,content,message", [
    ("order.pdf", HTML, "none of these by its content"),
    ("order.pdf", EXE, "none of these by its content"),
    ("order.exe", EXE, "none of these by its content"),
    ("letter.docx", b"PK\x03\x04" + b"\x00" * 100, "not an Excel workbook"),
    ("empty.pdf", b"", "empty"),
])
def test_a_refused_file_changes_nothing_and_keeps_what_was_typed(world, as_user, client, store,
                                                                 name, content, message):
    m = world["milestone"]
    as_user(world["nodal"])
    response = post_update(client, m, note="Letter from the Finance department",
                           files=[("fine.pdf", PDF), (name, content)])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Letter from the Finance department" in page  # what was typed is kept
    assert count(MilestoneUpdate) == 0 and count(Attachment) == 0
    assert files_on_disk(store) == []
    db.session.refresh(m)
    assert m.percent_complete == 50


def test_an_oversize_file_is_refused_with_the_limit(world, app, as_user, client, store):
    app.config["MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    as_user(world["nodal"])
    big = PDF[:-7] + b"\x00" * (1024 * 1024) + b"\n%%EOF\n"
    response = post_update(client, world["milestone"], files=[("scan.pdf", big)])
    assert response.status_code == 422
    assert "scan.pdf is larger than 1.0 MB" in response.get_data(as_text=True)
    assert count(MilestoneUpdate) == 0 and count(Attachment) == 0
    assert files_on_disk(store) == []


def test_a_file_is_typed_by_its_content_not_its_name(world, as_user, client, store):
    as_user(world["nodal"])
    response = post_update(client, world["milestone"],
                           files=[("photo.pdf", JPEG), ("../../etc/sanction.xlsx", xlsx_bytes())])
    assert response.status_code == 303
    rows = db.session.execute(sa.select(Attachment.filename, Attachment.content_type)
                              .order_by(Attachment.id)).all()
    assert [tuple(r) for r in rows] == [
        ("photo.jpg", "image/jpeg"),
        ("sanction.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]


def test_an_invalid_update_writes_no_file(world, as_user, client, store):
    as_user(world["nodal"])
    data = update_data(world["milestone"], files=[("go.pdf", PDF)])
    data["percent_complete"] = "50"
    data["note"] = ""
    data["status"] = "in_progress"
    response = client.post(f"/milestones/{world['milestone'].id}/update", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "choose them again" in response.get_data(as_text=True)
    assert count(Attachment) == 0 and files_on_disk(store) == []


def test_a_failed_commit_removes_the_written_file(world, store, app):
    from tracker import attachments as files
    from tracker.operations import attachments as ops

    checked = files.CheckedFile("go.pdf", files.PDF, len(PDF), "0" * 64, PDF)
    ops.attach_to_bottleneck(world["bottleneck"], world["nodal"], files=[checked])
    assert len(files_on_disk(store)) == 1
    db.session.rollback()
    assert files_on_disk(store) == []


def test_evidence_on_a_bottleneck(world, as_user, auth, client, store):
    b = world["bottleneck"]
    as_user(world["nodal"])
    page = client.get(f"/bottlenecks/{b.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "No files attached." in page
    response = client.post(f"/bottlenecks/{b.id}/attachments",
                           data={"files": [(io.BytesIO(HTML), "letter.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "none of these by its content" in response.get_data(as_text=True)
    assert count(Attachment) == 0 and files_on_disk(store) == []

    response = client.post(f"/bottlenecks/{b.id}/attachments",
                           data={"files": [(io.BytesIO(PDF), "letter.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    attachment = db.session.execute(sa.select(Attachment)).scalar_one()
    assert attachment.bottleneck_id == b.id
    page = client.get(f"/bottlenecks/{b.id}").get_data(as_text=True)
    assert "letter.pdf" in page and "Nodal PWD" in page

    auth.sign_out()
    as_user(world["viewer"])
    assert client.get(f"/attachments/{attachment.id}").data == PDF
    assert client.post(f"/bottlenecks/{b.id}/attachments", data={},
                       content_type="multipart/form-data").status_code == 403
    assert client.post(f"/attachments/{attachment.id}/remove").status_code == 403
    auth.sign_out()
    as_user(world["other_nodal"])
    assert client.get(f"/attachments/{attachment.id}").status_code == 404
    assert client.post(f"/attachments/{attachment.id}/remove").status_code == 404

    auth.sign_out()
    as_user(world["nodal"])
    assert client.post(f"/attachments/{attachment.id}/remove").status_code == 303
    assert count(Attachment) == 0 and files_on_disk(store) == []
    actions = db.session.execute(sa.select(AuditLog.action).where(
        AuditLog.entity == "attachment").order_by(AuditLog.id)).scalars().all()
    assert actions == ["attach", "remove"]


def test_evidence_in_the_history_cannot_be_removed(world, as_user, client, store):
    as_user(world["nodal"])
    post_update(client, world["milestone"], files=[("go.pdf", PDF)])
    attachment = db.session.execute(sa.select(Attachment)).scalar_one()
    assert client.post(f"/attachments/{attachment.id}/remove").status_code == 403
    assert count(Attachment) == 1


def test_signed_minutes_only_after_finalising_and_only_pdf(world, as_user, auth, client, store):
    meeting = factories.meeting(title="Weekly review", status="held", held_at=utcnow())
    as_user(world["secretary"])
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "once the minutes are finalised" in page
    response = client.post(f"/meetings/{meeting.id}/signed-minutes",
                           data={"file": (io.BytesIO(PDF), "signed.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "only after the minutes are finalised" in response.get_data(as_text=True)
    assert count(Attachment) == 0 and files_on_disk(store) == []

    meeting.status = "minutes_final"
    meeting.finalised_at = utcnow()
    db.session.commit()
    for name, content in (("signed.pdf", PNG), ("signed.pdf", HTML),
                          ("signed.xlsx", xlsx_bytes())):
        response = client.post(f"/meetings/{meeting.id}/signed-minutes",
                               data={"file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 422
        assert "must be a PDF file" in response.get_data(as_text=True)
    assert count(Attachment) == 0 and files_on_disk(store) == []

    response = client.post(f"/meetings/{meeting.id}/signed-minutes",
                           data={"file": (io.BytesIO(PDF), "Minutes signed 04-12-2026.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    attachment = db.session.execute(sa.select(Attachment)).scalar_one()
    assert (attachment.meeting_id, attachment.purpose) == (meeting.id, "signed_minutes")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Minutes signed 04-12-2026.pdf" in page
    assert len(files_on_disk(store)) == 1

    # Anyone who reads the meeting downloads it; only the Secretary's office attaches.
    auth.sign_out()
    as_user(world["other_nodal"])
    assert client.get(f"/attachments/{attachment.id}").data == PDF
    for user in (world["nic"], world["nodal"]):
        auth.sign_out()
        as_user(user)
        response = client.post(f"/meetings/{meeting.id}/signed-minutes",
                               data={"file": (io.BytesIO(PDF), "x.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 403
    assert count(Attachment) == 1
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "attachment")
                               ).scalar_one()
    assert audit.action == "attach" and audit.changes["meeting_id"] == [None, meeting.id]


def test_sizes_read_as_words(app):
    from tracker.attachments import human_size

    with app.test_request_context():
        assert human_size(820) == "820 bytes"
        assert human_size(12 * 1024) == "12 KB"
        assert human_size(int(1.2 * 1024 * 1024)) == "1.2 MB"
