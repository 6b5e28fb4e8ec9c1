"""Every page of the app in Hindi: no English of the interface left, the data aside.

The walk takes every HTML page of the authorization matrix (``ROUTES``) as a role that may
see it, in the world of ``route_walk.build_world`` (built once for the module:
``route_world``), and looks at the text a reader meets.
Everything stored in the database is data (it stays as entered) and is taken out first;
what is left must not hold a word in Latin letters, except the few names that are the
same in both languages (``SAME_IN_HINDI``). The messages that follow an action (flash
messages, the errors of a refused change) are checked the same way in
``test_messages_after_actions_are_in_hindi``.
"""
import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.route_walk import sign_in_as, user_of
from tests.test_authorization_matrix import ROUTES
from tests.test_i18n import english_left, visible_text
from tracker.extensions import db

# Names, abbreviations and file types written the same way in a Hindi interface.
SAME_IN_HINDI = {
    "NIC", "PSGA", "ATR", "URL", "HTTP", "HTTPS", "API", "JSON", "OpenAPI", "CSV",
    "Excel", "xlsx", "XLSX", "English", "Plotly", "WCAG", "Bearer", "Authorization", "DD",
    "MM", "YYYY", "HEALTH", "Roadmap", "Tracker", "Ladakh", "CSRF", "PDF", "PNG", "JPEG",
}
# Readers who see the page, best first: the first whose matrix line answers 200.
READERS = ("secretary", "nic", "nodal_own", "admin", "viewer")
# Pages that are not HTML for a reader: downloads, the chart library, the API.
NOT_PAGES = re.compile(r"(xlsx|_csv|download|export|plotly_js|openapi|^static$|^api\.)")
LATIN_WORD = re.compile(r"(?<![\w@./-])[A-Za-z][A-Za-z’'-]*[A-Za-z](?![\w@/-])")


def _pages():
    for endpoint, spec in sorted(ROUTES.items()):
        if spec.api or spec.GET is None or NOT_PAGES.search(endpoint):
            continue
        reader = next((r for r in READERS if spec.expected("GET", r) == 200), None)
        if reader:
            yield endpoint, reader


PAGES = list(_pages())


def _strings(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif value not in (None, "") and not isinstance(value, bool):
        yield str(value)


def stored_text():
    """Every text value in the database (JSON keys and values too): the data of the pages."""
    values = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns
                   if isinstance(c.type, (sa.String, sa.Text, sa.JSON))]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            values.update(_strings(list(row)))
    return sorted(values, key=len, reverse=True)


