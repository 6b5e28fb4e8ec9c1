"""Who may do what, and in which state of a record, is decided in ``tracker/permissions.py``
only: templates, views and operations ask ``can`` (operations ``state_allows``) instead of
comparing a record's ``role`` or ``status`` with a literal.

Read from the source: an AST walk for the Python of ``views/`` and ``tracker/operations/``,
a regular expression for ``templates/``. A comparison of a model's column
(``Milestone.status == "open"``, building a query) is not a decision and is not looked at.
A comparison that only chooses words or a style, never what a person may do, is listed in
``DISPLAY_ONLY`` with its reason; keep that list short.
"""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("role", "status")

# (file, the comparison as written) -> why it decides no permission.
DISPLAY_ONLY = {
    ("templates/bottlenecks/show.html", "bottleneck.status != 'resolved'"):
        "the SLA badge: 'within SLA' is shown only while the bottleneck is unresolved",
    ("templates/bottlenecks/index.html", "b.status != 'resolved'"):
        "the same SLA badge in the list",
    ("templates/meetings/show.html", "meeting.status == 'planned'"):
        "the hint under the agenda: 'can be changed until held' or 'as discussed on …'",
    ("templates/meetings/show.html", "meeting.status != 'planned'"):
        "minutes and decisions exist from the meeting held on: the section is shown then",
    ("templates/meetings/left_off.html", "meeting.status != 'planned'"):
        "says the count is as on the day held",
    ("templates/attachments/_signed_minutes.html", "meeting.status == 'minutes_final'"):
        "'no signed copy yet' or 'can be attached once final', to every reader",
    ("templates/home/nic.html", "plan.status == 'returned'"):
        "what a plan in the work list needs: 'returned, resubmit' or 'being revised'",
    ("templates/departments/show.html", "plan.status == 'returned'"):
        "shows the Secretary's comment on a returned plan",
    ("tracker/operations/milestones.py", "milestone.status == 'completed'"):
        "keeps the completion date already recorded when a completed milestone is saved again",
}

_TEMPLATE_COMPARISON = re.compile(
    r"""(?P<left>\b[a-z_][\w.]*\.(?:role|status))\s*(?P<op>==|!=|\bnot\s+in\b|\bin\b)\s*"""
    r"""(?P<right>'[^']*'|"[^"]*"|\([^)]*\)|\[[^\]]*\])"""
    r"""|(?P<lit>'[^']*'|"[^"]*")\s*(?P<op2>==|!=)\s*(?P<attr>\b[a-z_][\w.]*\.(?:role|status))\b"""
)


def _literal(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and bool(node.elts) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)


def _record_attribute(node):
    """``x.role``/``x.status`` of a record (not ``Model.status``, a column in a query)."""
    if not (isinstance(node, ast.Attribute) and node.attr in WATCHED):
        return False
    base = node.value
    while isinstance(base, ast.Attribute):
        base = base.value
    return not (isinstance(base, ast.Name) and base.id[:1].isupper())


def _as_written(node):
    """The comparison in the template's spelling: single quotes, as DISPLAY_ONLY has it."""
    return ast.unparse(node).replace('"', "'")


def python_offenders(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if any(_record_attribute(o) for o in operands) and any(_literal(o) for o in operands):
            found.append((node.lineno, _as_written(node)))
    return found


def template_offenders(text):
    found = []
    for match in _TEMPLATE_COMPARISON.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append((line, re.sub(r"\s+", " ", match.group(0)).strip()))
    return found


def _sources():
    for folder in ("views", "tracker/operations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, python_offenders(path)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        yield path, template_offenders(path.read_text(encoding="utf-8"))


def test_no_role_or_state_decision_outside_permissions():
    offenders, allowed_seen = [], set()
    for path, found in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for line, text in found:
            if (rel, text) in DISPLAY_ONLY:
                allowed_seen.add((rel, text))
                continue
            offenders.append(f"{rel}:{line}: {text}")
    assert offenders == [], (
        "Ask can(user, action, record) (operations: permissions.state_allows) instead of "
        "comparing role or status:\n" + "\n".join(offenders))
    assert set(DISPLAY_ONLY) - allowed_seen == set(), "DISPLAY_ONLY lists what is gone"


def test_the_guard_catches_both_spellings():
    python = ast.parse(
        "if meeting.status == 'planned':\n    pass\n"
        "ok = user.role in ('nic', 'secretary')\n"
        "q = sa.select(Milestone).where(Milestone.status == 'open')\n"
        "same = form.status.data == status\n"
    )
    found = [(n.lineno, _as_written(n)) for n in ast.walk(python) if isinstance(n, ast.Compare)
             and any(_record_attribute(o) for o in [n.left, *n.comparators])
             and any(_literal(o) for o in [n.left, *n.comparators])]
    assert found == [(1, "meeting.status == 'planned'"),
                     (3, "user.role in ('nic', 'secretary')")]
    assert template_offenders(
        "{% if plan.status == 'submitted' and can('review_plan', plan) %}\n"
        "{% if current_user.role != 'nodal' %}{% if 'held' == meeting.status %}\n"
        "<option {% if s == status %}selected{% endif %}>\n"
    ) == [(1, "plan.status == 'submitted'"), (2, "current_user.role != 'nodal'"),
          (2, "'held' == meeting.status")]
