"""The layers stay visible: foundation ← services ← interfaces (see ARCHITECTURE.md).

Imports are read from the source (including those inside functions), so a lazy import that
crosses a layer fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "shipyard"
FOUNDATION = {"config", "errors", "_util", "_html", "store", "artifacts"}
SERVICES = {"tracking", "registry", "data", "features", "serving", "monitoring", "pipelines"}
INTERFACES = {"cli", "server", "client"}
SDK_MODULES = {"fluent.py", "autolog.py"}  # the Python SDK: an interface living beside its service


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shipyard."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("shipyard."))
    return found


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_crosses_a_layer_upwards(path: Path) -> None:
    layer, imported = _layer_of(path), _imports(path)
    if layer in FOUNDATION:
        assert not imported & (SERVICES | INTERFACES), f"foundation imports {imported}"
    elif layer in SERVICES and path.name not in SDK_MODULES:
        assert not imported & INTERFACES, f"service imports {imported & INTERFACES}"