def english_words_left(text, data):
    """The words in Latin letters of ``text`` once the data, e-mail and web addresses are
    taken out (each data value as a whole word, so "nic" leaves "Technical" alone)."""
    for value in sorted(set(data), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    text = re.sub(r"\S+@\S+\.\w+", " ", text)
    text = re.sub(r"https?://\S*", " ", text)
    return sorted({w for w in LATIN_WORD.findall(text) if w not in SAME_IN_HINDI})


def page_text(html):
    """What a reader meets, less code (``<code>``, ``<pre>``: paths, commands, field names)."""
    return visible_text(re.sub(r"<(code|pre)\b.*?</\1>", " ", html, flags=re.S))


def api_reference():
    """The texts of the OpenAPI description: the API's reference, in English like the
    machine-readable description it is read from."""
    from views.api.openapi import spec

    return sorted(set(_strings(spec())), key=len, reverse=True)


def hindi(client, user):
    sign_in_as(client, user)
    client.post("/language", data={"language": "hi", "next": "/"})
    return client


def test_the_walk_covers_the_pages_of_every_area():
    areas = {endpoint.split(".")[0] for endpoint, _ in PAGES}
    assert {"home", "departments", "dashboard", "plans", "milestones", "bottlenecks",
            "flags", "meetings", "services", "websites", "reports", "audit", "profile",
            "notifications"} <= areas
    assert len(PAGES) >= 35


@pytest.mark.parametrize("endpoint,reader", PAGES, ids=[e for e, _ in PAGES])
def test_every_page_in_hindi_has_no_english_left(app, client, route_world, endpoint, reader):
    from flask import url_for

    spec = ROUTES[endpoint]
    world = route_world
    if spec.prepare:
        spec.prepare(world)
        db.session.commit()
    hindi(client, user_of(world, reader))
    with app.test_request_context():
        url = url_for(endpoint, **spec.url_args(world))
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    assert '<html lang="hi">' in html, url
    text = page_text(html)
    data = stored_text() + (api_reference() if endpoint == "api_help.index" else [])
    left = english_words_left(text, data)
    assert left == [], f"English left on {url}: {' '.join(left)}"
    assert english_left(text, sorted(set(data), key=len, reverse=True)) == [], url


def test_the_check_finds_english(app, client, route_world):
    """The same walk in English finds English words: the check above can fail."""
    world = route_world
    sign_in_as(client, world.users.secretary)
    text = page_text(client.get("/meetings/").get_data(as_text=True))
    assert {"Review", "meetings", "Sign", "out"} <= set(english_words_left(text, stored_text()))


def _flash_text(response):
    html = response.get_data(as_text=True)
    assert '<html lang="hi">' in html
    return visible_text(html)


def test_messages_after_actions_are_in_hindi(app, client, route_world):
    """Flash messages and the refusals of the operations, in Hindi."""
    world = route_world
    hindi(client, world.users.secretary)
    data = stored_text()
    # A meeting planned: the flash message with its count.
    response = client.post("/meetings/new", data={
        "title": "Review", "meeting_date": world.today.isoformat(), "venue": "", "chair": "",
        "attendees-0-name": "", "attendees-0-designation": "", "attendees-0-department_id": "0",
    }, follow_redirects=True)
    text = _flash_text(response)
    assert "बैठक" in text
    assert english_words_left(text, stored_text()) == []
    # An agenda change on a held meeting is refused, in Hindi.
    response = client.post(f"/meetings/{world.held_meeting.id}/agenda",
                           data={"title": "Late item", "details": "", "department_id": "0"},
                           follow_redirects=True)
    text = _flash_text(response)
    assert "संभव नहीं" in text, text
    assert english_words_left(text, stored_text() + ["Late item"]) == []
    # Closing an action item without a note: the operation's message beside the field.
    sign_in_as(client, world.users.nodal_own)
    response = client.post(f"/meetings/action-items/{world.action_item.id}", data={
        "status": "done", "closing_note": "", "version": world.action_item.version})
    assert response.status_code == 422
    text = _flash_text(response)
    assert "समापन टिप्पणी" in text, text
    assert english_words_left(text, data) == []


def test_a_refused_plan_import_lists_its_problems_in_hindi(app, client, route_world):
    import io

    from tests.test_plan_import import filled_template

    world = route_world
    hindi(client, world.users.nic)
    row = ("nope", "X-1", "A title", None, "Unknown", None, None, "someday", "Finished", 0, None)
    data = filled_template([row], codes=(("own", "Own Department"),))
    response = client.post("/reports/import", data={"file": (io.BytesIO(data), "plan.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    text = visible_text(response.get_data(as_text=True))
    assert "ज्ञात विभाग कोड नहीं" in text, text
    headings = ["Department code", "Milestone code", "Category", "Due date", "Status",
                "Milestones", "plan.xlsx"]
    assert english_words_left(text, stored_text() + headings + [str(v) for v in row if v]) == []


def test_operations_outside_a_request_speak_english(app):
    """The CLI and the jobs run in no request: the default language, not an error."""
    from tracker.operations import bottlenecks as ops
    from tracker.operations.errors import ValidationError

    b = factories.bottleneck()
    with pytest.raises(ValidationError) as refused:
        ops.resolve_bottleneck(b, None, note=" ", today=b.raised_on)
    assert refused.value.messages == ["Say how the bottleneck was resolved."]
