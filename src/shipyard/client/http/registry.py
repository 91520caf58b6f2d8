"""``HttpRegistry``: the registry service over a team server's REST API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.client.http._transport import API, HttpTransport, check_keys, parse, segment
from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from shipyard.server import schemas as sc
from shipyard.tracking.entities import encode_float


class HttpRegistry:
    """:class:`~shipyard.registry.service.RegistryService` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Register a model. Raises AlreadyExists, InvalidArgument."""
        body = {"name": name, "description": description, "tags": _plain(tags, "model tag")}
        data = self._http.call("POST", f"{API}/models", body=body)
        return parse(sc.ModelOut, data).to_entity()

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and newest version. Raises NotFound."""
        data = self._http.call("GET", _model_path(name), idempotent=True)
        return parse(sc.ModelOut, data).to_entity()

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        data = self._http.call("GET", f"{API}/models", idempotent=True)
        return [m.to_entity() for m in parse(sc.ModelList, data).models]

    def update_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Change the description and/or merge tags. Raises NotFound, InvalidArgument."""
        body = {"description": description, "tags": _plain(tags, "model tag")}
        data = self._http.call("PATCH", _model_path(name), body=body, idempotent=True)
        return parse(sc.ModelOut, data).to_entity()

    def create_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        signature: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register a run's files as the next version. Raises NotFound, InvalidArgument."""
        body = {
            "run_id": run_id,
            "artifact_path": artifact_path,
            "flavor": flavor,
            "signature": None if signature is None else _signature(signature),
            "metrics": _wire_floats(_plain(metrics, "metric")),
            "description": description,
            "tags": _plain(tags, "model version tag"),
        }
        data = self._http.call("POST", _model_path(name, "versions"), body=body)
        return parse(sc.VersionOut, data).to_entity()

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version (deleted ones too). Raises NotFound, InvalidArgument."""
        data = self._http.call("GET", _version_path(name, version), idempotent=True)
        return parse(sc.VersionOut, data).to_entity()

    def list_versions(self, name: str, *, deleted: bool = False) -> list[ModelVersion]:
        """The model's versions, newest first. Raises NotFound."""
        data = self._http.call(
            "GET", _model_path(name, "versions"), params={"deleted": deleted}, idempotent=True
        )
        return [v.to_entity() for v in parse(sc.VersionList, data).versions]

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Change a version's description and/or merge tags. Raises NotFound."""
        body = {"description": description, "tags": _plain(tags, "model version tag")}
        data = self._http.call("PATCH", _version_path(name, version), body=body, idempotent=True)
        return parse(sc.VersionOut, data).to_entity()

    def delete_version(self, name: str, version: int) -> None:
        """Soft-delete a version. Raises NotFound, Conflict (an alias points at it)."""
        self._http.call("DELETE", _version_path(name, version), idempotent=True)

    def restore_version(self, name: str, version: int) -> None:
        """Undo ``delete_version``. Raises NotFound."""
        self._http.call("POST", _version_path(name, version, "restore"), idempotent=True)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``. Raises InvalidArgument, NotFound, Conflict."""
        self._http.call(
            "PUT", _model_path(name, "aliases", alias), body={"version": version}, idempotent=True
        )

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias``. Raises NotFound."""
        self._http.call("DELETE", _model_path(name, "aliases", alias))

    def resolve(
        self,
        name: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        at: int | None = None,
    ) -> ModelVersion:
        """The version named by number or alias (``at``: as it was then). Raises NotFound."""
        params = {"version": version, "alias": alias, "at": at}
        data = self._http.call("GET", _model_path(name, "resolve"), params=params, idempotent=True)
        return parse(sc.VersionOut, data).to_entity()

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or one alias), oldest first. Raises NotFound."""
        data = self._http.call(
            "GET", _model_path(name, "alias-history"), params={"alias": alias}, idempotent=True
        )
        return [e.to_entity() for e in parse(sc.AliasHistory, data).events]


def _model_path(name: str, *rest: object) -> str:
    return "/".join((f"{API}/models", *(segment(p) for p in (name, *rest))))


def _version_path(name: str, version: int, *rest: str) -> str:
    return _model_path(name, "versions", version, *rest)


def _plain(values: Mapping[str, Any] | None, what: str) -> dict[str, Any] | None:
    if values is None:
        return None
    check_keys(values, what)
    return dict(values)


def _wire_floats(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Non-finite floats spelled as strings; other values as they are (the server checks)."""
    if values is None:
        return None
    return {k: encode_float(v) if isinstance(v, float) else v for k, v in values.items()}


def _signature(signature: Mapping[str, Any]) -> Any:
    return dict(signature) if isinstance(signature, Mapping) else signature


# --- artifacts ----------------------------------------------------------------------------------
