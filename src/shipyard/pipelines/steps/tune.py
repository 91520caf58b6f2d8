"""``use: tune`` — a hyper-parameter sweep, its trials in parallel on the pipeline's executor.

Inputs ``train`` (and optionally ``test``, passed to each trial); ``with:``
  ``search: grid | random``, ``space: {C: [0.1, 1, 10], lr: {low: 0.01, high: 0.3, log: true}}``,
  ``trials: 20`` and ``seed: 0`` (random), ``metric: test_roc_auc``, ``mode: max | min``,
  ``parallel: N`` (trials at once; default the executor's workers),
  ``early_stopping: {rule: median, min_trials: 3, warmup_steps: 1}`` (or ``false``),
  either ``model: gbm | logreg | module:Class`` with ``label``, ``positive``,
  ``preprocessing``, ``fixed: {...}`` (the built-in scikit-learn trial), or
  ``call: module:function`` with ``args: {...}`` (your trial, see ``shipyard.pipelines.tuning``),
  ``register: {name: churn, alias: challenger}`` to register the best trial's model.
Each trial is a tracked run nested under this step's run. Outputs ``model`` (the best trial's
``runs:/…/model``, or ``NAME/VERSION`` once registered), ``metrics`` and ``best_params``.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.steps import Builtin, StepContext


def _points(ctx: StepContext) -> list[dict[str, Any]]:
    from shipyard.pipelines.tuning import grid_points, random_points

    space = ctx.param("space")
    if not isinstance(space, Mapping) or not space:
        raise InvalidArgument(f"step {ctx.step!r}: space must map parameter names to values")
    search = str(ctx.params.get("search", "grid"))
    if search == "grid":
        return grid_points(space)
    if search == "random":
        return random_points(space, int(ctx.param("trials")), int(ctx.params.get("seed", 0)))
    raise InvalidArgument(f"step {ctx.step!r}: search {search!r} is not grid or random")


def _rule(ctx: StepContext, maximize: bool) -> Any:
    from shipyard.pipelines.tuning import MedianStoppingRule

    spec = ctx.params.get("early_stopping", {"rule": "median"})
    if spec is False or spec is None:
        return None
    if not isinstance(spec, Mapping) or spec.get("rule", "median") != "median":
        raise InvalidArgument(f"step {ctx.step!r}: early_stopping supports rule: median only")
    return MedianStoppingRule(
        min_trials=int(spec.get("min_trials", 3)),
        warmup_steps=int(spec.get("warmup_steps", 1)),
        maximize=maximize,
    )


def _target(ctx: StepContext, metric: str) -> tuple[Any, dict[str, Any]]:
    from shipyard.pipelines.definitions import import_callable
    from shipyard.pipelines.tuning import sklearn_trial
    from shipyard.pipelines.worker import PortableFn

    if ctx.params.get("call"):
        fn = import_callable(str(ctx.params["call"]), (str(ctx.base_dir),), step=ctx.step)
        return PortableFn(fn), dict(ctx.params.get("args") or {})
    preprocessing = ctx.params.get("preprocessing")
    return sklearn_trial, {
        "label": ctx.param("label"),
        "model": ctx.param("model"),
        "metric": metric,
        "positive": ctx.params.get("positive"),
        "preprocessing": str(ctx.path(preprocessing)) if preprocessing else None,
        "fixed": dict(ctx.params.get("fixed") or {}),
        "base_dir": str(ctx.base_dir),
    }


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.pipelines.runner import worker_settings
    from shipyard.pipelines.tuning import TrialTask, run_trial
    from shipyard.tracking import fluent

    if ctx.pool is None:
        raise InvalidArgument(f"step {ctx.step!r} (tune) must run inside a pipeline run")
    metric = str(ctx.param("metric"))
    mode = str(ctx.params.get("mode", "max"))
    if mode not in ("max", "min"):
        raise InvalidArgument(f"step {ctx.step!r}: mode must be max or min, not {mode!r}")
    maximize = mode == "max"
    points = _points(ctx)
    rule = _rule(ctx, maximize)
    target, kwargs = _target(ctx, metric)
    parallel = int(ctx.params.get("parallel") or ctx.pool.workers)
    settings = worker_settings(fluent.services().settings)
    experiment_id = fluent.get_run(ctx.run_id).experiment_id if ctx.run_id else 0
    history: list[tuple[float, ...]] = []
    results: list[dict[str, Any]] = []
    pending = iter(enumerate(points))
    flights: set[cf.Future[Any]] = set()

    def submit_next() -> bool:
        nxt = next(pending, None)
        if nxt is None:
            return False
        number, params = nxt
        task = TrialTask(
            number=number,
            params=params,
            target=target,
            inputs=dict(ctx.inputs),
            kwargs=kwargs,
            metric=metric,
            maximize=maximize,
            rule=rule,
            history=tuple(history),
            settings=settings,
            experiment_id=experiment_id,
            parent_run_id=ctx.run_id,
            tags={"shipyard.pipeline": ctx.pipeline, "shipyard.pipeline.step": ctx.step},
        )
        flights.add(ctx.pool.submit(run_trial, task))
        return True

    while len(flights) < parallel and submit_next():
        pass
    while flights:
        done, _ = cf.wait(flights, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            flights.discard(fut)
            res = fut.result()
            results.append(res)
            if res["state"] == "completed" and res.get("curve"):
                history.append(tuple(res["curve"]))
            submit_next()
    return _finish(ctx, results, metric, maximize)


def _finish(
    ctx: StepContext, results: list[dict[str, Any]], metric: str, maximize: bool
) -> Mapping[str, Any]:
    from shipyard.registry.fluent import register_model
    from shipyard.tracking import fluent

    completed = [r for r in results if r["state"] == "completed"]
    counts = {s: sum(r["state"] == s for r in results) for s in ("completed", "pruned", "failed")}
    if not completed:
        first = next((r for r in results if r["state"] == "failed"), None)
        detail = f"; first failure: {first['error']['message']}" if first else ""
        raise InvalidArgument(f"no trial of {len(results)} completed ({counts}){detail}")
    best = (max if maximize else min)(completed, key=lambda r: r["value"])
    summary = {f"trials_{k}": float(v) for k, v in counts.items()}
    summary[f"best_{metric}"] = float(best["value"])
    if ctx.run_id:
        fluent.log_metrics(summary, run_id=ctx.run_id)
        fluent.set_tags(
            {"shipyard.tune.best_run": best["run_id"], "shipyard.tune.best_trial": best["number"]},
            run_id=ctx.run_id,
        )
    model = f"runs:/{best['run_id']}/model"
    register = ctx.params.get("register")
    if register:
        spec = register if isinstance(register, Mapping) else {"name": str(register)}
        try:
            mv = register_model(
                str(spec["name"]),
                run_id=best["run_id"],
                alias=spec.get("alias"),
                description=f"best of {len(results)} trials by {metric} (pipeline {ctx.pipeline})",
                tags={"shipyard.pipeline": ctx.pipeline},
            )
        except LookupError as exc:
            raise InvalidArgument(
                f"step {ctx.step!r}: the best trial logged no model to register ({exc}); log "
                "one as 'model' in your trial function"
            ) from exc
        model = f"{mv.name}/{mv.version}"
    return {
        "model": model,
        "metrics": {**best["metrics"], **summary},
        "best_params": dict(best["params"]),
    }


STEP = Builtin(
    name="tune",
    version="1",
    run=run,
    inputs=("train",),
    optional_inputs=("test",),
    outputs={"model": "model", "metrics": "metrics", "best_params": "value"},
    file_params=("preprocessing",),
    driver=True,
    doc=__doc__ or "",
)
