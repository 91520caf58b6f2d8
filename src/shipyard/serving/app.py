"""The model server's app factory: ``create_app(["churn@champion"], ServeOptions(...))``.

Routes (see ``docs/serving.md``):

==================================== ==========================================================
``POST /v1/models/{name}/predict``   predictions, class probabilities, version and an id a row
``POST /invocations``                MLflow's scoring protocol, for the *first* served model
``GET /v1/models``                   every served reference: version, alias, status, signature
``GET /health/live``                 the process answers
``GET /health/ready``                200 once every model is loaded (503 before)
``GET /metrics``                     Prometheus text format (:mod:`.metrics`)
``GET /docs``, ``/openapi.json``     OpenAPI, with each model's columns as its request schema
==================================== ==========================================================

Every error is ``{"error": {"code", "message", "request_id"}}`` (a 422 adds ``fields``, one
entry per bad field) and every response carries ``X-Request-ID`` (the caller's, or a new one).
The request path stays lean: the body is read with a size cap, parsed with the standard ``json``
module, checked column by column (:mod:`.requests`) and queued for the next batched model call
(:mod:`.batching`); responses are serialised once, straight to bytes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import random
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.errors import InvalidArgument, NotFound, ShipyardError
from shipyard.serving import policies
from shipyard.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS
from shipyard.serving.batching import check_batch_options as _check_batching
from shipyard.serving.metrics import CONTENT_TYPE, UNKNOWN_MODEL, ServingMetrics
from shipyard.serving.models import (
    DEFAULT_RELOAD_INTERVAL_S,
    BatchOptions,
    Job,
    ModelError,
    ModelNotReady,
    ModelPool,
    ModelSource,
    Output,
    PoolOptions,
    ServedVersion,
    model_source,
)
from shipyard.serving.requests import (
    DEFAULT_MAX_BODY_BYTES,
    InputRecords,
    RawInput,
    SchemaMismatch,
    parse_body,
    read_body,
    record_model,
)

if TYPE_CHECKING:
    from shipyard.serving.predictions import PredictionLog

log = logging.getLogger("shipyard.serving")

API_VERSION = "v1"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


# --------------------------------------------------------------------------- options and plan


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``shipyard serve`` can set, as plain (JSON-able) values.

    ``canary`` holds ``REF=SHARE`` texts (``fraud@challenger=0.1``), ``shadow`` ``REF`` or
    ``REF=SHARE``, ``sticky_key`` ``header:NAME`` or ``field:NAME``. ``prediction_log_root``
    defaults to ``<SHIPYARD_HOME>/predictions``. ``name`` and ``model_version`` name the model
    of a package-folder reference (see :func:`~shipyard.serving.models.model_source`).
    ``feature_service`` names a feature service: requests then carry only entity keys (and
    request fields) and the server looks the features up online before predicting.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_wait_ms: float = DEFAULT_MAX_WAIT_MS
    batching: bool = True
    reload_interval_s: float = DEFAULT_RELOAD_INTERVAL_S
    canary: tuple[str, ...] = ()
    shadow: tuple[str, ...] = ()
    sticky_key: str | None = None
    log_predictions: bool = True
    prediction_log_root: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    allow_pickle: bool = False
    trusted: tuple[str, ...] = ()
    threads: int = 4
    name: str | None = None
    model_version: int | None = None
    feature_service: str | None = None

    def check(self) -> ServeOptions:
        """Return self if every value is usable. Raises InvalidArgument naming the bad one."""
        _check_batching(self.max_batch_size, self.max_wait_ms)
        if not self.reload_interval_s > 0:
            raise InvalidArgument(f"reload interval must be > 0 s, got {self.reload_interval_s}")
        if self.max_body_bytes < 1 or self.threads < 1:
            raise InvalidArgument("max_body_bytes and threads must be at least 1")
        if self.sticky_key is not None:
            policies.parse_sticky_key(self.sticky_key)
        return self

    def to_json(self) -> str:
        """JSON form, handed to worker processes through the environment."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        for key in ("canary", "shadow", "trusted"):
            data[key] = tuple(data.get(key) or ())
        return cls(**data)


