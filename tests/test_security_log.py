"""The security log's format: local time with its offset, and lines that cannot be forged."""
import logging
import re
from datetime import datetime, timezone

from tracker.platform import security_log


def test_formatter_stamps_lines_with_the_local_offset():
    formatter = security_log.IsoFormatter("Asia/Kolkata")
    record = logging.LogRecord("tracker.security", logging.INFO, __file__, 1, "event=x", None, None)
    record.created = datetime(2026, 3, 1, 4, 30, 0, 250000, tzinfo=timezone.utc).timestamp()
    assert formatter.format(record) == (
        "2026-03-01T10:00:00.250+05:30 INFO tracker.security: event=x")


def test_local_iso_reads_naive_times_as_utc(app):
    assert security_log.local_iso(datetime(2026, 1, 1, 20, 0)) == "2026-01-02T01:30:00.000+05:30"


def test_a_typed_value_cannot_start_a_line_of_its_own(app, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    with app.test_request_context("/sign-in", method="POST"):
        security_log.event("sign_in_failed",
                           email='x@y.example\n2026-01-01T00:00:00+05:30 event=sign_in user=1')
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in line
    assert 'email="x@y.example\\n2026-01-01T00:00:00+05:30 event=sign_in user=1"' in line
    assert re.match(r"event=sign_in_failed at=\S+ user=- email=", line)


def test_security_events_also_go_to_the_configured_file(tmp_path, database_url):
    from tracker import create_app

    path = tmp_path / "security.log"
    logger = logging.getLogger("tracker.security")
    before = list(logger.handlers)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": False,
                      "SECURITY_LOG_FILE": str(path)})
    try:
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
            security_log.event("access_refused", status=403)
        for handler in logger.handlers:
            handler.flush()
        text = path.read_text()
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30 INFO tracker.security: "
                        r"event=access_refused ", text), text
        assert "ip=10.1.2.3" in text and "status=403" in text
    finally:
        for handler in set(logger.handlers) - set(before):
            logger.removeHandler(handler)
            handler.close()
