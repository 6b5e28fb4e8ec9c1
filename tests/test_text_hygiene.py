"""Text hygiene: bidirectional overrides and control characters are refused in forms, imports
and (tests/api/test_hostile_input.py) the API, with a message naming the field."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from exports.plan_import import read_plan
from models import Bottleneck, Milestone
from tests import factories
from tests.test_plan_import import GOOD, filled_template
from tracker import clock
from tracker.extensions import db
from tracker.text import hidden_character


@pytest.mark.parametrize("text, multiline, found", [
    ("plain words", False, None),
    ("हिन्दी और English", False, None),
    ("mixed \u200fمرحبا\u200e marks", False, None),  # left-to-right / right-to-left marks stay
    ("line one\nline two\ttabbed\r\n", True, None),
    ("line one\nline two", False, "U+000A"),
    ("invoice\u202Efdp.exe", True, "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("isolate \u2067x\u2069", True, "U+2067 (RIGHT-TO-LEFT ISOLATE)"),
    ("bell \x07", True, "U+0007"),
    ("nul \x00", True, "U+0000"),
    ("c1 \x85", True, "U+0085"),
])
def test_hidden_characters(text, multiline, found):
    result = hidden_character(text, multiline)
    assert (result is None) if found is None else result.startswith(found)


def test_a_form_refuses_an_override_naming_the_field_and_keeps_the_text(app, as_user):
    dept = factories.department("health", name="Health")
    client = as_user(factories.user("nodal", department=dept))
    response = client.post("/departments/health/bottlenecks/new", data={
        "title": "Approve invoice\u202Efdp.exe", "description": "Vendor\u0007 delayed",
        "category": "funds", "severity": "high", "action_by": "", "milestone_id": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "Title contains a hidden control character (U+202E" in page
    assert "Description contains a hidden control character (U+0007" in page
    assert "Approve invoice" in page  # what was typed is kept in the form
    assert db.session.execute(db.select(db.func.count(Bottleneck.id))).scalar() == 0


def test_an_import_names_the_row_and_column(app):
    rows = [list(GOOD[0]), list(GOOD[1])]
    rows[1][2] = "Accessibility\u202E audit"
    found, problems = read_plan(filled_template([tuple(r) for r in rows]), {"health"})
    assert not found or problems
    assert [(p.row, p.column) for p in problems] == [(6, "C (Title)")]
    assert "U+202E" in problems[0].message


def test_the_last_line_of_defence_refuses_any_path(app):
    from tracker.operations.errors import ValidationError

    today = clock.today()
    m = factories.milestone(plan=factories.plan(department=factories.department("pwd")),
                            today=today)
    m.title = "Roads\u202E"
    with pytest.raises(ValidationError) as refused:
        db.session.flush()
    assert list(refused.value.errors) == ["title"]
    db.session.rollback()
    assert "\u202e" not in db.session.get(Milestone, m.id).title
