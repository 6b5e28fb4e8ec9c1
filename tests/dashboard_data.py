"""Known data for the dashboard tests, and a small parser for the pages' tables and figures.

Three departments, relative to ``today``:
- Health (approved plan): m1 done on time, m2 done late (slipped 18 days), m3 overdue,
  m4 overdue and blocked (slipped 29 days), m5 at risk (blocked), m6 on track but stale,
  m7 dropped; open bottlenecks: low 45 days, critical 70 days (escalated), medium 20 days,
  and a resolved one; PSGA services offline, online and integrated (and an integrated one
  not notified); certificates expired, expiring and valid.
- Public Works (submitted plan): m8 on track, m9 at risk through an open high bottleneck
  (3 days old); one PSGA service integrated.
- Rural Development: no plan, nothing else.
"""
import json
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

from models import MilestoneUpdate
from models.base import utcnow
from tests import factories
from tracker.clock import local_midnight_utc
from tracker.extensions import db


@dataclass
class Known:
    health: object
    pwd: object
    rural: object
    milestones: dict


def build(today):
    d = timedelta
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    rural = factories.department("rural", name="Rural Development")
    hp = factories.plan(department=health, status="approved")
    pp = factories.plan(department=pwd, status="submitted")
    ms = {}

    def m(key, plan, **kw):
        kw.setdefault("today", today)
        ms[key] = factories.milestone(plan=plan, code=key.upper(), title=f"Milestone {key}",
                                      commit=False, **kw)

    m("m1", hp, status="completed", completed_on=today - d(10), baseline_due=today - d(5),
      due_date=today - d(5), start_date=today - d(40))
    m("m2", hp, status="completed", completed_on=today - d(3), baseline_due=today - d(20),
      due_date=today - d(2), start_date=today - d(40))
    m("m3", hp, baseline_due=today - d(4), due_date=today - d(4))
    m("m4", hp, status="blocked", baseline_due=today - d(30), due_date=today - d(1))
    m("m5", hp, status="blocked", baseline_due=today + d(40), due_date=today + d(40))
    m("m6", hp, baseline_due=today + d(60), due_date=today + d(60),
      updated_at=utcnow() - d(40), category="website_update")
    m("m7", hp, status="dropped", baseline_due=today + d(10), due_date=today + d(10))
    m("m8", pp, due_date=today + d(20), start_date=today - d(10), percent_complete=60)
    m("m9", pp, due_date=today + d(90))
    db.session.flush()

    factories.bottleneck(milestone=ms["m9"], severity="high", raised_on=today - d(3), commit=False)
    factories.bottleneck(department=health, severity="low", raised_on=today - d(45), commit=False)
    factories.bottleneck(department=health, severity="critical", status="escalated",
                         raised_on=today - d(70), commit=False)
    factories.bottleneck(milestone=ms["m3"], severity="medium", raised_on=today - d(20),
                         commit=False)
    factories.bottleneck(department=health, severity="critical", status="resolved",
                         raised_on=today - d(90), resolved_on=today - d(80), commit=False)

    factories.service(department=health, delivery_mode="offline", commit=False)
    factories.service(department=health, delivery_mode="online_standalone", commit=False)
    factories.service(department=health, delivery_mode="integrated", commit=False)
    factories.service(department=health, delivery_mode="integrated", psga_notified=False,
                      commit=False)
    factories.service(department=pwd, delivery_mode="integrated", commit=False)

    factories.asset(department=health, audit_valid_until=today - d(1), commit=False)
    factories.asset(department=health, audit_valid_until=today + d(10), commit=False)
    factories.asset(department=health, audit_valid_until=today + d(100), commit=False)

    # The completions in the update history (noon local time).
    for key, day in (("m1", today - d(10)), ("m2", today - d(3))):
        db.session.add(MilestoneUpdate(
            milestone=ms[key], at=local_midnight_utc(day) + d(hours=12),
            status_from="in_progress", status_to="completed", percent_from=80, percent_to=100,
        ))
    db.session.commit()
    return Known(health, pwd, rural, ms)


class _PageParser(HTMLParser):
    """Collects every table (by id) as rows of (text, href) cells, and JSON script blocks."""

    def __init__(self):
        super().__init__()
        self.tables, self.json_blocks, self.scripts, self.stylesheets = {}, {}, [], []
        self._table = self._row = self._cell = None
        self._json_id = None
        self._json = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id") or f"table{len(self.tables)}", [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "href": None}
        elif tag == "a" and self._cell is not None:
            self._cell["href"] = a.get("href")
        elif tag == "script":
            self.scripts.append(a)
            if a.get("type") == "application/json":
                self._json_id, self._json = a.get("id"), []
        elif tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.stylesheets.append(a.get("href"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((" ".join(self._cell["text"].split()), self._cell["href"]))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script" and self._json_id:
            self.json_blocks[self._json_id] = json.loads("".join(self._json))
            self._json_id = None

    def handle_data(self, data):
        if self._json_id:
            self._json.append(data)
        elif self._cell is not None:
            self._cell["text"] += data


def parse(html):
    parser = _PageParser()
    parser.feed(html)
    return parser


def trace(figure, name):
    return next(t for t in figure["data"] if t.get("name") == name)


def texts(table):
    """The table's rows as lists of cell texts (header row included)."""
    return [[text for text, _href in row] for row in table]
