"""Turn stored definitions into what retrieval needs: views, their join keys, feature lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.errors import InvalidArgument, NotFound
from shipyard.features.catalog import FeatureCatalog
from shipyard.features.definitions import (
    Entity,
    FeatureService,
    FeatureView,
    parse_feature_ref,
)


@dataclass(frozen=True)
class ViewRequest:
    """One view of a request: its definition (and version), join keys and the features asked."""

    view: FeatureView
    version: int
    keys: tuple[str, ...]
    features: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """The views and request-time transforms that a feature list or a service stands for."""

    views: tuple[ViewRequest, ...]
    transforms: dict[str, str]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every join key column the request needs, in first-seen order."""
        return tuple(dict.fromkeys(k for v in self.views for k in v.keys))


def load_view(catalog: FeatureCatalog, name: str) -> tuple[FeatureView, int]:
    """The newest definition of view ``name`` and its version."""
    stored = catalog.get_definition("view", name)
    return FeatureView.from_dict(stored.name, stored.spec), stored.version


def view_keys(catalog: FeatureCatalog, view: FeatureView) -> tuple[str, ...]:
    """The join key columns of ``view``: its entities' keys, in order."""
    keys: list[str] = []
    for name in view.entities:
        stored = catalog.get_definition("entity", name)
        keys.extend(Entity.from_dict(stored.name, stored.spec).join_keys)
    return tuple(dict.fromkeys(keys))


def resolve(catalog: FeatureCatalog, features: Sequence[str] | str) -> Request:
    """The request for a list of ``view:feature`` references, or a feature service's name."""
    transforms: dict[str, str] = {}
    if isinstance(features, str):
        stored = catalog.get_definition("service", features)
        service = FeatureService.from_dict(stored.name, stored.spec)
        refs: Sequence[str] = service.features
        transforms = dict(service.transforms)
    else:
        refs = features
    if not refs:
        raise InvalidArgument("ask for at least one feature: ['view:feature', ...] or a service")
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        view_name, feature = parse_feature_ref(ref)
        wanted.setdefault(view_name, []).append(feature)
    views = []
    for name, names in wanted.items():
        try:
            view, version = load_view(catalog, name)
        except NotFound as exc:
            raise NotFound(f"unknown feature view {name!r}: {exc}") from exc
        views.append(ViewRequest(view, version, view_keys(catalog, view), _expand(view, names)))
    return Request(tuple(views), transforms)


def _expand(view: FeatureView, names: list[str]) -> tuple[str, ...]:
    declared = view.feature_names
    out: list[str] = []
    for name in names:
        if name == "*":
            out.extend(declared)
        elif name in declared:
            out.append(name)
        else:
            raise InvalidArgument(
                f"view {view.name!r} has no feature {name!r}; its features are {list(declared)}"
            )
    return tuple(dict.fromkeys(out))


def output_names(request: Request, *, full_feature_names: bool) -> dict[tuple[str, str], str]:
    """The output column of each (view, feature): the feature's name, or ``view__feature``.

    Raises InvalidArgument when two views give the same name and full names are off.
    """
    out: dict[tuple[str, str], str] = {}
    seen: dict[str, str] = {}
    for vr in request.views:
        for feature in vr.features:
            name = f"{vr.view.name}__{feature}" if full_feature_names else feature
            if name in seen:
                raise InvalidArgument(
                    f"feature {feature!r} comes from views {seen[name]!r} and {vr.view.name!r}; "
                    "pass full_feature_names=True to name columns view__feature"
                )
            seen[name] = vr.view.name
            out[(vr.view.name, feature)] = name
    return out
