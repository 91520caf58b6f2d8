"""Hyper-parameter search for the ``tune`` step: grid and random search, trials in parallel
on the executor, hopeless trials stopped early by the median stopping rule.

**Median stopping rule** (as in Google Vizier): a trial reports an intermediate value of the
objective at steps 0, 1, 2 …; at step *t* (from ``warmup_steps`` on) it is stopped when its
best value so far is worse than the median, over the trials completed before it started
(at least ``min_trials`` of them), of each one's running average up to step *t*. The history
a trial compares against is the one its driver knew when it submitted the trial, so a
sweep's decisions do not depend on worker timing beyond the order of completion.

A trial function takes ``params`` (this trial's point), ``report`` (call ``report(step,
value)``; it raises :class:`TrialPruned` when the trial should stop) and the step's inputs;
it returns the objective (a number) or a dict of metrics holding it.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import InvalidArgument, ShipyardError


class TrialPruned(ShipyardError):
    """Raised by ``report`` inside a trial the median stopping rule stops."""

    code = "TRIAL_PRUNED"


@dataclass(frozen=True)
class MedianStoppingRule:
    """Stop a trial whose best value so far is worse than the median of the running averages
    of earlier completed trials at the same step (see the module docstring)."""

    min_trials: int = 3
    warmup_steps: int = 1
    maximize: bool = True

    def should_stop(
        self, step: int, values: Sequence[float], history: Sequence[Sequence[float]]
    ) -> bool:
        """``values``: this trial's reports for steps 0..step; ``history``: each completed
        trial's reports by step."""
        if step < self.warmup_steps:
            return False
        averages = [sum(h[: step + 1]) / (step + 1) for h in history if len(h) > step]
        if len(averages) < self.min_trials:
            return False
        median = statistics.median(averages)
        best = max(values) if self.maximize else min(values)
        return best < median if self.maximize else best > median


class Reporter:
    """The ``report`` a trial calls: logs the value as a metric step, applies the rule."""

    def __init__(
        self,
        metric: str,
        run_id: str | None,
        rule: MedianStoppingRule | None,
        history: Sequence[Sequence[float]],
    ) -> None:
        self.metric = metric
        self.run_id = run_id
        self.rule = rule
        self.history = history
        self.values: list[float] = []

    def __call__(self, step: int, value: float) -> None:
        from shipyard.tracking import fluent

        if step != len(self.values):
            raise InvalidArgument(
                f"report steps must go 0, 1, 2 …; got {step} after {len(self.values)} reports"
            )
        self.values.append(float(value))
        if self.run_id:
            fluent.log_metric(self.metric, float(value), step=step, run_id=self.run_id)
        if self.rule is not None and self.rule.should_stop(step, self.values, self.history):
            raise TrialPruned(
                f"stopped at step {step}: best {self.metric} so far is worse than the median of "
                f"{len(self.history)} completed trials"
            )


