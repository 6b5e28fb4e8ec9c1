"""Languages: the Hindi catalogue is complete and the main pages leave no English behind."""
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po

from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.i18n import TRANSLATIONS

PO = TRANSLATIONS / "hi" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%|%[sd]|\{[a-z_]*\}")


def catalogue(path=PO):
    with path.open("rb") as f:
        return read_po(f)


class _Text(HTMLParser):
    """The text a reader meets: text nodes plus titles, labels, placeholders, values of buttons."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name in ("title", "aria-label", "placeholder", "alt"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html):
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_left(text, data=()):
    """The English interface strings (msgids of the catalogue) still in ``text``, data aside."""
    for value in data:
        text = text.replace(value, " ")
    left = []
    for message in catalogue():
        if not message.id or isinstance(message.id, tuple):
            continue
        words = message.id.replace("%%", "%")
        # Compare the fixed words around any placeholder, as whole words.
        for piece in PLACEHOLDER.split(words):
            piece = piece.strip(" .,:;()")
            if len(piece) >= 2 and re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", text):
                left.append(piece)
    return sorted(set(left))


def test_the_template_has_every_interface_string_and_hindi_translates_them_all():
    template = {m.id for m in catalogue(POT) if m.id}
    hindi = catalogue()
    assert template, "translations/messages.pot is empty: run `make translations`"
    missing = sorted(i for i in template if i not in hindi or not hindi[i].string)
    assert not missing, f"no Hindi for {missing} (run `make translations`, then translate)"
    untranslated = [m.id for m in hindi if m.id and not all(forms(m.string))]
    fuzzy = [m.id for m in hindi if m.id and m.fuzzy]
    assert not untranslated and not fuzzy, (untranslated, fuzzy)


def forms(value):
    """A message's id or string as a tuple: plural entries (ngettext) have one per form."""
    return value if isinstance(value, (tuple, list)) else (value,)


def test_hindi_keeps_every_placeholder():
    for message in catalogue():
        if message.id:
            ids = forms(message.id)
            for n, string in enumerate(forms(message.string)):
                assert sorted(PLACEHOLDER.findall(ids[min(n, len(ids) - 1)])) == sorted(
                    PLACEHOLDER.findall(string)), message.id


def test_hindi_is_written_in_devanagari():
    for message in catalogue():
        if message.id and message.id not in ("NIC", "PSGA"):
            for string in forms(message.string):
                assert re.search("[\u0900-\u097f]", string), (message.id, string)


def test_every_template_string_is_in_the_catalogue():
    """A string added to a template after the last `make translations` is caught here."""
    from babel.messages.extract import extract_from_dir

    known = {m.id for m in catalogue(POT)}
    root = TRANSLATIONS.parent
    found = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map=[("templates/**.html", "jinja2"), ("tracker/**.py", "python"),
                               ("views/**.py", "python")],
        keywords={"_": None, "gettext": None, "_l": None, "N_": None, "lazy_gettext": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    assert not sorted(found - known), "run `make translations`: " + repr(sorted(found - known))


@pytest.fixture
def roadmap(app):
    today = clock.today()
    dept = factories.department("health", name="Health & Family Welfare", psga_covered=True)
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, code="H-01", title="Birth certificates online", today=today,
                        due_date=today - timedelta(days=3))
    factories.milestone(plan=plan, code="H-02", title="Hospital queue system", today=today,
                        status="in_progress", due_date=today + timedelta(days=5))
    factories.milestone(plan=plan, code="H-03", title="Drug stock register", today=today,
                        status="completed")
    factories.department("pwd", name="Public Works")
    secretary = factories.user("secretary", name="Padma Angmo", email="padma@ladakh.example")
    return dept, secretary


DATA = ("Health & Family Welfare", "Health &amp; Family Welfare", "Birth certificates online",
        "Hospital queue system", "Drug stock register", "Public Works", "Padma Angmo",
        "H-01", "H-02", "H-03", "health", "pwd", "English")


def hindi_page(client, path, **kw):
    client.post("/language", data={"language": "hi", "next": path})
    response = client.get(path, **kw)
    html = response.get_data(as_text=True)
    assert '<html lang="hi">' in html
    return response, visible_text(html)


def test_sign_in_page_and_its_errors_have_no_english_left_in_hindi(app, client):
    client.post("/language", data={"language": "hi", "next": "/sign-in"})
    html = client.post("/sign-in", data={"email": "", "password": ""}).get_data(as_text=True)
    text = visible_text(html)
    assert "साइन इन" in text
    assert english_left(text, DATA) == []
    html = client.post("/sign-in", data={"email": "nobody@ladakh.example",
                                         "password": "wrong"}).get_data(as_text=True)
    assert english_left(visible_text(html), DATA + ("nobody@ladakh.example",)) == []