@dataclass(frozen=True)
class ServedModel:
    """A model name the server answers for: its primary source and traffic policy."""

    name: str
    primary: str
    policy: policies.TrafficPolicy = field(default_factory=policies.TrafficPolicy)
    sources: tuple[ModelSource, ...] = ()


def plan_models(refs: Sequence[str], options: ServeOptions) -> dict[str, ServedModel]:
    """The served models by name, in the order given, with their canary and shadow.

    Raises InvalidArgument for no reference, a model named twice, a canary/shadow for a model
    that is not served, or a name/version given for anything but one package folder.
    """
    if not refs:
        raise InvalidArgument("serve at least one model, e.g. shipyard serve churn@champion")
    sources = _primary_sources(refs, options)
    plan: dict[str, ServedModel] = {}
    for source in sources:
        if source.name in plan:
            raise InvalidArgument(
                f"model {source.name!r} is named twice ({plan[source.name].primary} and "
                f"{source.ref}); serve a second version with --canary {source.ref}=SHARE or "
                f"--shadow {source.ref}"
            )
        policy = policies.TrafficPolicy(salt=source.name)
        plan[source.name] = ServedModel(source.name, source.ref, policy, (source,))
    for option, texts in (("--canary", options.canary), ("--shadow", options.shadow)):
        for text in texts:
            _add_split(plan, option, text)
    return plan


def _primary_sources(refs: Sequence[str], options: ServeOptions) -> list[ModelSource]:
    name, version = options.name, options.model_version
    sources = [
        model_source(r, name=name, version=version) if _is_folder(r) else model_source(r)
        for r in refs
    ]
    folders = sum(s.path is not None for s in sources)
    if (options.name is not None or options.model_version is not None) and folders != 1:
        raise InvalidArgument(
            "--name and --model-version name the model of one package folder; give exactly one "
            f"folder (got {folders}), or NAME/VERSION for a registered model"
        )
    return sources


def _is_folder(ref: str) -> bool:
    from shipyard.registry.package.model import METADATA_FILE

    return (Path(ref).expanduser() / METADATA_FILE).is_file()


def _add_split(plan: dict[str, ServedModel], option: str, text: str) -> None:
    kind = "canary" if option == "--canary" else "shadow"
    split = policies.parse_split(
        text, option=option, default_share=None if kind == "canary" else 1.0
    )
    served = plan.get(split.name)
    if served is None:
        raise InvalidArgument(
            f"{option} {text}: no served model is named {split.name!r}; serve it too "
            f"(e.g. {split.name}@champion) or fix the name (serving {sorted(plan)})"
        )
    old = served.policy
    policy = policies.TrafficPolicy(
        canary=split if kind == "canary" else old.canary,
        shadow=split if kind == "shadow" else old.shadow,
        salt=old.salt,
    )
    sources = (*served.sources, model_source(split.ref))
    plan[split.name] = ServedModel(served.name, served.primary, policy, sources)


# --------------------------------------------------------------------------- the server


@dataclass
class _Context:
    """What is known about a predict request so far, for its metrics."""

    endpoint: str
    start: float
    model: str = UNKNOWN_MODEL
    version: int | None = None
    role: str = "primary"
    rows: int = 0
    status: int = 200


