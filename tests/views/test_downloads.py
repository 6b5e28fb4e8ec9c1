"""The one download response (views/downloads.py): every workbook and CSV a page sends."""
from datetime import date

from views.downloads import XLSX_MIMETYPE, csv_response, dated, xlsx_response


def test_a_workbook_downloads_under_its_name(app):
    with app.test_request_context():
        response = xlsx_response(b"PK\x03\x04 workbook", "roadmap-2026-12-04.xlsx")
    assert response.mimetype == XLSX_MIMETYPE
    assert response.headers["Content-Disposition"] == "attachment; filename=roadmap-2026-12-04.xlsx"
    assert response.get_data() == b"PK\x03\x04 workbook"


def test_a_name_beyond_ascii_keeps_a_plain_one_beside_it(app):
    with app.test_request_context():
        response = xlsx_response(b"PK", "रोडमैप-Leh.xlsx")
    disposition = response.headers["Content-Disposition"]
    assert "filename=-Leh.xlsx" in disposition
    assert "filename*=UTF-8''%E0%A4%B0" in disposition


def test_chunks_are_streamed(app):
    def chunks():
        yield "\ufeffcode,title\r\n"
        yield "M-1,Portal\r\n"

    with app.test_request_context():
        response = csv_response(chunks(), "milestones.csv")
        assert response.is_streamed
        assert response.mimetype == "text/csv"
        body = b"".join(response.iter_encoded()).decode("utf-8")
    assert body == "\ufeffcode,title\r\nM-1,Portal\r\n"


def test_dated_names_the_day(app):
    assert dated("atr", date(2026, 12, 4)) == "atr-2026-12-04.xlsx"
    assert dated("dashboard-health", date(2026, 1, 2), "csv") == "dashboard-health-2026-01-02.csv"
