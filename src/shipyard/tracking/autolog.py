"""``shipyard.autolog()``: scikit-learn ``fit`` records itself.

After ``autolog()``, the outermost ``fit`` of any scikit-learn estimator (a Pipeline's inner fits
and a grid search's candidate fits are not logged separately) logs, to the active run or to a new
run it starts and ends:

* the estimator's parameters (``get_params(deep=True)``; nested estimators by class name),
* training metrics (``training_accuracy_score``, ``training_f1_score``, ``training_roc_auc`` …
  for classifiers; ``training_r2_score``, ``training_mean_absolute_error`` … for regressors),
  and for searches ``best_score`` and the ``best_*`` params,
* the fitted model as a package under ``model/`` with its signature and an input example.

A failure while logging never breaks the user's ``fit``: it is reported through ``logging``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("shipyard.autolog")

_patched: dict[type, Callable[..., Any]] = {}
_depth = threading.local()
_options: dict[str, Any] = {}
MAX_PARAMS = 200


def autolog(
    *, log_models: bool = True, log_input_examples: bool = True, disable: bool = False
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    Example::

        shipyard.autolog()
        with shipyard.start_run(experiment="churn"):
            pipeline.fit(X, y)   # params, metrics and the model are logged
    """
    if disable:
        for cls, original in _patched.items():
            cls.fit = original  # type: ignore[attr-defined]
        _patched.clear()
        return
    _options.update(log_models=log_models, log_input_examples=log_input_examples)
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    # Patch every class that defines fit itself, abstract bases included (a grid search's fit
    # lives in BaseSearchCV), so that the outermost fit is always the one that logs.
    for _, estimator in [*all_estimators(), ("Pipeline", Pipeline)]:
        for cls in estimator.__mro__:
            if callable(cls.__dict__.get("fit")) and cls not in _patched:
                _patch(cls)


def _patch(cls: type) -> None:
    original = cls.__dict__["fit"]

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        try:
            result = original(self, *args, **kwargs)
            if depth == 0:  # fits made while logging (e.g. inside metrics) stay unlogged
                X = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                try:
                    _log_fit(self, X, y)
                except Exception as exc:
                    log.warning(
                        "shipyard autolog could not record %s.fit: %s", type(self).__name__, exc
                    )
        finally:
            _depth.n = depth
        return result

    _patched[cls] = original
    cls.fit = fit  # type: ignore[attr-defined]


def _log_fit(estimator: Any, X: Any, y: Any) -> None:
    from shipyard.registry.fluent import log_model
    from shipyard.tracking import fluent

    own_run = fluent.active_run() is None
    run = fluent.start_run(name=f"autolog-{type(estimator).__name__}") if own_run else None
    try:
        fluent.set_tags(
            {"shipyard.autolog": "sklearn", "shipyard.estimator": type(estimator).__name__}
        )
        fluent.log_params(estimator_params(estimator))
        metrics = training_metrics(estimator, X, y)
        if hasattr(estimator, "best_score_"):
            metrics["best_score"] = float(estimator.best_score_)
            fluent.log_params({f"best_{k}": v for k, v in estimator.best_params_.items()})
        if metrics:
            fluent.log_metrics(metrics)
        if _options.get("log_models", True):
            example = _head(X) if _options.get("log_input_examples", True) else None
            log_model(estimator, "model", input_example=example, metrics=metrics)
    except BaseException:
        if run is not None:
            fluent.end_run("FAILED", run_id=run.run_id)
        raise
    if run is not None:
        fluent.end_run(run_id=run.run_id)


SIGNATURE_ROWS = 10_000


def _head(X: Any) -> Any:
    """The rows the signature is inferred from (the package keeps the first five)."""
    if hasattr(X, "iloc"):
        return X.iloc[:SIGNATURE_ROWS]
    try:
        return X[:SIGNATURE_ROWS]
    except TypeError:
        return None


def estimator_params(estimator: Any) -> dict[str, str]:
    """Flat params of an estimator; nested estimators appear as their class name."""
    out: dict[str, str] = {}
    for key, value in sorted(estimator.get_params(deep=True).items()):
        if len(out) >= MAX_PARAMS:
            break
        if hasattr(value, "get_params"):
            text = type(value).__name__
        elif isinstance(value, (list, tuple)) and value and isinstance(value[0], tuple):
            text = repr([step[0] for step in value])  # Pipeline steps: their names
        else:
            text = repr(value) if isinstance(value, str) else str(value)
        out[key] = text[:6000]
    return out


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Scores of the fitted estimator on its own training data (empty when unsupervised)."""
    if y is None or not hasattr(estimator, "predict"):
        return {}
    from sklearn import metrics as m
    from sklearn.base import is_classifier, is_regressor

    pred = estimator.predict(X)
    out: dict[str, float] = {}
    if is_classifier(estimator):
        out["training_accuracy_score"] = m.accuracy_score(y, pred)
        for name, fn in (
            ("precision", m.precision_score),
            ("recall", m.recall_score),
            ("f1", m.f1_score),
        ):
            out[f"training_{name}_score"] = fn(y, pred, average="weighted", zero_division=0)
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            out["training_log_loss"] = m.log_loss(y, proba, labels=estimator.classes_)
            if proba.shape[1] == 2:
                out["training_roc_auc"] = m.roc_auc_score(y, proba[:, 1])
    elif is_regressor(estimator):
        out["training_r2_score"] = m.r2_score(y, pred)
        out["training_mean_squared_error"] = m.mean_squared_error(y, pred)
        out["training_root_mean_squared_error"] = out["training_mean_squared_error"] ** 0.5
        out["training_mean_absolute_error"] = m.mean_absolute_error(y, pred)
    return {k: float(v) for k, v in out.items()}
