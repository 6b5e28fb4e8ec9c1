"""The modules of views/api depend one way: each imports only those before it in LAYERS, at
the top of the module (no import hidden in a function to dodge a cycle), and none imports the
package ``views.api`` itself, which only puts the routes together."""
import ast
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[2] / "views" / "api"
LAYERS = ["errors", "helpers", "schemas", "openapi", "blueprint", "resources", "writes",
          "__init__"]


def _imports(tree):
    """(what a ``views.api`` import takes, at the top level?) for each in the file: the module
    ``views.api.x``, or each name of ``from views.api import a, b`` as ``views.api.a``."""
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "views.api":
            for alias in node.names:
                yield f"views.api.{alias.name}", id(node) in top
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("views.api."):
            yield node.module, id(node) in top
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("views.api"):
                    yield alias.name, id(node) in top


def test_every_module_of_the_api_is_in_a_layer():
    assert sorted(p.stem for p in API.glob("*.py")) == sorted(LAYERS)


@pytest.mark.parametrize("name", LAYERS)
def test_a_module_imports_only_the_layers_before_it_at_its_top(name):
    tree = ast.parse((API / f"{name}.py").read_text(encoding="utf-8"))
    allowed = {f"views.api.{layer}" for layer in LAYERS[:LAYERS.index(name)]}
    for module, at_top in _imports(tree):
        assert at_top, f"views/api/{name}.py imports {module} inside a function"
        assert module in allowed, f"views/api/{name}.py imports {module}: not a layer before it"
