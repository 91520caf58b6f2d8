"""Artifact owners: every artifact file belongs to one owner key, e.g. ``run:ab12…``.

Blobs are shared by content, so copying a run's ``model/`` folder to a model version only
copies catalog rows, never bytes.
"""

from __future__ import annotations


def run_owner(run_id: str) -> str:
    """Owner key of a run's artifacts."""
    return f"run:{run_id}"


def model_owner(name: str, version: int) -> str:
    """Owner key of a registered model version's package files."""
    return f"model:{name}/{version}"


def dataset_owner(name: str, version: str) -> str:
    """Owner key of a dataset snapshot's files (``version`` is the snapshot's SHA-256)."""
    return f"dataset:{name}@{version}"
