"""Words, not codes: every stored code has words (``tracker.labels``) in English and Hindi,
and no page, list export or workbook shows a code instead of them.

The walk takes the HTML pages of the authorization matrix (as ``test_i18n_pages`` does), the
Excel and CSV exports of the lists, the chart downloads and every report workbook, on the
route-walk world with records in every status, in English and in Hindi. The stored data
(names, titles, e-mail and web addresses) is taken out of the text first; what is left must
not hold a code: in English none with an underscore (``not_started``, ``at_risk``), in Hindi
none at all (a Hindi reader meets no lowercase Latin word, so ``draft`` or ``nodal`` is a
code shown raw).
"""
import io
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from models.action_plan import PLAN_STATUSES
from models.attachment import ATTACHMENT_PURPOSES
from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.digital_asset import ASSET_KINDS, HOSTS
from models.flag import ESCALATION_LEVELS, FLAG_KINDS, FLAG_SEVERITIES
from models.job_run import OUTCOMES
from models.meeting import ACTION_ITEM_STATUSES, AGENDA_KINDS, MEETING_STATUSES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES, REVISION_REASONS
from models.service import DELIVERY_MODES
from models.user import ROLES
from tests import factories
from tests.route_walk import build_world, sign_in_as, user_of
from tests.test_authorization_matrix import ROUTES
from tests.test_i18n_pages import PAGES, hindi, page_text, stored_text
from tracker import rules
from tracker.extensions import db
from tracker.labels import LABELS, label

# Every code a model or a rule stores, and the kind of its words.
STORED = {
    "milestone_status": MILESTONE_STATUSES,
    "milestone_category": MILESTONE_CATEGORIES,
    "revision_reason": REVISION_REASONS,
    "plan_status": PLAN_STATUSES,
    "bottleneck_category": BOTTLENECK_CATEGORIES,
    "severity": SEVERITIES,
    "bottleneck_status": BOTTLENECK_STATUSES,
    "flag_kind": FLAG_KINDS,
    "flag_severity": FLAG_SEVERITIES,
    "escalation": ESCALATION_LEVELS,
    "role": ROLES,
    "meeting_status": MEETING_STATUSES,
    "agenda_kind": AGENDA_KINDS,
    "action_item_status": ACTION_ITEM_STATUSES,
    "delivery_mode": DELIVERY_MODES,
    "asset_kind": ASSET_KINDS,
    "host": HOSTS,
    "job_outcome": OUTCOMES,
    "attachment_purpose": ATTACHMENT_PURPOSES,
    "health": rules.HEALTHS,
    "age_bucket": rules.AGE_BUCKETS,
}
# Kinds whose words are names, the same in every language.
UNTRANSLATED = {"security_header", "language"}
CODES = sorted({c for codes in STORED.values() for c in codes if re.fullmatch(r"[a-z_]+", c)},
               key=len, reverse=True)
UNDERSCORED = [c for c in CODES if "_" in c]


def test_every_stored_code_has_words():
    missing = [(kind, code) for kind, codes in STORED.items() for code in codes
               if code not in LABELS[kind]]
    assert missing == []


def test_every_label_has_hindi_words(app):
    with app.test_request_context():
        with force_locale("hi"):
            untranslated = [
                (kind, code) for kind, words in LABELS.items() if kind not in UNTRANSLATED
                for code, english in words.items()
                if not re.search("[\u0900-\u097f]", label(kind, code, days=30))
            ]
    assert untranslated == []


def test_a_label_is_in_the_readers_language(app):
    with app.test_request_context():
        assert label("role", "nic") == "NIC officer"
        assert label("escalation", "nic") == "NIC"  # the same code, another kind
        assert label("website_certificate", "expiring", days=30) == "Expires within 30 days"
        assert label("milestone_status", None) == ""
        with force_locale("hi"):
            assert label("milestone_status", "not_started") == "शुरू नहीं हुआ" or \
                re.search("[\u0900-\u097f]", label("milestone_status", "not_started"))


def codes_shown(text, data, language):
    """The stored codes in ``text`` once the data, e-mail and web addresses are taken out."""
    for value in data:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    text = re.sub(r"\S+@\S+\.\w+", " ", text)
    text = re.sub(r"https?://\S*", " ", text)
    codes = UNDERSCORED if language == "en" else CODES
    return sorted({c for c in codes if re.search(rf"(?<![\w@./-]){re.escape(c)}(?![\w@/-])", text)})


def test_the_check_finds_a_code(app):
    assert codes_shown("Status: in_progress", [], "en") == ["in_progress"]
    assert codes_shown("स्थिति: draft", [], "hi") == ["draft"]
    assert codes_shown("Open the draft", [], "en") == []


def richer_world():
    """The route walk's world, with records in the other statuses, kinds and severities."""
    world = build_world()
    world.other.code = "oth"  # a department's code is data; "other" is also a category's code
    f = factories
    today = world.today
    for status in MILESTONE_STATUSES:
        late = status in ("blocked", "not_started")
        f.milestone(plan=world.plan, today=today, status=status, commit=False,
                    due_date=today + timedelta(days=-10 if late else 5))
    for category, severity in zip(BOTTLENECK_CATEGORIES, SEVERITIES * 2):
        f.bottleneck(milestone=world.milestone, category=category, severity=severity,
                     raised_on=today - timedelta(days=40), commit=False)
    f.bottleneck(milestone=world.milestone, status="escalated", severity="critical",
                 raised_on=today - timedelta(days=70), commit=False)
    for kind, severity, escalation in zip(FLAG_KINDS[1:], FLAG_SEVERITIES * 4,
                                          ESCALATION_LEVELS * 4):
        f.flag(kind=kind, subject_id=world.milestone.id, department_id=world.own.id,
               severity=severity, escalation=escalation, commit=False)
    f.service(department=world.own, delivery_mode="online_standalone", commit=False)
    f.service(department=world.own, delivery_mode="integrated", commit=False)
    f.asset(department=world.own, kind="web_app", hosted_by="vendor", commit=False)
    f.asset(department=world.own, kind="mobile_app", hosted_by="department", commit=False)
    f.action_item(meeting=world.held_meeting, department=world.own, status="dropped",
                  closing_note="Not needed.", commit=False)
    db.session.commit()
    return world


