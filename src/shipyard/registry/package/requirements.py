"""``requirements.txt`` of a model package: the exact versions the model was saved with.

>>> pinned_requirements(["numpy"])  # doctest: +ELLIPSIS
['numpy==...']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata

from shipyard.errors import InvalidArgument

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def pinned_requirements(packages: Iterable[str]) -> list[str]:
    """Pin each bare distribution name to its installed version (``"numpy"`` → ``"numpy==2.1.3"``).

    An entry that already carries a version specifier or marker (``"torch>=2"``) is kept as
    given. Duplicates (by normalized name) are merged, the first entry winning; the result is
    sorted by name. Raises InvalidArgument for a malformed entry or a bare name that is not
    installed.
    """
    pinned: dict[str, str] = {}
    for entry in packages:
        match = _NAME.match(entry)
        if match is None:
            raise InvalidArgument(
                f"requirement {entry!r} is malformed; use a distribution name such as "
                "'lightgbm' or a specifier such as 'lightgbm>=4'"
            )
        name, extras, rest = match.group(1), match.group(2) or "", match.group(3).strip()
        key = canonical_name(name)
        if key not in pinned:
            pinned[key] = f"{name}{extras}{rest}" if rest else _pin(name, extras)
    return [pinned[key] for key in sorted(pinned)]


def canonical_name(name: str) -> str:
    """The normalized form of a distribution name (PEP 503): ``Scikit_Learn`` → ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pin(name: str, extras: str) -> str:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError as exc:
        raise InvalidArgument(
            f"requirement {name!r} is not installed, so its version cannot be pinned; install "
            f"it or give a version yourself, e.g. '{name}==1.0'"
        ) from exc
    return f"{dist.metadata['Name']}{extras}=={dist.version}"
