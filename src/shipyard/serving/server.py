"""The state behind a model server app (:class:`ModelServer`): the served models and their pool,
traffic policies, metrics and the prediction log, and the predict path itself."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response

from shipyard.errors import InvalidArgument, NotFound, ShipyardError
from shipyard.serving import policies
from shipyard.serving.http import json_bytes, predict_body, request_id
from shipyard.serving.metrics import UNKNOWN_MODEL, ServingMetrics
from shipyard.serving.models import (
    BatchOptions,
    Job,
    ModelNotReady,
    ModelPool,
    Output,
    PoolOptions,
    ServedVersion,
)
from shipyard.serving.plan import ServedModel, ServeOptions, plan_models
from shipyard.serving.requests import InputRecords, RawInput, parse_body, read_body

if TYPE_CHECKING:
    from shipyard.serving.predictions import PredictionLog

log = logging.getLogger("shipyard.serving")


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
            content = predict_body(served, alias, output, ids, request_id(request))
        else:
            content = json_bytes({"predictions": output.predictions})
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