def test_main_pages_have_no_english_left_in_hindi(app, client, auth, roadmap):
    dept, secretary = roadmap
    auth.sign_in(secretary)
    for path in ("/", "/departments/health", "/departments/nope"):
        response, text = hindi_page(client, path)
        assert english_left(text, DATA) == [], path
    # the data stays as entered
    assert "Birth certificates online" in hindi_page(client, "/departments/health")[1]


def test_english_pages_show_the_english_strings(app, client, auth, roadmap):
    """The check above can fail: the same pages in English are full of catalogue strings."""
    dept, secretary = roadmap
    auth.sign_in(secretary)
    text = visible_text(client.get("/departments/health").get_data(as_text=True))
    assert {"Milestones", "Overdue", "Nodal officer"} <= set(english_left(text, DATA))


def test_dates_are_day_month_year_in_both_languages(app, client, auth, roadmap):
    dept, secretary = roadmap
    auth.sign_in(secretary)
    today = clock.today()
    due = (today - timedelta(days=3)).strftime("%d-%m-%Y")
    assert due in client.get("/departments/health").get_data(as_text=True)
    assert due in hindi_page(client, "/departments/health")[1]


def test_the_choice_of_language_is_remembered_after_sign_in_and_sign_out(app, client, auth):
    user = factories.user("secretary", name="Padma Angmo")
    client.post("/language", data={"language": "hi", "next": "/sign-in"})
    assert 'lang="hi"' in client.get("/sign-in").get_data(as_text=True)
    auth.sign_in(user)
    assert 'lang="hi"' in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "hi"
    auth.sign_out()
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'lang="hi"' in html and "आपने साइन आउट कर दिया है" in html


def test_the_date_filter_shows_day_month_year():
    from tracker.templating import format_date

    assert format_date(date(2026, 3, 7)) == "07-03-2026"


def test_the_browser_language_is_used_until_one_is_chosen(app, client):
    html = client.get("/sign-in", headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"})
    assert '<html lang="hi">' in html.get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/sign-in"})
    html = client.get("/sign-in", headers={"Accept-Language": "hi-IN,hi;q=0.9"})
    assert '<html lang="en">' in html.get_data(as_text=True)


def test_an_unknown_language_is_ignored_and_next_stays_on_this_site(app, client):
    response = client.post("/language", data={"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]
    assert '<html lang="en">' in client.get("/sign-in").get_data(as_text=True)


def test_stored_codes_are_shown_in_the_readers_language(app):
    from flask_babel import force_locale

    from tracker.labels import label

    with app.test_request_context():
        assert label("milestone_status", "in_progress") == "In progress"
        assert label("milestone_status", "something_new") == "Something new"  # unknown: as words
        with force_locale("hi"):
            assert label("milestone_status", "in_progress") == "प्रगति पर"
            assert label("health", "overdue") == "समय सीमा पार"


def test_the_service_register_speaks_hindi(app, client, auth):
    """Flash messages and validation errors of the registers come from the catalogue."""
    own = factories.department("own", name="Own Department")
    factories.service(department=own, name="Birth certificate")
    auth.sign_in(factories.user("nodal", department=own, name="Nodal Officer"))
    form = {"department": "own", "name": "Domicile certificate", "psga_notified": "y",
            "time_limit_days": "7", "designated_officer": "Tehsildar",
            "delivery_mode": "integrated", "url": "https://own.ladakh.example/domicile",
            "target_date": "2026-12-31", "milestone": ""}
    response, text = hindi_page(client, "/services/new")
    assert english_left(text, ("Own Department", "Nodal Officer", "own")) == []

    response = client.post("/services/new", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "सेवा “Domicile certificate” जोड़ी गई।" in visible_text(response.get_data(as_text=True))

    response = client.post("/services/new", data={**form, "name": "Birth certificate",
                                                  "time_limit_days": "", "url": "ftp://x"})
    assert response.status_code == 422
    text = visible_text(response.get_data(as_text=True))
    assert "इस विभाग में इस नाम की सेवा पहले से है।" in text
    assert "PSGA के अंतर्गत अधिसूचित सेवा के लिए दिनों में उसकी समय सीमा आवश्यक है।" in text
    assert "http:// या https:// से शुरू होने वाला वेब पता दर्ज करें।" in text
    assert "This department already has a service with this name." not in text


def test_the_website_register_speaks_hindi(app, client, auth):
    own = factories.department("own", name="Own Department")
    auth.sign_in(factories.user("nodal", department=own, name="Nodal Officer"))
    hindi_page(client, "/websites/new")
    response = client.post("/websites/new", data={
        "department": "own", "name": "Own portal", "kind": "website",
        "url": "https://own.ladakh.example/", "hosted_by": "nic"}, follow_redirects=True)
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert "“Own portal” रजिस्टर में जोड़ा गया।" in text
    assert "कभी ऑडिट नहीं हुआ" in text  # the compliance states are translated too