class _Signed:
    """A user as the sign-in needs it, read before the test's transaction ends."""

    def __init__(self, user):
        self.id = user.get_id()

    def get_id(self):
        return self.id


def _client_in(app, user, language):
    with app.app_context():
        client = app.test_client()
        if language == "hi":
            hindi(client, user)
        else:
            sign_in_as(client, user)
    return client


def get(app, client, url):
    """``client.get(url)`` in an application context of its own, as in production: the
    test's context would keep the first request's user and language in ``g``."""
    with app.app_context():
        response = client.get(url)
        response.get_data()
        response.close()
        return response


def _world_and_data():
    """The world, the stored data that is not a code, and the test's transaction ended (the
    requests run in sessions of their own; SQLite lets one write at a time)."""
    world = richer_world()
    data = [v for v in stored_text() if v not in CODES]
    return world, data


LANGUAGES = ("en", "hi")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_shows_a_stored_code(app, language):
    from flask import url_for

    world, data = _world_and_data()
    pages = []
    for endpoint, reader in PAGES:
        spec = ROUTES[endpoint]
        if spec.prepare or endpoint == "api_help.index":
            # Pages of a record made for them (their codes are those of the rest), and the API
            # reference, whose vocabulary is the codes.
            continue
        with app.test_request_context():
            pages.append((reader, url_for(endpoint, **spec.url_args(world))))
    users = {reader: _Signed(user_of(world, reader)) for reader, _url in pages}
    db.session.commit()
    clients = {reader: _client_in(app, user, language) for reader, user in users.items()}
    shown = {}
    for reader, url in pages:
        response = get(app, clients[reader], url)
        assert response.status_code == 200, url
        codes = codes_shown(page_text(response.get_data(as_text=True)), data, language)
        if codes:
            shown[url] = codes
    assert len(pages) >= 35
    assert shown == {}


def _cells(content):
    wb = load_workbook(io.BytesIO(content), read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    yield value


# Exports of the lists (``?format=``) and the report workbooks, with who may download them.
LIST_EXPORTS = ("/flags/", "/bottlenecks", "/audit", "/services/", "/websites/",
                "/meetings/action-items", "/dashboard/records?kind=milestones",
                "/dashboard/records?kind=bottlenecks", "/dashboard/records?kind=services",
                "/dashboard/records?kind=websites")
# The workbooks the imports read back stay English (their headers and words are what the
# import understands), whatever the reader's language: checked as English.
ENGLISH_ONLY = ("reports.roadmap_xlsx", "reports.plan_template_xlsx", "services.export")
REPORTS = ("reports.roadmap_xlsx", "reports.bottlenecks_xlsx",
           "reports.department_status_xlsx", "reports.plan_template_xlsx",
           "meetings.atr_xlsx", "meetings.meeting_atr_xlsx", "meetings.minutes_xlsx",
           "services.export", "websites.export")
CHARTS = ("health", "bottlenecks", "services", "progress", "scorecard", "timeline")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_export_shows_a_stored_code(app, language):
    from flask import url_for

    world, data = _world_and_data()
    downloads = []
    for path in LIST_EXPORTS:
        sep = "&" if "?" in path else "?"
        downloads += [path + sep + "format=xlsx", path + sep + "format=csv"]
    with app.test_request_context():
        english = {url_for(e, **ROUTES[e].url_args(world)) for e in ENGLISH_ONLY}
        downloads += [url_for(e, **ROUTES[e].url_args(world)) for e in REPORTS]
        downloads += [url_for("dashboard.download", name=n, fmt=fmt)
                      for n in CHARTS for fmt in ("xlsx", "csv")]
    secretary = _Signed(world.users.secretary)
    db.session.commit()
    client = _client_in(app, secretary, language)
    shown = {}
    for url in downloads:
        response = get(app, client, url)
        assert response.status_code == 200, url
        if response.mimetype == "text/csv":
            text = response.get_data(as_text=True)
        else:
            text = "\n".join(_cells(response.get_data()))
        codes = codes_shown(text, data, "en" if url in english else language)
        if codes:
            shown[url] = codes
    assert shown == {}


def test_remembered_words_are_the_readers_and_end_with_the_export(app):
    """An export words each code once (``remembered``); in the reader's language, and only
    while the export lasts."""
    from flask_babel import force_locale

    from tracker.labels import label, remembered

    with app.test_request_context("/"):
        with force_locale("hi"):
            hindi = label("health", "overdue")
            with remembered():
                assert label("health", "overdue") == hindi
                assert label("health", "overdue") is label("health", "overdue")
                assert label("health", "") == ""
        assert hindi != "Overdue"
        with force_locale("en"):
            assert label("health", "overdue") == "Overdue"  # nothing remembered after it
