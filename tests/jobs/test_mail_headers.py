"""The headers of every mail: Date, Message-ID, Auto-Submitted and a display name in From."""
from datetime import date
from email.utils import parseaddr, parsedate_to_datetime

from jobs import mail
from tests import factories


def _message(app, sender):
    app.config["MAIL_DEFAULT_SENDER"] = sender
    user = factories.user("secretary", name="Asha Dolma")
    with app.test_request_context():
        return mail.build_message(user, [], date(2026, 11, 20))


def test_every_mail_carries_date_message_id_auto_submitted_and_a_sender_name(app):
    message = _message(app, "tracker@ladakh.gov.in")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@ladakh.gov.in>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert parseaddr(message["From"]) == ("Roadmap Tracker", "tracker@ladakh.gov.in")
    assert parseaddr(message["To"]) == ("Asha Dolma", message["To"].split("<")[1].rstrip(">"))


def test_a_sender_with_its_own_name_keeps_it(app):
    message = _message(app, "Planning Department <plan@ladakh.gov.in>")
    assert parseaddr(message["From"]) == ("Planning Department", "plan@ladakh.gov.in")
