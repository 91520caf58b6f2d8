"""The checks of a gate that need no server: metric margins on the same rows, the validation
suite on the evaluation data, and signature compatibility."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import InvalidArgument
from shipyard.pipelines.gates.entities import CLASSIFICATION_METRICS, Check, MetricRule

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.data.datasets.store import DatasetStore
    from shipyard.registry.entities import ModelVersion
    from shipyard.registry.package.model import LoadedModel

_PROBA_METRICS = {"roc_auc", "log_loss"}


def split_label(
    table: pa.Table, label: str, dataset: str
) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    """The features (every column but ``label``) as pandas, and the labels as numpy.

    Raises InvalidArgument when ``label`` is not a column of the evaluation data.
    """
    if label not in table.column_names:
        raise InvalidArgument(
            f"evaluation data {dataset} has no label column {label!r}; its columns are "
            f"{table.column_names}"
        )
    y = table.column(label).to_numpy(zero_copy_only=False)
    return table.drop_columns([label]).to_pandas(), y


def score(
    model: LoadedModel, X: pd.DataFrame, y: np.ndarray[Any, Any], metrics: Iterable[str]
) -> dict[str, float]:
    """``metrics`` of ``model`` on ``X`` against ``y`` (scikit-learn's definitions).

    Binary classifiers are scored on the second class (``classes_[1]``) as positive; more classes
    use macro averages and one-vs-rest ROC AUC.
    """
    from sklearn import metrics as skm

    wanted = set(metrics)
    predicted = np.asarray(model.predict(X))
    out: dict[str, float] = {}
    if wanted & set(CLASSIFICATION_METRICS):
        classes = _classes(model, y)
        binary = len(classes) == 2
        average = "binary" if binary else "macro"
        extra: dict[str, Any] = {"pos_label": classes[1]} if binary else {}
        simple: dict[str, Callable[[], Any]] = {
            "accuracy": lambda: skm.accuracy_score(y, predicted),
            "precision": lambda: skm.precision_score(
                y, predicted, average=average, zero_division=0, **extra
            ),
            "recall": lambda: skm.recall_score(
                y, predicted, average=average, zero_division=0, **extra
            ),
            "f1": lambda: skm.f1_score(y, predicted, average=average, zero_division=0, **extra),
        }
        out.update({k: float(fn()) for k, fn in simple.items() if k in wanted})
        if wanted & _PROBA_METRICS:
            proba = np.asarray(model.predict_proba(X), dtype=float)
            if "roc_auc" in wanted:
                out["roc_auc"] = float(
                    skm.roc_auc_score(y, proba[:, 1])
                    if binary
                    else skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
                )
            if "log_loss" in wanted:
                out["log_loss"] = float(skm.log_loss(y, proba, labels=classes))
    regression: dict[str, Callable[[], Any]] = {
        "mae": lambda: skm.mean_absolute_error(y, predicted),
        "rmse": lambda: skm.root_mean_squared_error(y, predicted),
        "r2": lambda: skm.r2_score(y, predicted),
    }
    out.update({k: float(fn()) for k, fn in regression.items() if k in wanted})
    return out


def _classes(model: LoadedModel, y: np.ndarray[Any, Any]) -> list[Any]:
    classes = getattr(model.native, "classes_", None)
    found = list(np.unique(y)) if classes is None else list(classes)
    if len(found) < 2:
        raise InvalidArgument(
            f"classification metrics need at least two classes; the labels hold {found}"
        )
    return found


def metric_checks(
    rules: Sequence[MetricRule],
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    *,
    dataset: str,
    rows: int,
) -> list[Check]:
    """One check per rule: the candidate's value, the champion's, the bound and the margin."""
    checks = []
    for rule in rules:
        value = candidate[rule.metric]
        base = None if champion is None else champion[rule.metric]
        bound = rule.bound(base)
        passed = bool(np.isfinite(value)) and rule.holds(value, bound)
        versus = "" if base is None else f" (champion {base:.4g})"
        checks.append(
            Check(
                name=str(rule),
                kind="metric",
                passed=passed,
                message=f"{rule.metric} {value:.4g}{versus}, needs {rule.op} {bound:.4g}",
                figures={
                    "metric": rule.metric,
                    "candidate": value,
                    "champion": base,
                    "bound": bound,
                    "difference": None if base is None else value - base,
                    "dataset": dataset,
                    "rows": rows,
                },
            )
        )
    return checks


def suite_check(store: DatasetStore, dataset: str, suite: str) -> Check:
    """The validation suite (a YAML file) on the evaluation data (nothing is quarantined)."""
    from shipyard.data.validation import Suite

    loaded = Suite.from_yaml(Path(suite))
    result = store.check(dataset, loaded, quarantine=False)
    report = result.report
    failed = [
        {"rule": r.name, "severity": r.severity, "failed_rows": r.failed_count}
        for r in report.failed
    ]
    errors = [f for f in failed if f["severity"] == "error"]
    message = (
        f"suite {loaded.name!r}: {_count(len(report.results), 'rule')} on {report.num_rows} rows, "
        + ("all error rules pass" if report.passed else f"{len(errors)} error rule(s) failed: ")
        + ", ".join(f"{f['rule']} ({f['failed_rows']} rows)" for f in errors)
    )
    return Check(
        name="suite",
        kind="suite",
        passed=report.passed,
        message=message,
        figures={
            "suite": loaded.name,
            "dataset": result.version.ref,
            "rows": report.num_rows,
            "rules": len(report.results),
            "failed": failed,
        },
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def signature_check(candidate: ModelVersion, champion: ModelVersion | None) -> Check:
    """The candidate accepts what the champion accepted (and returns what it returned)."""
    from shipyard.registry.package.signature import Signature, compatible

    if champion is None or champion.signature is None:
        return Check("signature", "signature", True, "no champion signature to compare with", {})
    if candidate.signature is None:
        return Check(
            "signature",
            "signature",
            False,
            f"the champion {champion.name}/{champion.version} has a signature, the candidate none",
            {"problems": ["candidate has no signature"]},
        )
    problems = compatible(
        Signature.from_dict(champion.signature), Signature.from_dict(candidate.signature)
    )
    message = "compatible with the champion" if not problems else "; ".join(problems)
    return Check("signature", "signature", not problems, message, {"problems": problems})
