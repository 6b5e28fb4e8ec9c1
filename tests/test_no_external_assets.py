"""No page of the app loads a script or a stylesheet from another host (government
intranets are often closed, and the CSP allows only 'self'), and no page runs inline script.

The test walks the app as each role: every GET route without arguments, then every link
found on those pages (same host only), down to a bounded number of pages.
"""
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from tests import dashboard_data, factories
from tracker import clock

MAX_PAGES = 150
DOWNLOADS = (".csv", ".xlsx", ".pdf", ".zip")
PER_PATH = 2  # pages differing only in their query string share a template


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.stylesheets, self.links, self.inline_scripts = [], [], [], []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            else:
                self._in_script = a.get("type") or "text/javascript"
        elif tag == "link":
            rel = (a.get("rel") or "").lower()
            if "stylesheet" in rel or "preload" in rel or "modulepreload" in rel:
                self.stylesheets.append(a.get("href") or "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name, value in attrs:
            if name.startswith("on"):
                self.inline_scripts.append(f"{tag} {name}")
            if name in ("href", "src") and value and value.strip().lower().startswith("javascript:"):
                self.inline_scripts.append(f"{tag} {name}=javascript:")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script and self._in_script != "application/json" and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def _is_local(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def _start_urls(app):
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            urls.append(rule.rule)
    return sorted(urls)


def _crawl(client, start):
    seen, queue, pages, per_path = set(), deque(start), {}, {}
    while queue and len(pages) < MAX_PAGES:
        url = urldefrag(queue.popleft())[0]
        if (url in seen or not url.startswith("/") or "sign-out" in url
                or urlsplit(url).path.endswith(DOWNLOADS)):
            continue
        seen.add(url)
        path = urlsplit(url).path
        if per_path.get(path, 0) >= PER_PATH:
            continue
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[url] = html
        parser = _Assets()
        parser.feed(html)
        for link in parser.links:
            link = link.replace("&amp;", "&")
            if _is_local(link) and link not in seen:
                queue.append(link)
    return pages


@pytest.mark.parametrize("role", ["secretary", "nodal", "viewer", "admin"])
def test_no_page_loads_assets_from_another_host(app, as_user, role):
    today = clock.today()
    known = dashboard_data.build(today)
    user = factories.user(role, department=known.health if role == "nodal" else None)
    client = as_user(user)
    pages = _crawl(client, ["/"] + _start_urls(app))
    assert "/dashboard/" in pages and "/" in pages
    assert len(pages) > 5
    assert any(url.startswith("/dashboard/records") for url in pages)
    problems = []
    for url, html in pages.items():
        parser = _Assets()
        parser.feed(html)
        for src in parser.scripts + parser.stylesheets:
            if not _is_local(src):
                problems.append(f"{url}: {src}")
        for snippet in parser.inline_scripts:
            problems.append(f"{url}: inline script {snippet!r}")
        for found in re.findall(r"@import\s+url\(\s*['\"]?(https?:)?//", html):
            problems.append(f"{url}: @import from another host")
    assert problems == []


def test_the_stylesheets_import_nothing_from_another_host(app, client):
    from pathlib import Path

    for css in Path(app.static_folder).rglob("*.css"):
        text = css.read_text()
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), css
        assert not re.search(r"@import\s+['\"]?(https?:)?//", text), css


def test_the_crawler_would_see_an_external_script(app):
    parser = _Assets()
    parser.feed('<script src="https://cdn.plot.ly/plotly.min.js"></script>'
                '<link rel="stylesheet" href="//fonts.example/x.css"><script>alert(1)</script>'
                '<script type="application/json">{"a": 1}</script>')
    assert [s for s in parser.scripts + parser.stylesheets if not _is_local(s)] == [
        "https://cdn.plot.ly/plotly.min.js", "//fonts.example/x.css"]
    assert parser.inline_scripts == ["alert(1)"]
