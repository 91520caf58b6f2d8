"""The metadata schema, in SQLAlchemy Core. Alembic migrations create exactly these tables.

Times are integers: milliseconds since the Unix epoch, UTC. A NaN metric is stored as NULL
``value`` (SQL comparisons with NULL are false, so NaN never matches a filter and sorts last);
+/-infinity are stored as they are.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Names for constraints so Alembic migrations are stable on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

KEY_MAX = 250
NAME_MAX = 250
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 8000

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", String(TAG_VALUE_MAX), nullable=False),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("status", String(16), nullable=False),
    Column("parent_run_id", String(32), nullable=True),
    Column("user", String(NAME_MAX), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("heartbeat_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    Index("ix_runs_status_heartbeat", "status", "heartbeat_at"),
    Index("ix_runs_parent", "parent_run_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", String(PARAM_VALUE_MAX), nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
    Index("ix_params_key_value", "key", "value"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", String(TAG_VALUE_MAX), nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", Float, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

# The last value of each metric of each run (largest step, then latest timestamp): what filters
# and ordering in search_runs use, kept up to date in the same transaction as each batch.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", Float, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

# Dataset lineage: what a run read.
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("context", String(64), nullable=False),
    Column("num_rows", BigInteger, nullable=True),
    Column("schema_json", Text, nullable=True),
    Column("logged_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "name", "digest", "context"),
)

# Every artifact file of every owner ("run:<id>", "model:<name>/<version>", later
# "dataset:<name>@<version>"): a logical path pointing at a content-addressed blob.
artifacts = Table(
    "artifacts",
    metadata,
    Column("owner", String(400), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("owner", "path"),
    Index("ix_artifacts_sha256", "sha256"),
)

# --- registry (migration 0002) ---------------------------------------------------------------

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(NAME_MAX), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("name", String(NAME_MAX), ForeignKey("registered_models.name"), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", String(TAG_VALUE_MAX), nullable=False),
    PrimaryKeyConstraint("name", "key"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(NAME_MAX), ForeignKey("registered_models.name"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("source", Text, nullable=False),
    Column("flavor", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("signature_json", Text, nullable=True),
    Column("metrics_json", Text, nullable=True),
    Column("user", String(NAME_MAX), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("name", "version"),
    Index("ix_model_versions_run", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(NAME_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("value", String(TAG_VALUE_MAX), nullable=False),
    PrimaryKeyConstraint("name", "version", "key"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(NAME_MAX), ForeignKey("registered_models.name"), nullable=False),
    Column("alias", String(KEY_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias"),
)

# Every move of an alias, never updated or deleted: "which version was champion on date D".
alias_events = Table(
    "alias_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("alias", String(KEY_MAX), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("user", String(NAME_MAX), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_alias_events_name_alias_at", "name", "alias", "at"),
)

# --- datasets (migration 0003) ---------------------------------------------------------------

datasets = Table(
    "datasets",
    metadata,
    Column("name", String(NAME_MAX), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# An immutable snapshot: ``version`` is the SHA-256 of its Parquet file (artifact owner
# "dataset:<name>@<version>", path "data.parquet"); ``seq`` numbers a dataset's versions 1, 2, …
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("name", String(NAME_MAX), ForeignKey("datasets.name"), nullable=False),
    Column("version", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("num_rows", BigInteger, nullable=False),
    Column("num_bytes", BigInteger, nullable=False),
    Column("schema_json", Text, nullable=False),
    Column("profile_json", Text, nullable=False),
    Column("source_json", Text, nullable=False),
    Column("watermark_json", Text, nullable=True),
    Column("parent", String(64), nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("tags_json", Text, nullable=False),
    Column("user", String(NAME_MAX), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("name", "version"),
    Index("ix_dataset_versions_name_seq", "name", "seq", unique=True),
)

# --- feature store (migration 0004) ---------------------------------------------------------

# Every applied version of an entity, feature view or feature service, never updated.
feature_definitions = Table(
    "feature_definitions",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("user", String(NAME_MAX), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("kind", "name", "version"),
)

# How far each view has been materialized to the online store (event time, microseconds).
feature_materializations = Table(
    "feature_materializations",
    metadata,
    Column("view", String(NAME_MAX), primary_key=True),
    Column("watermark_us", BigInteger, nullable=True),
    Column("rows", BigInteger, nullable=False),
    Column("online_store", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# --- deployments (migration 0005) -----------------------------------------------------------

# Every deployment of a model version (who, when, which traffic policy), never updated.
deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("model", String(NAME_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ref", String(NAME_MAX), nullable=False),
    Column("policy_json", Text, nullable=False),
    Column("target", String(32), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("feature_service", String(NAME_MAX), nullable=True),
    Column("note", Text, nullable=False),
    Column("user", String(NAME_MAX), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_deployments_name_created_at", "name", "created_at"),
    Index("ix_deployments_model_version", "model", "version"),
)

# --- pipelines (migration 0006) -------------------------------------------------------------

# One run of a pipeline: its trigger, executor, outcome and the tracked run its steps nest under.
pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pipeline", String(NAME_MAX), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(NAME_MAX), nullable=False),
    Column("executor", Text, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("resumed_from", String(32), nullable=True),
    Column("definition_hash", String(64), nullable=False),
    Column("user", String(NAME_MAX), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Column("error_json", Text, nullable=True),
    Index("ix_pipeline_runs_pipeline_started_at", "pipeline", "started_at"),
)

# Each step of a pipeline run: its state, cache key (and the hashes it is made of), attempts,
# outputs (JSON) and, when it failed, the failure report.
pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("pipeline_run_id", String(32), ForeignKey("pipeline_runs.id"), nullable=False),
    Column("step", String(NAME_MAX), nullable=False),
    Column("pipeline", String(NAME_MAX), nullable=False),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("cache_key", String(64), nullable=True),
    Column("code_hash", String(64), nullable=True),
    Column("params_hash", String(64), nullable=True),
    Column("inputs_hash", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("outputs_json", Text, nullable=True),
    Column("error_json", Text, nullable=True),
    Column("run_id", String(32), nullable=True),
    Column("started_at", BigInteger, nullable=True),
    Column("ended_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("pipeline_run_id", "step"),
    Index("ix_pipeline_steps_pipeline_step_cache_key", "pipeline", "step", "cache_key"),
)

# --- scheduler and gates (migration 0007) ---------------------------------------------------

# Every gate evaluation of a candidate model version against a champion, never updated.
gate_results = Table(
    "gate_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(NAME_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    Column("champion_version", Integer, nullable=True),
    Column("passed", Integer, nullable=False),
    Column("dataset", String(NAME_MAX), nullable=True),
    Column("checks_json", Text, nullable=False),
    Column("config_json", Text, nullable=False),
    Column("user", String(NAME_MAX), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_gate_results_model_version", "model", "version"),
)

# Each job the scheduler has seen, with when it first saw it (no slot before that is due).
scheduler_jobs = Table(
    "scheduler_jobs",
    metadata,
    Column("job", String(NAME_MAX), primary_key=True),
    Column("spec_json", Text, nullable=False),
    Column("registered_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Every trigger of a job: one row per (job, slot), claimed before the job runs, so no slot
# runs twice even with two schedulers.
schedule_triggers = Table(
    "schedule_triggers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(NAME_MAX), nullable=False),
    Column("slot", String(NAME_MAX), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("owner", String(NAME_MAX), nullable=False),
    Column("run_id", String(64), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("heartbeat_at", BigInteger, nullable=True),
    UniqueConstraint("job", "slot"),
    Index("ix_schedule_triggers_job_created_at", "job", "created_at"),
    Index("ix_schedule_triggers_state", "state"),
)


# --- monitoring (migration 0008) ------------------------------------------------------------

# Ground truth that arrived after the prediction, one label per (model, prediction id); a label
# sent again replaces the earlier one. Text labels in label_text, numeric ones in label_number too.
monitoring_feedback = Table(
    "monitoring_feedback",
    metadata,
    Column("model", String(NAME_MAX), nullable=False),
    Column("prediction_id", String(64), nullable=False),
    Column("label_text", Text, nullable=False),
    Column("label_number", Float, nullable=True),
    Column("received_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("model", "prediction_id"),
)

# One row per monitor check: its window, what it measured (JSON) and where its report lives.
monitoring_checks = Table(
    "monitoring_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(NAME_MAX), nullable=False),
    Column("model", String(NAME_MAX), nullable=False),
    Column("version", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("window_start", BigInteger, nullable=True),
    Column("window_end", BigInteger, nullable=True),
    Column("rows", Integer, nullable=False),
    Column("labelled", Integer, nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("details_json", Text, nullable=False),
    Column("report", Text, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=False),
    Index("ix_monitoring_checks_monitor_started_at", "monitor", "started_at"),
)

# Every alert rule that held after a check: sent, suppressed (de-duplicated in its cool-down)
# or failed (no channel took it); deliveries_json lists each channel's attempts and outcome.
monitoring_alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(NAME_MAX), nullable=False),
    Column("check_id", Integer, nullable=True),
    Column("rule", String(NAME_MAX), nullable=False),
    Column("metric", String(NAME_MAX), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("deliveries_json", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_monitoring_alerts_monitor_rule_created_at", "monitor", "rule", "created_at"),
)

# Every step of a retraining policy (triggered, trained, gated, promoted, refused) with reasons.
monitoring_retrains = Table(
    "monitoring_retrains",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(NAME_MAX), nullable=False),
    Column("model", String(NAME_MAX), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("champion", Integer, nullable=True),
    Column("challenger", Integer, nullable=True),
    Column("steps_json", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_monitoring_retrains_model_created_at", "model", "created_at"),
)

__all__ = [
    "KEY_MAX",
    "NAME_MAX",
    "PARAM_VALUE_MAX",
    "TAG_VALUE_MAX",
    "alias_events",
    "artifacts",
    "dataset_versions",
    "datasets",
    "deployments",
    "experiment_tags",
    "experiments",
    "feature_definitions",
    "feature_materializations",
    "gate_results",
    "latest_metrics",
    "metadata",
    "metrics",
    "model_aliases",
    "model_version_tags",
    "model_versions",
    "monitoring_alerts",
    "monitoring_checks",
    "monitoring_feedback",
    "monitoring_retrains",
    "params",
    "pipeline_runs",
    "pipeline_steps",
    "registered_model_tags",
    "registered_models",
    "run_inputs",
    "runs",
    "schedule_triggers",
    "scheduler_jobs",
    "tags",
]
