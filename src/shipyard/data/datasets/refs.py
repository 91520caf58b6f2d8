"""Dataset references: ``NAME``, ``NAME@VERSION`` and the URI ``dataset:NAME@VERSION``."""

from __future__ import annotations

from shipyard._util import check_name
from shipyard.errors import InvalidArgument

SCHEME = "dataset:"


def parse_dataset_ref(ref: str) -> tuple[str, str | None]:
    """``(name, version)`` of a reference; version None means the newest.

    >>> parse_dataset_ref("dataset:users@3f2a9c01")
    ('users', '3f2a9c01')
    >>> parse_dataset_ref("users")
    ('users', None)
    """
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidArgument(
            f"a dataset reference is NAME, NAME@VERSION or dataset:NAME@VERSION, not {ref!r}"
        )
    text = ref.strip().removeprefix(SCHEME)
    name, sep, version = text.partition("@")
    if sep and not version:
        raise InvalidArgument(f"dataset reference {ref!r} has an empty version after '@'")
    return check_name(name, "dataset"), (version or None)
