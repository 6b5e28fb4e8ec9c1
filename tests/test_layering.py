"""The import arrows of the tree, read from its source (AST, function-level imports included):

- models import only the extensions (``tracker.extensions``) and each other;
- operations (``tracker/operations``) import no views, exports or jobs;
- views import no jobs;
- exports and jobs import no views.

A failure lists every offender as ``file:line imports module``: move the shared piece to the
lower layer rather than excusing it here.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("tracker", "models", "views", "jobs", "exports", "config")


def _imports(path):
    """(line, module) for every import in ``path``, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            # ``from tracker import audit`` imports the module tracker.audit
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _under(module, package):
    return module == package or module.startswith(package + ".")


def _offenders(folder, refused):
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in _imports(path):
            if refused(module):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return sorted(set(found))


def _models_refuse(module):
    if not any(_under(module, p) for p in FIRST_PARTY):
        return False  # the standard library and third-party packages
    return not (_under(module, "models") or module in ("tracker", "tracker.extensions")
                or _under(module, "tracker.extensions"))


RULES = {
    "models": _models_refuse,
    "tracker/operations": lambda m: any(_under(m, p) for p in ("views", "exports", "jobs")),
    "views": lambda m: _under(m, "jobs"),
    "exports": lambda m: _under(m, "views"),
    "jobs": lambda m: _under(m, "views"),
}


@pytest.mark.parametrize("folder", sorted(RULES))
def test_imports_run_the_right_way(folder):
    assert _offenders(folder, RULES[folder]) == []


def test_the_guard_sees_an_offender(tmp_path):
    """The guard itself: a view importing a job, inside a function, is caught."""
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "page.py").write_text(
        "import jobs\n\ndef f():\n    from jobs.scan import run\n    from tracker import rules\n")
    found = []
    for path in sorted((tmp_path / "views").rglob("*.py")):
        found += [(line, m) for line, m in _imports(path) if RULES["views"](m)]
    assert found == [(1, "jobs"), (4, "jobs.scan"), (4, "jobs.scan.run")]
    assert _models_refuse("tracker.extensions") is False
    assert _models_refuse("tracker.i18n") is True
    assert _models_refuse("sqlalchemy.orm") is False
