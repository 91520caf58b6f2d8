"""Feature store definitions: entities, feature views and feature services.

Declared in Python or under ``features:`` in ``shipyard.yaml``::

    features:
      entities:
        customer: {join_keys: [customer_id]}
      views:
        customer_stats:
          entities: [customer]
          source: cdnow_features          # a dataset (NAME or NAME@VERSION); omit for push-only
          timestamp: event_time
          ttl: 120d                       # s, m, h, d or w; omit for no expiry
          features: {recency_days: float64, orders: int64, spend_90d: float64}
      services:
        repeat_buyer:
          features: ["customer_stats:*"]  # view:feature, or view:* for all of a view's
          transforms:                     # request-time features, computed after the lookup
            spend_per_order: "spend_90d / orders"

A definition is plain frozen data with ``to_dict``/``from_dict``; its ``spec_hash`` tells
whether applying it again changes anything. Checking it against its source's columns happens
at apply time (``shipyard.features.apply``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shipyard._util import check_name, parse_duration
from shipyard.errors import InvalidArgument

DTYPES = ("float64", "int64", "string", "bool", "timestamp")
KINDS = ("entity", "view", "service")


def _name(value: object, what: str) -> str:
    return check_name(value, what)


def _names(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Sequence) or not values:
        raise InvalidArgument(f"{what} must be a non-empty list of names, not {values!r}")
    out = tuple(_name(v, what) for v in values)
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise InvalidArgument(f"{what} lists {dupes} more than once")
    return out


def parse_ttl(value: object) -> timedelta | None:
    """A TTL from a timedelta, a number of seconds or a duration text ("7d"); None = forever."""
    if value is None or isinstance(value, timedelta):
        ttl = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ttl = timedelta(seconds=value)
    elif isinstance(value, str):
        try:
            ttl = parse_duration(value, "ttl")
        except InvalidArgument:
            raise InvalidArgument(
                f"ttl {value!r} is not a duration; write a number and a unit s, m, h, d or w "
                '(e.g. "7d"), or leave it out for no expiry'
            ) from None
    else:
        raise InvalidArgument(f"ttl must be a duration like '7d', not {value!r}")
    if ttl is not None and ttl <= timedelta(0):
        raise InvalidArgument(f"ttl must be positive, not {value!r}")
    return ttl


def _ttl_text(ttl: timedelta | None) -> str | None:
    if ttl is None:
        return None
    seconds = ttl.total_seconds()
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds!r}s"


@dataclass(frozen=True)
class Entity:
    """What features describe (a customer, a card); ``join_keys`` name its key columns."""

    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        _name(self.name, "entity")
        object.__setattr__(self, "join_keys", _keys(self.join_keys, f"entity {self.name!r}"))

    kind = "entity"

    def to_dict(self) -> dict[str, Any]:
        return {"join_keys": list(self.join_keys), "description": self.description}

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Entity:
        _only(data, ("join_keys", "description"), f"entity {name!r}")
        if "join_keys" not in data:
            raise InvalidArgument(f"entity {name!r} needs join_keys: [column, ...]")
        return cls(name, tuple(data["join_keys"]), str(data.get("description", "")))


def _keys(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Sequence) or not values:
        raise InvalidArgument(f"{what}: join_keys must be a non-empty list of column names")
    keys = tuple(values)
    for k in keys:
        if not isinstance(k, str) or not k:
            raise InvalidArgument(f"{what}: join key {k!r} must be a non-empty column name")
    if len(set(keys)) != len(keys):
        raise InvalidArgument(f"{what}: join_keys {list(keys)} repeat a column")
    return keys


@dataclass(frozen=True)
class Feature:
    """One typed feature column of a view."""

    name: str
    dtype: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"feature name {self.name!r} must be a non-empty column name")
        if self.dtype not in DTYPES:
            raise InvalidArgument(
                f"feature {self.name!r}: type {self.dtype!r} is not one of {list(DTYPES)}"
            )


@dataclass(frozen=True)
class FeatureView:
    """Typed features of some entities, with event times, read from a dataset (or pushed)."""

    name: str
    entities: tuple[str, ...]
    timestamp: str
    features: tuple[Feature, ...]
    source: str | None = None
    ttl: timedelta | None = None
    online: bool = True
    description: str = ""

    kind = "view"

    def __post_init__(self) -> None:
        _name(self.name, "feature view")
        object.__setattr__(self, "entities", _names(self.entities, f"view {self.name!r} entities"))
        if not isinstance(self.timestamp, str) or not self.timestamp:
            raise InvalidArgument(f"view {self.name!r} needs timestamp: (its event-time column)")
        if not self.features:
            raise InvalidArgument(f"view {self.name!r} declares no features")
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidArgument(f"view {self.name!r} declares feature(s) {dupes} twice")
        if self.timestamp in names:
            raise InvalidArgument(
                f"view {self.name!r}: the timestamp column {self.timestamp!r} is not a feature"
            )
        if self.source is not None:
            from shipyard.data.datasets import parse_dataset_ref

            parse_dataset_ref(self.source)
        object.__setattr__(self, "ttl", parse_ttl(self.ttl))

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entities": list(self.entities),
            "source": self.source,
            "timestamp": self.timestamp,
            "ttl": _ttl_text(self.ttl),
            "online": self.online,
            "features": {f.name: f.dtype for f in self.features},
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> FeatureView:
        what = f"view {name!r}"
        _only(
            data,
            ("entities", "source", "timestamp", "ttl", "online", "features", "description"),
            what,
        )
        for required in ("entities", "timestamp", "features"):
            if required not in data:
                raise InvalidArgument(f"{what} needs {required}:")
        features = data["features"]
        if not isinstance(features, Mapping):
            raise InvalidArgument(f"{what}: features must map each name to a type {list(DTYPES)}")
        return cls(
            name=name,
            entities=tuple(_as_list(data["entities"])),
            timestamp=data["timestamp"],
            features=tuple(Feature(str(k), str(v)) for k, v in features.items()),
            source=data.get("source"),
            ttl=data.get("ttl"),
            online=bool(data.get("online", True)),
            description=str(data.get("description", "")),
        )


@dataclass(frozen=True)
class FeatureService:
    """The named set of features a model uses, plus request-time ``transforms``
    (``name: expression`` over the request's columns and the looked-up features)."""

    name: str
    features: tuple[str, ...]
    transforms: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    kind = "service"

    def __post_init__(self) -> None:
        _name(self.name, "feature service")
        refs = tuple(_as_list(self.features))
        if not refs:
            raise InvalidArgument(f"feature service {self.name!r} lists no features")
        for ref in refs:
            parse_feature_ref(ref)
        object.__setattr__(self, "features", refs)
        from shipyard.data.preprocess import parse_expression

        for out, expression in self.transforms.items():
            if not isinstance(out, str) or not out:
                raise InvalidArgument(f"service {self.name!r}: a transform needs a name")
            try:
                parse_expression(expression)
            except InvalidArgument as exc:
                raise InvalidArgument(f"service {self.name!r}, transform {out!r}: {exc}") from exc
        object.__setattr__(self, "transforms", dict(self.transforms))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "transforms": dict(self.transforms),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> FeatureService:
        _only(data, ("features", "transforms", "description"), f"service {name!r}")
        if "features" not in data:
            raise InvalidArgument(f"service {name!r} needs features: [view:feature, ...]")
        transforms = data.get("transforms") or {}
        if not isinstance(transforms, Mapping):
            raise InvalidArgument(f"service {name!r}: transforms must map names to expressions")
        return cls(
            name,
            tuple(_as_list(data["features"])),
            dict(transforms),
            str(data.get("description", "")),
        )


Definition = Entity | FeatureView | FeatureService


def parse_feature_ref(ref: object) -> tuple[str, str]:
    """``(view, feature)`` of ``"view:feature"`` (feature may be ``*``)."""
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise InvalidArgument(
            f"feature reference {ref!r} must look like view:feature (or view:* for all)"
        )
    view, feature = ref.split(":")
    if not view or not feature:
        raise InvalidArgument(f"feature reference {ref!r} must look like view:feature")
    return view, feature


def spec_hash(definition: Definition) -> str:
    """SHA-256 of the definition's canonical JSON: equal hashes, nothing to apply."""
    text = json.dumps({"kind": definition.kind, **definition.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def definition_from_dict(kind: str, name: str, data: Mapping[str, Any]) -> Definition:
    """A definition of ``kind`` (entity, view, service) from its YAML mapping."""
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{kind} {name!r} must be a mapping of its settings")
    if kind == "entity":
        return Entity.from_dict(name, data)
    if kind == "view":
        return FeatureView.from_dict(name, data)
    if kind == "service":
        return FeatureService.from_dict(name, data)
    raise InvalidArgument(f"unknown definition kind {kind!r}; kinds are {list(KINDS)}")


SECTIONS = {"entities": "entity", "views": "view", "services": "service"}


def definitions_from_config(section: Mapping[str, Any]) -> list[Definition]:
    """Every definition of a ``features:`` section (of shipyard.yaml or a YAML file)."""
    if not isinstance(section, Mapping):
        raise InvalidArgument("features: must be a mapping with entities:, views:, services:")
    _only(section, tuple(SECTIONS), "features:")
    out: list[Definition] = []
    for key, kind in SECTIONS.items():
        entries = section.get(key) or {}
        if not isinstance(entries, Mapping):
            raise InvalidArgument(f"features.{key} must map each name to its settings")
        out.extend(definition_from_dict(kind, str(n), d) for n, d in entries.items())
    return out


def definitions_from_yaml(source: str) -> list[Definition]:
    """Definitions from a YAML file path or text: its ``features:`` section, or the file
    itself when it has ``entities:``/``views:``/``services:`` at the top."""
    from pathlib import Path

    import yaml

    text = source
    if "\n" not in source and source.strip().endswith((".yaml", ".yml")):
        path = Path(source)
        if not path.is_file():
            from shipyard.errors import NotFound

            raise NotFound(f"feature definitions file {source!r} does not exist")
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"feature definitions are not valid YAML: {exc}") from exc
    if isinstance(data, Mapping) and "features" in data:
        data = data["features"]
    return definitions_from_config(data)


def _only(data: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidArgument(
            f"{what}: unknown field(s) {unknown}; valid fields are {list(allowed)}"
        )


def _as_list(value: object) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise InvalidArgument(f"expected a list, got {value!r}")
