"""The ``shipyard-model.json`` file: what a package is, and the values shared by the flavors."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.registry.package.manifest import Manifest, read_verified
from shipyard.registry.package.signature import Signature

FORMAT_VERSION = 1
METADATA_FILE = "shipyard-model.json"
REQUIREMENTS_FILE = "requirements.txt"
INPUT_EXAMPLE_FILE = "input_example.json"
FLAVORS = ("sklearn", "python")


@dataclass(frozen=True)
class FlavorFiles:
    """What a flavor wrote: its files (relative paths), how, its settings and its needs."""

    files: tuple[str, ...]
    serialization: str
    config: Mapping[str, Any] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    """A saved model package as described by its ``shipyard-model.json`` and requirements."""

    path: Path
    flavor: str
    serialization: str
    signature: Signature | None
    metrics: Mapping[str, float]
    created_at: int
    shipyard_version: str
    python_version: str
    files: tuple[str, ...]
    flavor_config: Mapping[str, Any] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    input_example: str | None = None
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``shipyard-model.json`` (no path, no requirement lines)."""
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "serialization": self.serialization,
            "signature": None if self.signature is None else self.signature.to_dict(),
            "metrics": dict(self.metrics),
            "created_at": self.created_at,
            "shipyard_version": self.shipyard_version,
            "python_version": self.python_version,
            "files": list(self.files),
            "flavor_config": dict(self.flavor_config),
            "input_example": self.input_example,
        }


def python_version() -> str:
    """The running interpreter's version, e.g. ``3.11.9``."""
    return platform.python_version()


def shipyard_version() -> str:
    """The installed Shipyard version."""
    from shipyard import __version__

    return __version__


def write_info(folder: Path, info: ModelInfo) -> None:
    """Write ``shipyard-model.json`` for ``info`` into ``folder``."""
    body = json.dumps(info.to_dict(), indent=2, sort_keys=True, allow_nan=False)
    (folder / METADATA_FILE).write_text(body + "\n", encoding="utf-8")


def read_info(folder: Path, manifest: Manifest) -> ModelInfo:
    """Read a verified package's description. Raises InvalidArgument when it is malformed."""
    raw = read_verified(folder, METADATA_FILE, manifest)
    try:
        body = json.loads(raw)
        info = _from_dict(folder, body)
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, InvalidArgument):
            raise
        raise InvalidArgument(f"{folder / METADATA_FILE} is malformed: {exc!r}") from exc
    if REQUIREMENTS_FILE not in manifest:
        return info
    text = read_verified(folder, REQUIREMENTS_FILE, manifest).decode()
    return replace(info, requirements=tuple(ln.strip() for ln in text.splitlines() if ln.strip()))


def _from_dict(folder: Path, body: Mapping[str, Any]) -> ModelInfo:
    version = int(body["format_version"])
    if version > FORMAT_VERSION:
        raise InvalidArgument(
            f"model package {folder} has format version {version}, newer than this Shipyard "
            f"reads ({FORMAT_VERSION}); upgrade shipyard to load it"
        )
    flavor = body["flavor"]
    if flavor not in FLAVORS:
        raise InvalidArgument(
            f"model package {folder} has flavor {flavor!r}; this Shipyard loads {list(FLAVORS)}"
        )
    signature = body.get("signature")
    return ModelInfo(
        path=folder,
        flavor=flavor,
        serialization=str(body["serialization"]),
        signature=None if signature is None else Signature.from_dict(signature),
        metrics={str(k): float(v) for k, v in (body.get("metrics") or {}).items()},
        created_at=int(body["created_at"]),
        shipyard_version=str(body.get("shipyard_version", "")),
        python_version=str(body.get("python_version", "")),
        files=tuple(str(f) for f in body["files"]),
        flavor_config=dict(body.get("flavor_config") or {}),
        input_example=body.get("input_example"),
        format_version=version,
    )
