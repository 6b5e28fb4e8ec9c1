"""What every journey test checks on every page it visits.

- ``check_a11y(page)``: axe-core (bundled by axe-playwright-python, injected from the local
  file, never a CDN) with the WCAG 2.1 A and AA rules; fails on any serious or critical
  violation and prints every violation found.
- ``check_keyboard(page)``: walks the page with Tab: the skip link is the first stop and moves
  focus to ``main``; every stop shows a visible focus indicator; the order follows the page;
  Tab leaves the page and comes back to the top (no trap).
- ``check_phone_width(page)``: nothing wider than the viewport (no sideways scrolling).
- ``screenshot(page, name)``: a full-page PNG under ``artifacts/screenshots/``.
"""
from pathlib import Path

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")

_axe = None


def _axe_runner():
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    return _axe


def axe_violations(page):
    """Every WCAG 2.1 A/AA violation axe finds on the page as it is now."""
    results = _axe_runner().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                       "resultTypes": ["violations"]}
    )
    return results.response["violations"]


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def check_a11y(page):
    """Zero serious or critical WCAG 2.1 A/AA violations on the current page."""
    violations = axe_violations(page)
    if violations:
        print(f"axe on {page.url}:\n{describe(violations)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe found on {page.url}:\n{describe(blocking)}"
    return violations


_FOCUS_INFO = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const all = Array.from(document.querySelectorAll('*'));
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: el.className || '',
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    href: el.getAttribute('href'), index: all.indexOf(el),
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow, visible: box.width > 0 && box.height > 0,
    inMain: !!el.closest('main'),
  };
}"""


def focus_info(page):
    return page.evaluate(_FOCUS_INFO)


def has_focus_indicator(info):
    return (info["outlineStyle"] != "none" and info["outlineWidth"] > 0) or (
        info["boxShadow"] not in ("", "none"))


def tab_stops(page, limit=80):
    """Tab from the top of the freshly loaded page until focus leaves the page or wraps back
    to the first stop: ``(stops in order, the first stop focused again after them or None)``."""
    page.goto(page.url.split("#")[0])
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focus_info(page)
        if info is None:  # focus left the page (the browser's own controls)
            page.keyboard.press("Tab")
            return stops, focus_info(page)
        if stops and info["index"] == stops[0]["index"]:
            return stops, info
        if stops and info["index"] == stops[-1]["index"]:
            continue  # the next part of the same control (day, month, year of a date input)
        stops.append(info)
    raise AssertionError(f"Tab never reached the end of {page.url} after {limit} stops "
                         f"(a keyboard trap?): {[s['text'] or s['tag'] for s in stops[-5:]]}")


def check_keyboard(page):
    """The page can be used by keyboard alone: see the module docstring. Returns the stops."""
    url = page.url
    stops, back = tab_stops(page)
    assert stops, f"nothing on {url} can be reached with Tab"
    first = stops[0]
    assert "skip-link" in first["cls"] and first["href"] == "#main", (
        f"the first Tab stop on {url} is {first}, not the skip link")
    for stop in stops:
        assert stop["visible"], f"focus went to an invisible element on {url}: {stop}"
        assert has_focus_indicator(stop), f"no visible focus indicator on {url}: {stop}"
    indexes = [s["index"] for s in stops]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes), (
        f"the Tab order on {url} does not follow the page: "
        f"{[s['text'] or s['tag'] for s in stops]}")
    # No trap: after the last stop, Tab comes back to the skip link at the top.
    assert back is not None and "skip-link" in back["cls"], (
        f"after the last stop on {url}, Tab did not come back to the top: {back}")
    # The skip link moves focus to the main content.
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash === '#main'")
    assert page.evaluate("() => document.activeElement.id") == "main", (
        f"the skip link on {url} did not move focus to main")
    page.keyboard.press("Tab")
    after = focus_info(page)
    if any(s["inMain"] for s in stops):
        assert after is not None and after["inMain"], (
            f"after the skip link on {url}, Tab went to {after}, not into the main content")
    return stops


def check_phone_width(page):
    """No sideways scrolling: the document is no wider than the viewport."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} is {scroll_width}px wide at a {width}px viewport "
        f"(widest: {widest_elements(page)})")


def widest_elements(page):
    return page.evaluate("""() => {
      const w = document.documentElement.clientWidth;
      return Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > w)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right);
    }""")


def screenshot(page, name):
    """Save a full-page screenshot as artifacts/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


PHONE = 375


def checked(page, name):
    """axe at the page's width and a phone's, no sideways scrolling on the phone, screenshots
    at both; plotly.js redraws its charts for the new width (responsive), so charts are
    waited for first. The page is left at its width."""
    check_a11y(page)
    screenshot(page, name)
    size = page.viewport_size
    page.set_viewport_size({"width": PHONE, "height": size["height"]})
    try:
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.chart .main-svg'))
            .every(s => s.getBoundingClientRect().right <= document.documentElement.clientWidth)""")
        check_phone_width(page)
        check_a11y(page)
        screenshot(page, name)
    finally:
        page.set_viewport_size(size)


def release():
    """End the test thread's transaction, so the server thread can write (see conftest)."""
    from tracker.extensions import db

    db.session.commit()


def sign_in(page, user, password=factories.PASSWORD):
    """Sign in through the form, as a person would with a mouse."""
    email = getattr(user, "email", user)
    release()
    page.goto("/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)

