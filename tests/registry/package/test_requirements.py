"""Pinned requirements from the installed distributions."""

from __future__ import annotations

from importlib import metadata

import pytest

from shipyard.errors import InvalidArgument
from shipyard.registry.package.requirements import canonical_name, pinned_requirements


def test_pins_installed_versions_sorted_and_deduplicated() -> None:
    got = pinned_requirements(["scikit_learn", "numpy", "Scikit-Learn", "pandas"])
    assert got == [
        f"numpy=={metadata.version('numpy')}",
        f"pandas=={metadata.version('pandas')}",
        f"scikit-learn=={metadata.version('scikit-learn')}",
    ]


def test_keeps_explicit_specifiers_and_extras() -> None:
    got = pinned_requirements(["torch>=2.1; python_version>='3.11'", "numpy", "numpy==1.0"])
    assert got == [f"numpy=={metadata.version('numpy')}", "torch>=2.1; python_version>='3.11'"]
    assert pinned_requirements(["psycopg[binary]"]) == [
        f"psycopg[binary]=={metadata.version('psycopg')}"
    ]


def test_refuses_unknown_and_malformed() -> None:
    with pytest.raises(InvalidArgument, match="'no-such-dist-xyz' is not installed"):
        pinned_requirements(["no-such-dist-xyz"])
    with pytest.raises(InvalidArgument, match="malformed"):
        pinned_requirements(["==1.0"])


def test_canonical_name() -> None:
    assert canonical_name("Scikit_Learn.Extra") == "scikit-learn-extra"
