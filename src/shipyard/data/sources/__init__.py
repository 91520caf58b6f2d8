"""Sources: where rows come from (files on any fsspec URL, SQL databases, HTTP JSON APIs).

Built from Python (``FileSource(...)``) or from the ``sources:`` section of ``shipyard.yaml``::

    sources:
      orders:
        type: sql
        url: postgresql+psycopg://ml@db/shop
        table: orders
        watermark: updated_at
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipyard.data.sources.base import ReadResult, Source
from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.data.sources.files import FileSource
    from shipyard.data.sources.http import HttpSource
    from shipyard.data.sources.sql import SqlSource

KINDS = ("files", "http", "sql")


def _source_class(kind: object) -> type[Any]:
    if kind == "files":
        from shipyard.data.sources.files import FileSource

        return FileSource
    if kind == "sql":
        from shipyard.data.sources.sql import SqlSource

        return SqlSource
    if kind == "http":
        from shipyard.data.sources.http import HttpSource

        return HttpSource
    raise InvalidArgument(f"unknown source type: {kind!r}; use one of {', '.join(KINDS)}")


def source_from_config(name: str, config: Mapping[str, Any]) -> Source:
    """Build the source ``name`` from its ``shipyard.yaml`` entry (``type:`` plus its fields).

    Raises ``InvalidArgument`` for an unknown type, an unknown or missing field, or a bad value.

    >>> source_from_config("sales", {"type": "files", "path": "data/*.csv"}).kind
    'files'
    """
    if not isinstance(config, Mapping):
        raise InvalidArgument(f"source {name!r} must be a mapping with a type: field")
    if "type" not in config:
        raise InvalidArgument(f"source {name!r} has no type:; use one of {', '.join(KINDS)}")
    kind = config["type"]
    cls = _source_class(kind)
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name != "name"]
    valid = {f.name for f in fields}
    unknown = sorted(set(config) - valid - {"type"})
    if unknown:
        raise InvalidArgument(
            f"source {name!r} ({kind}) has unknown field(s) {', '.join(unknown)}; valid fields: "
            f"{', '.join(sorted(valid))}"
        )
    required = [f.name for f in fields if _required(f) and f.name not in config]
    if required:
        raise InvalidArgument(f"source {name!r} ({kind}) is missing {', '.join(required)}")
    values = {k: v for k, v in config.items() if k != "type"}
    source: Source = cls(name, **values)
    return source


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def sources_from_settings(settings: Settings) -> dict[str, Source]:
    """Every source of the ``sources:`` section of ``shipyard.yaml``, by name.

    Raises ``InvalidArgument`` when the section or an entry is malformed.
    """
    section = settings.extra.get("sources") or {}
    if not isinstance(section, Mapping):
        raise InvalidArgument("sources: in shipyard.yaml must map each source name to its settings")
    return {str(name): source_from_config(str(name), cfg) for name, cfg in section.items()}


def __getattr__(name: str) -> Any:
    """``FileSource``, ``SqlSource`` and ``HttpSource``, imported on first use."""
    modules = {"FileSource": "files", "SqlSource": "sql", "HttpSource": "http"}
    if name in modules:
        import importlib

        return getattr(importlib.import_module(f"shipyard.data.sources.{modules[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS",
    "FileSource",
    "HttpSource",
    "ReadResult",
    "Source",
    "SqlSource",
    "source_from_config",
    "sources_from_settings",
]