class ModelServer:
    """The state behind one app: models, traffic policies, metrics and the prediction log."""

    def __init__(self, refs: Sequence[str], options: ServeOptions) -> None:
        from shipyard.serving.ids import new_ids

        self.options = options.check()
        self.models = plan_models(refs, options)
        self.default_name = next(iter(self.models))
        self.metrics = ServingMetrics()
        self.executor = ThreadPoolExecutor(options.threads, thread_name_prefix="shipyard-predict")
        batching = BatchOptions(options.batching, options.max_batch_size, options.max_wait_ms)
        self.pool = ModelPool(
            [source for model in self.models.values() for source in model.sources],
            options=PoolOptions(
                batching=batching,
                reload_interval_s=options.reload_interval_s,
                keep_inputs=options.log_predictions,
                allow_pickle=options.allow_pickle,
                trusted=options.trusted,
            ),
            executor=self.executor,
            metrics=self.metrics,
        )
        sticky = options.sticky_key
        self.sticky = None if sticky is None else policies.parse_sticky_key(sticky)
        self.prediction_log: PredictionLog | None = None
        self._new_ids = new_ids
        self._rng = random.Random()
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the prediction log and start loading the models in the background."""
        if self.options.log_predictions:
            from shipyard.serving.predictions import PredictionLog, default_root

            root = self.options.prediction_log_root
            self.prediction_log = PredictionLog(Path(root) if root else default_root())
            plog = self.prediction_log
            self.metrics.watch_dropped(lambda: float(plog.dropped))
        self.pool.start(loop)

    async def stop(self) -> None:
        """Finish shadow calls, stop polling, write the prediction log out."""
        if self._background:
            await asyncio.wait(self._background, timeout=5.0)
        await asyncio.to_thread(self.pool.stop)
        if self.prediction_log is not None:
            await asyncio.to_thread(self.prediction_log.close, 10.0)
        self.executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ predicting

    def model(self, name: str) -> ServedModel:
        """The served model ``name``. Raises NotFound listing the served ones."""
        model = self.models.get(name)
        if model is None:
            raise NotFound(
                f"no model {name!r} is served here; served: {', '.join(self.models)} "
                "(see GET /v1/models)"
            )
        return model

    async def predict(self, request: Request, name: str, *, endpoint: str) -> Response:
        """Answer one predict request (``endpoint`` is ``predict`` or ``invocations``).

        Counts it in the metrics whatever happens; errors propagate to the error handler.
        """
        start = time.perf_counter()
        ctx = _Context(endpoint=endpoint, start=start)
        try:
            model = self.model(name)
            ctx.model = model.name
            in_flight = self.pool.in_flight_of(model.name)
            in_flight.enter()
            try:
                return await self._predict(request, model, ctx)
            finally:
                in_flight.leave()
        except Exception as exc:
            ctx.status = exc.status if isinstance(exc, ShipyardError) else 500
            code = exc.code if isinstance(exc, ShipyardError) else "INTERNAL_ERROR"
            self.metrics.error(model=ctx.model, version=ctx.version, status=ctx.status, code=code)
            raise
        finally:
            self.metrics.request(
                model=ctx.model,
                version=ctx.version,
                endpoint=endpoint,
                role=ctx.role,
                status=ctx.status,
                seconds=time.perf_counter() - start,
                rows=ctx.rows,
            )

    async def _predict(self, request: Request, model: ServedModel, ctx: _Context) -> Response:
        body = await read_body(request, limit=self.options.max_body_bytes)
        raw = parse_body(body, request.headers.get("content-type"))
        sent = None  # behind a feature service: the entity keys and request fields, for the log
        if self.options.feature_service is not None:
            sent = raw.columns
            raw = await asyncio.to_thread(self._with_features, raw)
        served, ctx.role = self._route(model, request, raw)
        ctx.version = served.version
        job = Job(served.validator.validate(raw), want_proba=ctx.endpoint == "predict")
        output = await served.dispatcher.submit(job, job.input.n_rows)
        ctx.rows = job.input.n_rows
        ids = self._new_ids(ctx.rows)
        if ctx.endpoint == "predict":
            alias = self.pool.slots[served.ref].source.alias
            content = _predict_body(served, alias, output, ids, request_id(request))
        else:
            content = _dumps({"predictions": output.predictions})
        latency_ms = (time.perf_counter() - ctx.start) * 1000.0
        self._log(served, job, output, ids, latency_ms, status="ok", sent=sent)
        self._mirror(model, raw, output, ids)
        headers = {"X-Model-Version": f"{served.name}/{served.version}"}
        return Response(content, media_type="application/json", headers=headers)

    def _with_features(self, raw: RawInput) -> RawInput:
        """The request's rows joined with their online features (the feature service's
        values, event times and statuses), so the model sees the same vector as in training
        and the prediction log keeps it."""
        from shipyard.features.fluent import get_online_features

        if raw.columns is None:
            raise InvalidArgument(
                "with a feature service, send named fields (records or columns) holding the "
                "entity keys, not positional rows"
            )
        import pyarrow as pa

        entities = pa.table({k: list(v) for k, v in raw.columns.items()})
        table = get_online_features(entities, str(self.options.feature_service))
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        return RawInput(columns=columns, rows=None, n_rows=raw.n_rows)

    def _route(
        self, model: ServedModel, request: Request, raw: RawInput
    ) -> tuple[ServedVersion, str]:
        canary = model.policy.canary
        if canary is not None:
            side = policies.route(model.policy, key=self._key(request, raw), rng=self._rng)
            if side == policies.CHALLENGER:
                try:
                    return self.pool.get(canary.ref), "canary"
                except ModelNotReady:
                    pass  # a challenger that is not loaded yet: the primary answers
        return self.pool.get(model.primary), "primary"

    def _key(self, request: Request, raw: RawInput) -> str | None:
        sticky = self.sticky
        if sticky is None:
            return None
        if sticky.source == "header":
            return request.headers.get(sticky.name)
        value = raw.first_value(sticky.name)
        return None if value is None else str(value)

    def _log(
        self,
        served: ServedVersion,
        job: Job,
        output: Output,
        ids: Sequence[str],
        latency_ms: float,
        *,
        status: str,
        sent: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        plog = self.prediction_log
        if plog is None:
            return
        from shipyard.serving.predictions import with_columns

        outputs: dict[str, Any] = {"prediction": output.predictions}
        if output.proba is not None and output.classes is not None:
            for j, cls in enumerate(output.classes):
                outputs[f"proba_{cls}"] = output.proba[:, j]
        try:
            plog.log(
                served.name,
                served.version,
                with_columns(
                    output.inputs if output.inputs is not None else InputRecords(job.input), sent
                ),
                outputs,
                ids,
                latency_ms,
                status=status,
            )
        except ShipyardError as exc:  # never fail a prediction because it cannot be logged
            log.warning("prediction of %s/%d not logged: %s", served.name, served.version, exc)

    def _mirror(
        self, model: ServedModel, raw: RawInput, primary: Output, ids: Sequence[str]
    ) -> None:
        shadow = model.policy.shadow
        if shadow is None or not policies.mirror(model.policy, rng=self._rng):
            return
        try:
            served = self.pool.get(shadow.ref)
        except ModelNotReady:
            return
        task = asyncio.create_task(self._shadow(served, raw, primary, ids))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _shadow(
        self, served: ServedVersion, raw: RawInput, primary: Output, ids: Sequence[str]
    ) -> None:
        """Predict with the shadow; measure and log its outputs, never return them."""
        start = time.perf_counter()
        status, rows = 200, 0
        try:
            job = Job(served.validator.validate(raw))
            output = await served.dispatcher.submit(job, job.input.n_rows)
            rows = job.input.n_rows
            agree = sum(
                a == b for a, b in zip(output.predictions, primary.predictions, strict=True)
            )
            self.metrics.shadow(
                model=served.name, version=served.version, agree=agree, disagree=rows - agree
            )
            latency_ms = (time.perf_counter() - start) * 1000.0
            self._log(served, job, output, ids, latency_ms, status="shadow")
        except Exception as exc:
            status = exc.status if isinstance(exc, ShipyardError) else 500
            code = exc.code if isinstance(exc, ShipyardError) else "INTERNAL_ERROR"
            self.metrics.error(model=served.name, version=served.version, status=status, code=code)
            log.warning("shadow %s/%d failed: %s", served.name, served.version, exc)
        finally:
            self.metrics.request(
                model=served.name,
                version=served.version,
                endpoint="shadow",
                role="shadow",
                status=status,
                seconds=time.perf_counter() - start,
                rows=rows,
            )

    # ------------------------------------------------------------------ describing

    def describe(self) -> list[dict[str, Any]]:
        """One entry per served reference: the ``GET /v1/models`` body."""
        entries = []
        for model in self.models.values():
            entries.append(self._entry(model.name, model.primary, "primary", None))
            policy = model.policy
            if policy.canary is not None:
                entries.append(self._entry(model.name, policy.canary.ref, "canary", policy.canary))
            if policy.shadow is not None:
                entries.append(self._entry(model.name, policy.shadow.ref, "shadow", policy.shadow))
        return entries

    def _entry(
        self, name: str, ref: str, role: str, split: policies.Split | None
    ) -> dict[str, Any]:
        slot = self.pool.slots[ref]
        current = slot.current
        mv = None if current is None else current.model_version
        signature = (
            None
            if current is None or current.loaded.signature is None
            else current.loaded.signature
        )
        return {
            "name": name,
            "ref": ref,
            "alias": slot.source.alias,
            "version": None if mv is None else mv.version,
            "status": slot.status,
            "role": role,
            "share": None if split is None else split.share,
            "flavor": None if mv is None else mv.flavor,
            "signature": None if signature is None else signature.to_dict(),
            "error": slot.error,
        }


# --------------------------------------------------------------------------- bodies


def _predict_body(
    served: ServedVersion, alias: str | None, output: Output, ids: Sequence[str], rid: str
) -> bytes:
    """``{"model", "version", "alias", "request_id", "predictions", "prediction_ids"}`` and,
    for a classifier, ``"probabilities"``: one ``{class: p}`` a row, aligned with the rows."""
    body: dict[str, Any] = {
        "model": served.name,
        "version": served.version,
        "alias": alias,
        "request_id": rid,
        "predictions": output.predictions,
    }
    if output.proba is not None and output.classes is not None:
        classes = output.classes
        body["probabilities"] = [
            dict(zip(classes, row, strict=True)) for row in _clean(output.proba.tolist())
        ]
    body["prediction_ids"] = ids
    return _dumps(body)


def _clean(rows: list[list[float]]) -> list[list[float | None]]:
    """Probabilities with NaN/inf as null (JSON has neither)."""
    finite = all(v == v and v not in (float("inf"), float("-inf")) for row in rows for v in row)
    if finite:
        return rows  # type: ignore[return-value]
    return [[v if v == v and abs(v) != float("inf") else None for v in row] for row in rows]


def _dumps(data: Any) -> bytes:
    """Compact JSON bytes; numpy scalars and dates become plain values, NaN becomes null."""
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:  # a NaN or infinity somewhere in model output
        text = json.dumps(_nan_to_none(data), separators=(",", ":"), default=_plain)
    return text.encode()


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    if hasattr(value, "tolist"):
        return _nan_to_none(value.tolist())
    return value


def request_id(request: Request) -> str:
    """The id of this request (set by :class:`RequestIdMiddleware`)."""
    state = request.scope.get("state") or {}
    rid: str = state.get("request_id") or _new_request_id()
    return rid


def error_response(
    status: int,
    code: str,
    message: str,
    rid: str,
    *,
    fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The JSON error every failure returns: ``{"error": {"code", "message", "request_id"}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
    if fields is not None:
        error["fields"] = fields
    return Response(
        _dumps({"error": error}),
        status_code=status,
        media_type="application/json",
        headers=None if headers is None else dict(headers),
    )


# --------------------------------------------------------------------------- HTTP plumbing


class RequestIdMiddleware:
    """Give every request an id (the caller's ``X-Request-ID`` when sane), echo it in the
    response headers, and turn an unexpected exception into a logged 500 carrying that id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or _new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode("ascii"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s: %s %s failed", rid, scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(
                500, "INTERNAL_ERROR", f"internal server error; request id {rid}", rid
            )
            await response(scope, receive, send_with_id)


class PredictRoutes:
    """Answer ``POST /v1/models/{name}/predict`` and ``POST /invocations`` straight from the
    ASGI scope, without FastAPI's middleware stack, routing and dependency solving (which
    together took longer than the whole prediction of a single-row request).

    :class:`ModelServerApp` sends those requests here, wrapped in :class:`RequestIdMiddleware`,
    so they get their id and the same 500 handling; a :class:`ShipyardError` becomes the same
    error body as from the app's handler. Anything else goes to ``app``. The app keeps its
    routes for these paths (405 for a GET, the OpenAPI document).
    """

    def __init__(self, app: ASGIApp, server: ModelServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            target = self.target(scope["path"])
            if target is not None:
                request = Request(scope, receive)
                name, endpoint = target
                try:
                    response = await self.server.predict(request, name, endpoint=endpoint)
                except ShipyardError as exc:
                    response = await _shipyard_error(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def target(self, path: str) -> tuple[str, str] | None:
        """(model name, endpoint) of a predict path, None for any other path."""
        if path == "/invocations":
            return self.server.default_name, "invocations"
        match = _PREDICT_PATH.fullmatch(path)
        return None if match is None else (match.group(1), "predict")


_PREDICT_PATH = re.compile(r"/v1/models/([^/]+)/predict")


def _new_request_id() -> str:
    """32 random hex characters, like ``uuid4().hex`` at a third of the cost."""
    return os.urandom(16).hex()


def _incoming_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None


async def _shipyard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShipyardError)  # registered for ShipyardError only
    rid = request_id(request)
    if isinstance(exc, ModelError):
        log.error("request %s: %s", rid, exc, exc_info=exc.__cause__ or exc)
    elif exc.status >= 500:
        log.warning("request %s: %s: %s", rid, exc.code, exc)
    fields = [f.to_dict() for f in exc.fields] if isinstance(exc, SchemaMismatch) else None
    headers = {"Retry-After": "1"} if isinstance(exc, ModelNotReady) else None
    message = exc.message
    if exc.status >= 500:
        message = f"{message} (request id {rid})"
    return error_response(exc.status, exc.code, message, rid, fields=fields, headers=headers)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    return error_response(
        exc.status_code, code, str(exc.detail), request_id(request), headers=exc.headers
    )


# --------------------------------------------------------------------------- routes


router = APIRouter()


def _server(request: Request) -> ModelServer:
    server: ModelServer = request.app.state.server
    return server


@router.post("/v1/models/{name}/predict", include_in_schema=False)
async def predict(name: str, request: Request) -> Response:
    """Predict with model ``name`` (documented per model in the OpenAPI document)."""
    return await _server(request).predict(request, name, endpoint="predict")


@router.post("/invocations", include_in_schema=False)
async def invocations(request: Request) -> Response:
    """MLflow's scoring endpoint, answered by the first served model."""
    server = _server(request)
    return await server.predict(request, server.default_name, endpoint="invocations")


@router.get("/v1/models", tags=["models"])
async def list_models(request: Request) -> dict[str, Any]:
    """Every served reference: name, version, alias, role, status, signature and last error."""
    return {"models": _server(request).describe()}


@router.get("/health/live", tags=["health"])
async def live() -> dict[str, str]:
    """200 while the process answers."""
    return {"status": "alive"}


@router.get("/health/ready", tags=["health"])
async def ready(request: Request) -> Response:
    """200 once every model is loaded; 503 with each model's status before that."""
    server = _server(request)
    models = {ref: slot.status for ref, slot in server.pool.slots.items()}
    ok = server.pool.ready
    body = {"status": "ready" if ok else "loading", "models": models}
    return Response(_dumps(body), status_code=200 if ok else 503, media_type="application/json")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this server."""
    return Response(_server(request).metrics.render(), media_type=CONTENT_TYPE)


# --------------------------------------------------------------------------- OpenAPI


class ModelServerApp(FastAPI):
    """FastAPI whose OpenAPI document describes each served model's own request schema, and
    whose predict requests take the short way (:class:`PredictRoutes`)."""

    fast_path: PredictRoutes | None = None
    _fast_app: ASGIApp | None = None

    def use_fast_path(self, server: ModelServer) -> None:
        """Answer predict requests with :class:`PredictRoutes` (inside the request-id layer)."""
        self.fast_path = PredictRoutes(super().__call__, server)
        self._fast_app = RequestIdMiddleware(self.fast_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast, routes = self._fast_app, self.fast_path
        if (
            fast is not None
            and routes is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and routes.target(scope["path"]) is not None
        ):
            scope["app"] = self
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        base = super().openapi()
        server: ModelServer = self.state.server
        key = tuple(
            (ref, slot.current.version if slot.current else None)
            for ref, slot in server.pool.slots.items()
        )
        cached = getattr(self.state, "openapi_cache", None)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        doc = copy.deepcopy(base)
        for model in server.models.values():
            _document_model(doc, server, model)
        _document_invocations(doc, server)
        self.state.openapi_cache = (key, doc)
        return doc


def _document_model(doc: dict[str, Any], server: ModelServer, model: ServedModel) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_static_schemas())
    record = _record_schema(doc, server, model)
    body: dict[str, Any] = {
        "anyOf": [
            {
                "title": "records",
                "type": "object",
                "properties": {"records": {"type": "array", "items": record}},
                "required": ["records"],
            },
            {"title": "list of records", "type": "array", "items": record},
            _SPLIT_SCHEMA,
        ]
    }
    example = _example(server, model)
    content: dict[str, Any] = {"schema": body}
    if example is not None:
        content["example"] = {"records": example}
    doc.setdefault("paths", {})[f"/v1/models/{model.name}/predict"] = {
        "post": {
            "tags": ["predict"],
            "summary": f"Predict with {model.name}",
            "description": (
                f"Predictions of `{model.name}` ({model.primary}) for each row, with class "
                "probabilities for a classifier, the model version and an id per row."
            ),
            "operationId": f"predict_{model.name}",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": content,
                    "text/csv": {"schema": {"type": "string", "title": "CSV with a header line"}},
                },
            },
            "responses": _responses("#/components/schemas/PredictResponse"),
        }
    }


def _document_invocations(doc: dict[str, Any], server: ModelServer) -> None:
    model = server.models[server.default_name]
    record = _record_schema(doc, server, model)
    forms = [
        {"title": name, "type": "object", "properties": {name: schema}, "required": [name]}
        for name, schema in (
            ("dataframe_split", _SPLIT_SCHEMA),
            ("dataframe_records", {"type": "array", "items": record}),
            ("instances", {"type": "array", "items": {}}),
            ("inputs", {"anyOf": [{"type": "object"}, {"type": "array", "items": {}}]}),
        )
    ]
    doc.setdefault("paths", {})["/invocations"] = {
        "post": {
            "tags": ["predict"],
            "summary": f"MLflow-compatible scoring ({model.name})",
            "description": (
                "MLflow's scoring protocol, answered by the first served model "
                f'(`{model.name}`): `{{"predictions": [...]}}`.'
            ),
            "operationId": "invocations",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"anyOf": forms}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "responses": _responses("#/components/schemas/InvocationsResponse"),
        }
    }


def _record_schema(doc: dict[str, Any], server: ModelServer, model: ServedModel) -> dict[str, Any]:
    slot = server.pool.slots[model.primary]
    signature = None if slot.current is None else slot.current.loaded.signature
    pyd = record_model(model.name, signature)
    if pyd is None:
        return {"type": "object", "title": f"{model.name} row (no signature: any columns)"}
    schema = pyd.model_json_schema(by_alias=True)
    title = str(schema.get("title", pyd.__name__))
    doc["components"]["schemas"][title] = schema
    return {"$ref": f"#/components/schemas/{title}"}


def _example(server: ModelServer, model: ServedModel) -> Any:
    slot = server.pool.slots[model.primary]
    if slot.current is None:
        return None
    example = slot.current.loaded.input_example()
    return example[:1] if isinstance(example, list) else None


def _responses(ok_ref: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    described = {
        "400": "malformed body",
        "404": "unknown model",
        "413": "body over the size limit",
        "415": "unsupported Content-Type",
        "422": "input does not fit the signature (each bad field listed)",
        "500": "the model raised",
        "503": "model still loading",
    }
    responses: dict[str, Any] = {
        "200": {
            "description": "predictions",
            "content": {"application/json": {"schema": {"$ref": ok_ref}}},
        }
    }
    responses.update({code: {"description": text, **error} for code, text in described.items()})
    return responses


_SPLIT_SCHEMA: dict[str, Any] = {
    "title": "split",
    "type": "object",
    "properties": {
        "columns": {"type": "array", "items": {"type": "string"}},
        "data": {"type": "array", "items": {"type": "array", "items": {}}},
    },
    "required": ["columns", "data"],
}


class PredictResponse(BaseModel):
    """The body of a successful ``/v1/models/{name}/predict``."""

    model: str
    version: int
    alias: str | None
    request_id: str
    predictions: list[Any] = Field(description="One prediction a row, in input order.")
    probabilities: list[dict[str, float | None]] | None = Field(
        None, description="For a classifier: one {class: probability} a row."
    )
    prediction_ids: list[str] = Field(description="One id a row, as in the prediction log.")


class InvocationsResponse(BaseModel):
    """The body of a successful ``/invocations`` (MLflow's shape)."""

    predictions: list[Any]


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str
    fields: list[FieldProblem] | None = Field(None, description="422 only: each bad field.")


class Error(BaseModel):
    """Every error response."""

    error: ErrorDetail


def _static_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(m, "serialization") for m in (PredictResponse, InvocationsResponse, Error)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


# --------------------------------------------------------------------------- the factory


def create_app(refs: Sequence[str], options: ServeOptions | None = None) -> FastAPI:
    """The model server app for ``refs`` (``churn@champion``, ``fraud/3`` …).

    Nothing is loaded here: models load in the background once the app starts (its lifespan),
    and ``/health/ready`` turns 200 when all are loaded. Raises InvalidArgument for bad
    references or options (canary of a model not served, a model named twice, …).
    """
    server = ModelServer(refs, options or ServeOptions())
    app = ModelServerApp(
        title="Shipyard model server",
        summary=f"Predictions from {', '.join(m.primary for m in server.models.values())}.",
        version=API_VERSION,
        lifespan=_lifespan,
    )
    app.state.server = server
    app.include_router(router)
    app.add_exception_handler(ShipyardError, _shipyard_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(RequestIdMiddleware)
    app.use_fast_path(server)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    server: ModelServer = app.state.server
    server.start(asyncio.get_running_loop())
    try:
        yield
    finally:
        await server.stop()


__all__ = [
    "API_VERSION",
    "Error",
    "InvocationsResponse",
    "ModelServer",
    "ModelServerApp",
    "PredictResponse",
    "PredictRoutes",
    "RequestIdMiddleware",
    "ServeOptions",
    "ServedModel",
    "create_app",
    "error_response",
    "plan_models",
    "request_id",
]
