"""The public SDK surface is deliberate: every name in ``__all__`` resolves, and nothing else."""

from __future__ import annotations

import subprocess
import sys

import shipyard


def test_all_exports_resolve() -> None:
    for name in shipyard.__all__:
        assert getattr(shipyard, name) is not None, name
    assert sorted(shipyard.__all__) == shipyard.__all__
    assert set(dir(shipyard)) == set(shipyard.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        shipyard.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    """``import shipyard`` loads no heavy library: they come with the functions that need them."""
    code = (
        "import sys, shipyard; print(sorted(m for m in ('pandas', 'sklearn', 'numpy', "
        "'sqlalchemy', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
