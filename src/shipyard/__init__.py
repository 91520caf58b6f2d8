"""Shipyard: the whole life of a model in one tool.

The public SDK. Names load lazily on first use, so ``import shipyard`` (and ``shipyard --help``)
stays fast; heavy libraries are imported only by the functions that need them.

>>> import shipyard
>>> shipyard.__version__
'0.1.0'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # configuration
    "configure": "shipyard.tracking.fluent",
    "load_settings": "shipyard.config",
    "Settings": "shipyard.config",
    # tracking
    "start_run": "shipyard.tracking.fluent",
    "end_run": "shipyard.tracking.fluent",
    "active_run": "shipyard.tracking.fluent",
    "flush": "shipyard.tracking.fluent",
    "log_metric": "shipyard.tracking.fluent",
    "log_metrics": "shipyard.tracking.fluent",
    "log_param": "shipyard.tracking.fluent",
    "log_params": "shipyard.tracking.fluent",
    "set_tag": "shipyard.tracking.fluent",
    "set_tags": "shipyard.tracking.fluent",
    "log_artifact": "shipyard.tracking.fluent",
    "log_artifacts": "shipyard.tracking.fluent",
    "log_dict": "shipyard.tracking.fluent",
    "log_text": "shipyard.tracking.fluent",
    "log_figure": "shipyard.tracking.fluent",
    "log_input": "shipyard.tracking.fluent",
    "list_artifacts": "shipyard.tracking.fluent",
    "download_artifacts": "shipyard.tracking.fluent",
    "get_run": "shipyard.tracking.fluent",
    "get_metric_history": "shipyard.tracking.fluent",
    "search_runs": "shipyard.tracking.fluent",
    "delete_run": "shipyard.tracking.fluent",
    "restore_run": "shipyard.tracking.fluent",
    "create_experiment": "shipyard.tracking.fluent",
    "get_experiment": "shipyard.tracking.fluent",
    "list_experiments": "shipyard.tracking.fluent",
    "rename_experiment": "shipyard.tracking.fluent",
    "delete_experiment": "shipyard.tracking.fluent",
    "restore_experiment": "shipyard.tracking.fluent",
    "autolog": "shipyard.tracking.autolog",
    # registry
    "log_model": "shipyard.registry.fluent",
    "register_model": "shipyard.registry.fluent",
    "load_model": "shipyard.registry.fluent",
    "download_model": "shipyard.registry.fluent",
    "get_model_version": "shipyard.registry.fluent",
    "get_registered_model": "shipyard.registry.fluent",
    "list_registered_models": "shipyard.registry.fluent",
    "list_model_versions": "shipyard.registry.fluent",
    "delete_model_version": "shipyard.registry.fluent",
    "restore_model_version": "shipyard.registry.fluent",
    "set_alias": "shipyard.registry.fluent",
    "delete_alias": "shipyard.registry.fluent",
    "alias_history": "shipyard.registry.fluent",
    "update_registered_model": "shipyard.registry.fluent",
    "update_model_version": "shipyard.registry.fluent",
    "PythonModel": "shipyard.registry.package",
    # datasets
    "ingest_dataset": "shipyard.data.fluent",
    "load_dataset": "shipyard.data.fluent",
    "get_dataset": "shipyard.data.fluent",
    "list_datasets": "shipyard.data.fluent",
    "list_dataset_versions": "shipyard.data.fluent",
    "diff_datasets": "shipyard.data.fluent",
    "check_dataset": "shipyard.data.fluent",
    "DatasetVersion": "shipyard.data.datasets.entities",
    # deployments
    "deploy": "shipyard.serving.fluent",
    "list_deployments": "shipyard.serving.fluent",
    "predict_batch": "shipyard.serving.batch",
    # feature store
    "apply_features": "shipyard.features.fluent",
    "list_feature_definitions": "shipyard.features.fluent",
    "get_historical_features": "shipyard.features.fluent",
    "get_features_as_of": "shipyard.features.fluent",
    "materialize_features": "shipyard.features.fluent",
    "push_features": "shipyard.features.fluent",
    "get_online_features": "shipyard.features.fluent",
    "feature_skew": "shipyard.features.fluent",
    # monitoring
    "compute_drift": "shipyard.monitoring.drift.fluent",
    "DriftConfig": "shipyard.monitoring.drift.config",
    "DriftReport": "shipyard.monitoring.drift.entities",
    "add_monitor": "shipyard.monitoring.fluent",
    "get_check": "shipyard.monitoring.fluent",
    "list_alerts": "shipyard.monitoring.fluent",
    "list_monitors": "shipyard.monitoring.fluent",
    "list_retrainings": "shipyard.monitoring.fluent",
    "log_feedback": "shipyard.monitoring.fluent",
    "monitor_history": "shipyard.monitoring.fluent",
    "retrain_model": "shipyard.monitoring.fluent",
    "run_monitor": "shipyard.monitoring.fluent",
    "Monitor": "shipyard.monitoring.monitors",
    # pipelines
    "run_pipeline": "shipyard.pipelines.fluent",
    "list_pipelines": "shipyard.pipelines.fluent",
    "list_pipeline_runs": "shipyard.pipelines.fluent",
    "get_pipeline_run": "shipyard.pipelines.fluent",
    # gates, model cards, the scheduler
    "run_gate": "shipyard.pipelines.gates.fluent",
    "list_gate_results": "shipyard.pipelines.gates.fluent",
    "get_gate_result": "shipyard.pipelines.gates.fluent",
    "model_card": "shipyard.pipelines.cards.fluent",
    "list_triggers": "shipyard.pipelines.scheduler.fluent",
    "GateResult": "shipyard.pipelines.gates.entities",
    # entities and errors
    "Run": "shipyard.tracking.entities",
    "RunStatus": "shipyard.tracking.entities",
    "Metric": "shipyard.tracking.entities",
    "Experiment": "shipyard.tracking.entities",
    "DatasetInput": "shipyard.tracking.entities",
    "ModelVersion": "shipyard.registry.entities",
    "RegisteredModel": "shipyard.registry.entities",
    "ShipyardError": "shipyard.errors",
    "NotFound": "shipyard.errors",
    "InvalidArgument": "shipyard.errors",
}

__all__ = [
    "DatasetInput",
    "DatasetVersion",
    "DriftConfig",
    "DriftReport",
    "Experiment",
    "GateResult",
    "InvalidArgument",
    "Metric",
    "ModelVersion",
    "Monitor",
    "NotFound",
    "PythonModel",
    "RegisteredModel",
    "Run",
    "RunStatus",
    "Settings",
    "ShipyardError",
    "__version__",
    "active_run",
    "add_monitor",
    "alias_history",
    "apply_features",
    "autolog",
    "check_dataset",
    "compute_drift",
    "configure",
    "create_experiment",
    "delete_alias",
    "delete_experiment",
    "delete_model_version",
    "delete_run",
    "deploy",
    "diff_datasets",
    "download_artifacts",
    "download_model",
    "end_run",
    "feature_skew",
    "flush",
    "get_check",
    "get_dataset",
    "get_experiment",
    "get_features_as_of",
    "get_gate_result",
    "get_historical_features",
    "get_metric_history",
    "get_model_version",
    "get_online_features",
    "get_pipeline_run",
    "get_registered_model",
    "get_run",
    "ingest_dataset",
    "list_alerts",
    "list_artifacts",
    "list_dataset_versions",
    "list_datasets",
    "list_deployments",
    "list_experiments",
    "list_feature_definitions",
    "list_gate_results",
    "list_model_versions",
    "list_monitors",
    "list_pipeline_runs",
    "list_pipelines",
    "list_registered_models",
    "list_retrainings",
    "list_triggers",
    "load_dataset",
    "load_model",
    "load_settings",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_feedback",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "materialize_features",
    "model_card",
    "monitor_history",
    "predict_batch",
    "push_features",
    "register_model",
    "rename_experiment",
    "restore_experiment",
    "restore_model_version",
    "restore_run",
    "retrain_model",
    "run_gate",
    "run_monitor",
    "run_pipeline",
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "start_run",
    "update_model_version",
    "update_registered_model",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from shipyard.config import Settings, load_settings
    from shipyard.data.datasets.entities import DatasetVersion
    from shipyard.data.fluent import (
        check_dataset,
        diff_datasets,
        get_dataset,
        ingest_dataset,
        list_dataset_versions,
        list_datasets,
        load_dataset,
    )
    from shipyard.errors import InvalidArgument, NotFound, ShipyardError
    from shipyard.features.fluent import (
        apply_features,
        feature_skew,
        get_features_as_of,
        get_historical_features,
        get_online_features,
        list_feature_definitions,
        materialize_features,
        push_features,
    )
    from shipyard.monitoring.drift.config import DriftConfig
    from shipyard.monitoring.drift.entities import DriftReport
    from shipyard.monitoring.drift.fluent import compute_drift
    from shipyard.monitoring.fluent import (
        add_monitor,
        get_check,
        list_alerts,
        list_monitors,
        list_retrainings,
        log_feedback,
        monitor_history,
        retrain_model,
        run_monitor,
    )
    from shipyard.monitoring.monitors import Monitor
    from shipyard.pipelines.cards.fluent import model_card
    from shipyard.pipelines.fluent import (
        get_pipeline_run,
        list_pipeline_runs,
        list_pipelines,
        run_pipeline,
    )
    from shipyard.pipelines.gates.entities import GateResult
    from shipyard.pipelines.gates.fluent import get_gate_result, list_gate_results, run_gate
    from shipyard.pipelines.scheduler.fluent import list_triggers
    from shipyard.registry.entities import ModelVersion, RegisteredModel
    from shipyard.registry.fluent import (
        alias_history,
        delete_alias,
        delete_model_version,
        download_model,
        get_model_version,
        get_registered_model,
        list_model_versions,
        list_registered_models,
        load_model,
        log_model,
        register_model,
        restore_model_version,
        set_alias,
        update_model_version,
        update_registered_model,
    )
    from shipyard.registry.package import PythonModel
    from shipyard.serving.batch import predict_batch
    from shipyard.serving.fluent import deploy, list_deployments
    from shipyard.tracking.autolog import autolog
    from shipyard.tracking.entities import DatasetInput, Experiment, Metric, Run, RunStatus
    from shipyard.tracking.fluent import (
        active_run,
        configure,
        create_experiment,
        delete_experiment,
        delete_run,
        download_artifacts,
        end_run,
        flush,
        get_experiment,
        get_metric_history,
        get_run,
        list_artifacts,
        list_experiments,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        rename_experiment,
        restore_experiment,
        restore_run,
        search_runs,
        set_tag,
        set_tags,
        start_run,
    )