# --- search spaces ------------------------------------------------------------------------------
def grid_points(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the listed values (each entry of ``space`` a list)."""
    names = list(space)
    for n in names:
        if not isinstance(space[n], list) or not space[n]:
            raise InvalidArgument(f"grid search: space.{n} must be a non-empty list of values")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


def random_points(space: Mapping[str, Any], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` points: a list entry is sampled uniformly; ``{low, high}`` uniformly in the range
    (``log: true`` log-uniformly, ``int: true`` whole numbers)."""
    if n < 1:
        raise InvalidArgument(f"random search needs trials >= 1, got {n}")
    rng = random.Random(seed)
    samplers = {name: _sampler(name, spec) for name, spec in space.items()}
    return [{name: s(rng) for name, s in samplers.items()} for _ in range(n)]


def _sampler(name: str, spec: Any) -> Callable[[random.Random], Any]:
    if isinstance(spec, list) and spec:
        return lambda rng: rng.choice(spec)
    if isinstance(spec, Mapping) and {"low", "high"} <= set(spec):
        low, high = float(spec["low"]), float(spec["high"])
        if not low < high or (spec.get("log") and low <= 0):
            raise InvalidArgument(f"space.{name}: need 0 < low < high for log, low < high else")
        as_int = bool(spec.get("int"))
        if spec.get("log"):

            def draw(rng: random.Random) -> Any:
                v = math.exp(rng.uniform(math.log(low), math.log(high)))
                return round(v) if as_int else v
        else:

            def draw(rng: random.Random) -> Any:
                return rng.randint(int(low), int(high)) if as_int else rng.uniform(low, high)

        return draw
    raise InvalidArgument(
        f"space.{name} must be a list of values or {{low: .., high: .., log: bool, int: bool}}"
    )


# --- one trial, on a worker ---------------------------------------------------------------------
@dataclass(frozen=True)
class TrialTask:
    """One trial to run on a worker, as a tracked run nested under the tune step's run."""

    number: int
    params: Mapping[str, Any]
    target: Any  # the trial callable (picklable)
    inputs: Mapping[str, Any]
    kwargs: Mapping[str, Any]
    metric: str
    maximize: bool
    rule: MedianStoppingRule | None
    history: tuple[tuple[float, ...], ...]
    settings: Mapping[str, str]
    experiment_id: int
    parent_run_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Run one trial; returns its number, run id, state (completed, pruned, failed), value,
    metrics and the curve it reported."""
    from shipyard.pipelines.worker import configure_worker, error_record
    from shipyard.tracking import fluent

    configure_worker(task.settings)
    tags = {"shipyard.tune.trial": str(task.number), **task.tags}
    run = fluent.start_run(
        task.experiment_id, name=f"trial-{task.number}", tags=tags, parent_run_id=task.parent_run_id
    )
    fluent.log_params(dict(task.params), run_id=run.run_id)
    report = Reporter(task.metric, run.run_id, task.rule, task.history)
    out: dict[str, Any] = {"number": task.number, "run_id": run.run_id, "params": task.params}
    try:
        result = task.target(params=dict(task.params), report=report, **task.inputs, **task.kwargs)
        metrics = _metrics(result, task.metric)
        fluent.log_metrics(metrics, run_id=run.run_id)
        out.update(state="completed", value=metrics[task.metric], metrics=metrics)
    except TrialPruned as exc:
        fluent.set_tag("shipyard.tune.pruned", "true", run_id=run.run_id)
        out.update(state="pruned", reason=str(exc))
    except Exception as exc:
        fluent.end_run("FAILED", run_id=run.run_id)
        out.update(state="failed", error=error_record(exc), curve=report.values)
        return out
    fluent.end_run("FINISHED", run_id=run.run_id)
    out["curve"] = report.values
    return out


def _metrics(result: Any, metric: str) -> dict[str, float]:
    if isinstance(result, Mapping):
        if metric not in result:
            raise InvalidArgument(f"the trial returned {sorted(result)}, without {metric!r}")
        return {str(k): float(v) for k, v in result.items()}
    return {metric: float(result)}


def sklearn_trial(
    params: Mapping[str, Any],
    report: Reporter,
    train: str,
    test: str | None = None,
    *,
    label: str,
    model: str,
    metric: str,
    positive: Any = None,
    preprocessing: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    base_dir: str = ".",
) -> dict[str, float]:
    """The built-in trial: fit scikit-learn ``model`` with ``fixed`` and ``params`` on
    ``train``, score on ``test`` (else ``train``), log the fitted model as ``model``."""
    from pathlib import Path

    from shipyard.pipelines.steps import StepContext
    from shipyard.pipelines.steps._common import build_estimator, load_frame, score, split_label
    from shipyard.registry.fluent import log_model

    run_id = report.run_id
    ctx = StepContext(
        pipeline="",
        step="tune",
        run_id=run_id,
        inputs={},
        params={"label": label, "positive": positive},
        base_dir=Path(base_dir),
    )
    X, y = split_label(ctx, load_frame(ctx, train))
    estimator = build_estimator(ctx, model, {**(fixed or {}), **params}, preprocessing)
    estimator.fit(X, y)
    if test:
        X, y = split_label(ctx, load_frame(ctx, test))
    scores = {f"test_{k}" if test else k: v for k, v in score(estimator, X, y).items()}
    if metric not in scores:
        raise InvalidArgument(f"metric {metric!r} is not one of the scores {sorted(scores)}")
    report(0, scores[metric])
    log_model(estimator, "model", input_example=X, run_id=run_id)
    return scores


__all__ = [
    "MedianStoppingRule",
    "Reporter",
    "TrialPruned",
    "TrialTask",
    "grid_points",
    "random_points",
    "run_trial",
    "sklearn_trial",
]
