"""HTTP clients of a Shipyard team server, implementing the service Protocols.

``connect_http(settings)`` returns :class:`~shipyard.client.Services` whose tracking, registry
and artifact services send every call to ``settings.tracking_uri`` over one keep-alive
``httpx.Client``; a program behaves the same as with a local store:

* an error the server answers with (``{"error": {"code": …, "message": …}}``) is raised again
  as the same class (``NotFound``, ``Conflict``, ``FilterSyntaxError`` …);
* a server that cannot be reached raises ``StoreUnavailable`` naming the URL;
* connection failures, and 502/503/504 answers to calls that are safe to repeat, are retried a
  couple of times with backoff;
* metric batches larger than the server takes in one request are split;
* files stream from disk on upload (with their SHA-256, which the server checks) and to a
  temporary file on download, verified against the server's ``X-Shipyard-SHA256`` before
  being renamed into place.

Differences from a local store: a folder upload or a split metric batch is several requests,
so a failure part-way leaves what was already sent; artifact owners must be ``run:<id>``,
``model:<name>/<version>`` or ``dataset:<name>@<version>``.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from shipyard._util import current_user
from shipyard.client import Services
from shipyard.config import Settings
from shipyard.errors import (
    IntegrityError,
    InvalidArgument,
    NotFound,
    ShipyardError,
    StoreUnavailable,
    from_wire,
)
from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from shipyard.server import schemas as sc
from shipyard.tracking.entities import (
    ArtifactInfo,
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunPage,
    RunStatus,
    encode_float,
)

API = "/api/v1"
CHUNK_SIZE = 1 << 20
RETRIES = 2
BACKOFF_S = 0.25
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)

_M = TypeVar("_M", bound=BaseModel)
Content = bytes | Iterable[bytes]


# --- transport ----------------------------------------------------------------------------------


class HttpTransport:
    """One keep-alive ``httpx.Client`` to a server, with retries and error mapping.

    Shared by the three services; thread-safe (httpx pools connections).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = RETRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"User-Agent": "shipyard-client", sc.USER_HEADER: current_user()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """Send a JSON request; returns the decoded JSON answer (None for 204).

        Raises the server's error class, StoreUnavailable, or InvalidArgument for a body that
        is not plain JSON data.
        """
        content = None if body is None else _encode_json(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        with self.stream(
            method, path, content=content, headers=headers, params=params, idempotent=idempotent
        ) as response:
            response.read()
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        content: Content | Callable[[], Content] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the successful response with its body still unread.

        ``content`` may be a function returning a fresh body, so a streamed upload can be
        retried. Retries connection failures always (nothing was sent) and 502/503/504 and
        broken connections only when ``idempotent``.
        """
        clean = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        response = self._send(method, path, content, headers, clean, idempotent=idempotent)
        try:
            if response.status_code >= 400:
                response.read()
                raise _error_from(response)
            yield response
        except httpx.TransportError as exc:
            raise self._broken(method, path, exc) from exc
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        content: Content | Callable[[], Content] | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str],
        *,
        idempotent: bool,
    ) -> httpx.Response:
        """The response (body unread) after at most ``retries`` retries with backoff."""
        for attempt in range(self.retries + 1):
            can_retry = attempt < self.retries and _replayable(content)
            body = content() if callable(content) else content
            request = self._client.build_request(
                method, path, content=body, headers=headers, params=params
            )
            try:
                response = self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
                if not can_retry:
                    raise self._unreachable(exc) from exc
            except httpx.TransportError as exc:
                if not (can_retry and idempotent):
                    raise self._broken(method, path, exc) from exc
            else:
                if not (can_retry and idempotent and response.status_code in RETRY_STATUSES):
                    return response
                response.close()
            time.sleep(self.backoff_s * (2**attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _unreachable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot reach the Shipyard server at {self.url} ({exc}). Is it running? Start one "
            "with `shipyard server`, or point SHIPYARD_TRACKING_URI at the right address"
        )

    def _broken(self, method: str, path: str, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"{method} {self.url}{path} failed: the connection broke ({type(exc).__name__}: "
            f"{exc}); try again"
        )


def _replayable(content: object) -> bool:
    """A body that can be sent again: none, bytes, or a function making a fresh one."""
    return content is None or isinstance(content, bytes) or callable(content)


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _encode_json(body: Any) -> bytes:
    try:
        return json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"cannot send this to the server, it is not plain JSON data: {exc}"
        ) from exc


def _error_from(response: httpx.Response) -> ShipyardError:
    """The exception an error response stands for, of the class the server raised."""
    try:
        detail = response.json()["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:300] or response.reason_phrase
        message = f"server answered {response.status_code} {response.reason_phrase}: {text}"
        if response.status_code in RETRY_STATUSES:
            return StoreUnavailable(message)
        return ShipyardError(message)
    err = from_wire(code, message)
    if type(err) is ShipyardError and 400 <= response.status_code < 500:
        return InvalidArgument(message)  # a 4xx the client does not know (e.g. too large)
    return err


def _parse(model: type[_M], data: Any) -> _M:
    return model.model_validate(data)


# --- tracking -----------------------------------------------------------------------------------


class HttpTracking:
    """:class:`~shipyard.tracking.service.TrackingService` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def close(self) -> None:
        """Close the connections shared by all three services."""
        self._http.close()

    # experiments
    def create_experiment(self, name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment. Raises AlreadyExists, InvalidArgument."""
        body = {"name": name, "tags": None if tags is None else _text_values(tags, "tag")}
        data = self._http.call("POST", f"{API}/experiments", body=body)
        return _parse(sc.ExperimentOut, data).to_entity()

    def get_experiment(self, ref: int | str) -> Experiment:
        """An experiment by id or by name (deleted ones too). Raises NotFound."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            data = self._http.call("GET", f"{API}/experiments/{ref}", idempotent=True)
        else:
            data = self._http.call(
                "GET", f"{API}/experiments/by-name", params={"name": ref}, idempotent=True
            )
        return _parse(sc.ExperimentOut, data).to_entity()

    def list_experiments(self, *, deleted: bool = False) -> list[Experiment]:
        """Active experiments, or only deleted ones with ``deleted=True``, oldest first."""
        data = self._http.call(
            "GET", f"{API}/experiments", params={"deleted": deleted}, idempotent=True
        )
        return [e.to_entity() for e in _parse(sc.ExperimentList, data).experiments]

    def rename_experiment(self, experiment_id: int, new_name: str) -> Experiment:
        """Rename an experiment. Raises NotFound, AlreadyExists, InvalidArgument."""
        data = self._http.call(
            "PATCH",
            f"{API}/experiments/{_segment(experiment_id)}",
            body={"name": new_name},
            idempotent=True,
        )
        return _parse(sc.ExperimentOut, data).to_entity()

    def delete_experiment(self, experiment_id: int) -> None:
        """Soft-delete an experiment. Raises NotFound."""
        self._http.call("DELETE", f"{API}/experiments/{_segment(experiment_id)}", idempotent=True)

    def restore_experiment(self, experiment_id: int) -> None:
        """Undo ``delete_experiment``. Raises NotFound."""
        self._http.call(
            "POST", f"{API}/experiments/{_segment(experiment_id)}/restore", idempotent=True
        )

    # runs
    def create_run(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run. Raises NotFound (experiment, parent), Conflict, InvalidArgument."""
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": None if tags is None else _text_values(tags, "tag"),
            "parent_run_id": parent_run_id,
            "start_time": start_time,
        }
        return _parse(sc.RunOut, self._http.call("POST", f"{API}/runs", body=body)).to_entity()

    def get_run(self, run_id: str) -> Run:
        """The run with params, latest metrics, tags and inputs. Raises NotFound."""
        data = self._http.call("GET", _run_path(run_id), idempotent=True)
        return _parse(sc.RunOut, data).to_entity()

    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        end_time: int | None = None,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        """Store a last batch and set the run's final status (one request unless the batch is
        over 10,000 points). Raises NotFound, InvalidArgument, Conflict."""
        head, last = list(metrics[: -sc.MAX_BATCH_METRICS]), metrics[-sc.MAX_BATCH_METRICS :]
        if head:
            self.log_batch(run_id, metrics=head)
        body = {
            "status": str(status),
            "end_time": end_time,
            "metrics": [_metric_wire(m) for m in last],
            "params": _text_values(params, "param"),
            "tags": _text_values(tags, "tag"),
        }
        batch = bool(last or params or tags)
        self._http.call("POST", _run_path(run_id, "end"), body=body, idempotent=not batch)

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive. Raises NotFound."""
        self._http.call("POST", _run_path(run_id, "heartbeat"), idempotent=True)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run. Raises NotFound."""
        self._http.call("DELETE", _run_path(run_id), idempotent=True)

    def restore_run(self, run_id: str) -> None:
        """Undo ``delete_run``. Raises NotFound."""
        self._http.call("POST", _run_path(run_id, "restore"), idempotent=True)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        """Store metrics, params and tags; batches over 10,000 points go as several requests.

        Raises InvalidArgument, Conflict, NotFound (each request is one transaction).
        """
        points = [_metric_wire(m) for m in metrics]
        first: dict[str, Any] = {
            "metrics": points[: sc.MAX_BATCH_METRICS],
            "params": _text_values(params, "param"),
            "tags": _text_values(tags, "tag"),
        }
        path = _run_path(run_id, "log-batch")
        self._http.call("POST", path, body=first)
        for start in range(sc.MAX_BATCH_METRICS, len(points), sc.MAX_BATCH_METRICS):
            chunk = points[start : start + sc.MAX_BATCH_METRICS]
            self._http.call("POST", path, body={"metrics": chunk})

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        """Record the datasets a run read. Raises NotFound, InvalidArgument."""
        body = {
            "inputs": [
                sc.DatasetInputIO.from_entity(i).model_dump(mode="json", by_alias=True)
                for i in inputs
            ]
        }
        self._http.call("POST", _run_path(run_id, "inputs"), body=body, idempotent=True)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp. Raises NotFound."""
        data = self._http.call(
            "GET", _run_path(run_id, "metric-history"), params={"key": key}, idempotent=True
        )
        return [m.to_entity() for m in _parse(sc.MetricHistory, data).metrics]

    def search_runs(
        self,
        experiment_ids: Sequence[int],
        *,
        filter: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        deleted: bool = False,
    ) -> RunPage:
        """Runs matching ``filter``. Raises FilterSyntaxError pointing at the bad position."""
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": filter,
            "order_by": list(order_by),
            "max_results": max_results,
            "page_token": page_token,
            "deleted": deleted,
        }
        data = self._http.call("POST", f"{API}/runs/search", body=body, idempotent=True)
        return _parse(sc.RunPageOut, data).to_entity()


def _run_path(run_id: str, *rest: str) -> str:
    return "/".join((f"{API}/runs", _segment(run_id), *rest))


def _segment(value: object) -> str:
    """One URL path segment; ``.``/``..`` are escaped so no client or proxy collapses them."""
    text = quote(str(value), safe="")
    if not text:
        raise NotFound("an empty name or id names nothing; give a non-empty one")
    return {".": "%2E", "..": "%2E%2E"}.get(text, text)


def _text_values(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Tag/param values as the service stores them: text, or JSON for dicts and lists."""
    _check_keys(values, what)
    return {k: v if isinstance(v, str | dict | list) else str(v) for k, v in values.items()}


def _check_keys(values: Mapping[Any, Any], what: str) -> None:
    """JSON would turn a non-text key into text; refuse it as the service does."""
    from shipyard._util import check_key

    for key in values:
        if not isinstance(key, str):
            check_key(key, what)


def _metric_wire(m: Metric) -> dict[str, Any]:
    """A metric point in its JSON form, refused like the service refuses it."""
    try:
        value = float(m.value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"metric {m.key!r} value {m.value!r} is not a number") from exc
    try:
        step = operator.index(m.step)
    except TypeError as exc:
        raise InvalidArgument(f"metric {m.key!r} step must be an integer, got {m.step!r}") from exc
    return {
        "key": m.key,
        "value": encode_float(value),
        "step": step,
        "timestamp": operator.index(m.timestamp),
    }


# --- registry -----------------------------------------------------------------------------------


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
        return _parse(sc.ModelOut, data).to_entity()

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and newest version. Raises NotFound."""
        data = self._http.call("GET", _model_path(name), idempotent=True)
        return _parse(sc.ModelOut, data).to_entity()

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        data = self._http.call("GET", f"{API}/models", idempotent=True)
        return [m.to_entity() for m in _parse(sc.ModelList, data).models]

    def update_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Change the description and/or merge tags. Raises NotFound, InvalidArgument."""
        body = {"description": description, "tags": _plain(tags, "model tag")}
        data = self._http.call("PATCH", _model_path(name), body=body, idempotent=True)
        return _parse(sc.ModelOut, data).to_entity()

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
        return _parse(sc.VersionOut, data).to_entity()

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version (deleted ones too). Raises NotFound, InvalidArgument."""
        data = self._http.call("GET", _version_path(name, version), idempotent=True)
        return _parse(sc.VersionOut, data).to_entity()

    def list_versions(self, name: str, *, deleted: bool = False) -> list[ModelVersion]:
        """The model's versions, newest first. Raises NotFound."""
        data = self._http.call(
            "GET", _model_path(name, "versions"), params={"deleted": deleted}, idempotent=True
        )
        return [v.to_entity() for v in _parse(sc.VersionList, data).versions]

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
        return _parse(sc.VersionOut, data).to_entity()

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
        return _parse(sc.VersionOut, data).to_entity()

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or one alias), oldest first. Raises NotFound."""
        data = self._http.call(
            "GET", _model_path(name, "alias-history"), params={"alias": alias}, idempotent=True
        )
        return [e.to_entity() for e in _parse(sc.AliasHistory, data).events]


def _model_path(name: str, *rest: object) -> str:
    return "/".join((f"{API}/models", *(_segment(p) for p in (name, *rest))))


def _version_path(name: str, version: int, *rest: str) -> str:
    return _model_path(name, "versions", version, *rest)


def _plain(values: Mapping[str, Any] | None, what: str) -> dict[str, Any] | None:
    if values is None:
        return None
    _check_keys(values, what)
    return dict(values)


def _wire_floats(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Non-finite floats spelled as strings; other values as they are (the server checks)."""
    if values is None:
        return None
    return {k: encode_float(v) if isinstance(v, float) else v for k, v in values.items()}


def _signature(signature: Mapping[str, Any]) -> Any:
    return dict(signature) if isinstance(signature, Mapping) else signature


# --- artifacts ----------------------------------------------------------------------------------


class HttpArtifacts:
    """:class:`~shipyard.artifacts.service.ArtifactService` over a team server, streamed."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def upload(self, owner: str, local_path: Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store a file, or every file under a folder, below ``artifact_path`` of ``owner``.

        Each file is streamed from disk with its SHA-256, which the server checks. Returns
        the stored files. Raises InvalidArgument (missing local path, bad artifact path),
        Conflict, IntegrityError (the bytes changed on the way).
        """
        from shipyard.artifacts.paths import normalize_path

        prefix = _owner_prefix(owner)
        base = normalize_path(artifact_path)
        return [
            self._put(prefix, path, file) for path, file in _local_files(Path(local_path), base)
        ]

    def _put(self, prefix: str, path: str, file: Path) -> ArtifactInfo:
        digest, size = _file_digest(file)
        headers = {
            sc.SHA256_HEADER: digest,
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
        }
        with self._http.stream(
            "PUT",
            f"{prefix}/{_path_segments(path)}",
            content=lambda: _read_chunks(file),
            headers=headers,
            idempotent=True,
        ) as response:
            response.read()
        return _parse(sc.ArtifactOut, response.json()).to_entity()

    def upload_stream(
        self, owner: str, path: str, chunks: Iterable[bytes], *, sha256: str | None = None
    ) -> ArtifactInfo:
        """Store one file from a stream of byte chunks (sent once, not retried).

        Raises InvalidArgument, Conflict, IntegrityError (with ``sha256``, bytes that do not
        hash to it).
        """
        headers = {"Content-Type": "application/octet-stream"}
        if sha256 is not None:
            headers[sc.SHA256_HEADER] = sha256
        url = f"{_owner_prefix(owner)}/{_path_segments(path)}"
        with self._http.stream("PUT", url, content=iter(chunks), headers=headers) as response:
            response.read()
        return _parse(sc.ArtifactOut, response.json()).to_entity()

    def list(self, owner: str, path: str = "", *, recursive: bool = False) -> list[ArtifactInfo]:
        """Direct children of ``path`` (files and folders), or every file with ``recursive``.

        Raises NotFound for a path that names neither a file nor a folder.
        """
        data = self._http.call(
            "GET",
            _owner_prefix(owner),
            params={"path": path, "recursive": recursive},
            idempotent=True,
        )
        return [f.to_entity() for f in _parse(sc.ArtifactList, data).files]

    def download(self, owner: str, path: str, dst: Path) -> Path:
        """Copy a file or a folder into the local folder ``dst``, verifying every SHA-256.

        Files land at ``dst/<artifact path>``, each written to a temporary file, checked,
        then renamed. Returns ``dst/path``. Raises NotFound, IntegrityError.
        """
        dst = Path(dst)
        infos = self.list(owner, path, recursive=True)
        if not infos:
            raise NotFound(f"{owner} has no artifacts; upload some first")
        prefix = _owner_prefix(owner)
        for info in infos:
            self._fetch(prefix, info.path, dst / info.path)
        return dst / path if path else dst

    def _fetch(self, prefix: str, path: str, target: Path) -> None:
        if target.is_dir():
            raise InvalidArgument(f"cannot write artifact {path!r} to {target}: it is a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with self._http.stream(
                "GET", f"{prefix}/{_path_segments(path)}", idempotent=True
            ) as response:
                expected = response.headers.get(sc.SHA256_HEADER)
                with open(tmp, "xb") as out:
                    actual = _write_hashed(response.iter_bytes(CHUNK_SIZE), out)
                    out.flush()
                    os.fsync(out.fileno())
            _verify(actual, expected, path)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def open(self, owner: str, path: str) -> Iterator[bytes]:
        """Stream one file's bytes in chunks, verified at the end.

        The request is sent at once, so NotFound (and InvalidArgument for a folder) are raised
        here; IntegrityError after the last chunk if the bytes do not match.
        """
        chunks = self._verified_chunks(f"{_owner_prefix(owner)}/{_path_segments(path)}", path)
        next(chunks)  # send the request now: errors surface here, not at the first read
        return chunks

    def _verified_chunks(self, url: str, path: str) -> Iterator[bytes]:
        """Yields ``b""`` once the response has started, then the file's chunks."""
        with self._http.stream("GET", url, idempotent=True) as response:
            yield b""
            hasher = hashlib.sha256()
            for chunk in response.iter_bytes(CHUNK_SIZE):
                hasher.update(chunk)
                yield chunk
        _verify(hasher.hexdigest(), response.headers.get(sc.SHA256_HEADER), path)

    def copy(self, src_owner: str, src_path: str, dst_owner: str, dst_path: str) -> int:
        """Share files with another owner by reference; returns how many. Raises NotFound."""
        body = {
            "src_owner": src_owner,
            "src_path": src_path,
            "dst_owner": dst_owner,
            "dst_path": dst_path,
        }
        data = self._http.call("POST", f"{API}/artifacts/copy", body=body, idempotent=True)
        return _parse(sc.CopyOut, data).count


def _write_hashed(chunks: Iterable[bytes], out: BinaryIO) -> str:
    """Write ``chunks`` to ``out``; returns their SHA-256."""
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
        out.write(chunk)
    return hasher.hexdigest()


def _verify(actual: str, expected: str | None, path: str) -> None:
    if expected is None:
        raise IntegrityError(
            f"the server sent artifact {path!r} without its SHA-256 ({sc.SHA256_HEADER}); "
            "it cannot be verified. Is the URL a Shipyard server?"
        )
    if actual != expected.lower():
        raise IntegrityError(
            f"artifact {path!r} arrived corrupted: its bytes hash to {actual}, not {expected}. "
            "Download it again; if it persists the stored copy is damaged"
        )


def _owner_prefix(owner: str) -> str:
    """The URL of an owner's artifacts: ``run:<id>``, ``model:<name>/<v>``, ``dataset:<n>@<v>``."""
    kind, _, rest = str(owner).partition(":")
    if kind == "run" and rest:
        return f"{API}/runs/{_segment(rest)}/artifacts"
    sep = {"model": "/", "dataset": "@"}.get(kind)
    if sep and sep in rest:
        name, _, version = rest.rpartition(sep)
        if name and version.isdigit():
            plural = f"{kind}s"
            return f"{API}/{plural}/{_segment(name)}/versions/{int(version)}/artifacts"
    raise InvalidArgument(
        f"artifact owner {owner!r} is not one a server knows: use run:<run_id>, "
        "model:<name>/<version> or dataset:<name>@<version>"
    )


def _path_segments(path: str) -> str:
    """An artifact path in a URL; the server normalizes and checks it (``..`` is refused)."""
    return "/".join({".": "%2E", "..": "%2E%2E"}.get(p, p) for p in quote(str(path)).split("/"))


def _local_files(local_path: Path, base: str) -> list[tuple[str, Path]]:
    """``(artifact path, local file)`` for a file or every file under a folder, sorted."""
    join = (lambda name: f"{base}/{name}") if base else (lambda name: name)
    if local_path.is_file():
        return [(join(local_path.name), local_path)]
    if not local_path.is_dir():
        raise InvalidArgument(
            f"cannot upload {str(local_path)!r}: no such file or folder on this machine"
        )
    found = [
        (join(Path(folder, name).relative_to(local_path).as_posix()), Path(folder, name))
        for folder, _dirs, names in os.walk(local_path)
        for name in names
        if Path(folder, name).is_file()
    ]
    return sorted(found)


def _file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    for chunk in _read_chunks(path):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK_SIZE):
            yield chunk


# --- wiring -------------------------------------------------------------------------------------


def connect_http(settings: Settings) -> Services:
    """HTTP services for the team server at ``settings.tracking_uri``.

    Nothing is sent until the first call. Raises ConfigError for a URI that is not http(s).
    """
    from shipyard.errors import ConfigError

    if not settings.is_remote:
        raise ConfigError(
            f"connect_http needs an http(s):// tracking URI, got {settings.tracking_uri!r}"
        )
    transport = HttpTransport(settings.tracking_uri, token=settings.token)
    return Services(
        settings=settings,
        tracking=HttpTracking(transport),
        registry=HttpRegistry(transport),
        artifacts=HttpArtifacts(transport),
    )


__all__ = ["HttpArtifacts", "HttpRegistry", "HttpTracking", "HttpTransport", "connect_http"]
