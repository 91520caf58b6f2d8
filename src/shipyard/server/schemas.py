"""Request and response bodies of the team server's REST API, shared with the HTTP client.

Only pydantic is imported here (no FastAPI), so ``shipyard.client.http`` parses responses with
the very models the server writes them with. Every ``…Out`` model reads a service entity with
``from_entity`` and gives it back with ``to_entity``; both sides therefore agree on the wire
form, including non-finite floats, which travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (see :func:`shipyard.tracking.entities.encode_float`).

Values the services validate themselves (tag and param values, registry metrics, signatures)
are passed through as plain JSON (``Any``), so a bad value gets the service's own message, the
same as with a local store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from shipyard.artifacts.entities import ArtifactInfo
from shipyard.data.datasets.entities import Dataset, DatasetVersion
from shipyard.features.catalog import StoredDefinition
from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from shipyard.serving.deployments.entities import Deployment, Policy
from shipyard.tracking.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunPage,
    RunStatus,
    encode_float,
)

NON_FINITE = ("NaN", "Infinity", "-Infinity")
MAX_BATCH_METRICS = 10_000
"""Most metric points one ``log-batch`` request may carry; the HTTP client splits larger ones."""
SHA256_HEADER = "X-Shipyard-SHA256"
"""Header carrying a file's SHA-256 on uploads (checked by the server) and downloads."""
USER_HEADER = "X-Shipyard-User"
"""Header naming the client's user (see ``shipyard._util.current_user``)."""


def _wire_float_in(value: object) -> object:
    if isinstance(value, str):
        if value in NON_FINITE:
            return float(value)
        raise ValueError(f"expected a number or one of {', '.join(NON_FINITE)}, got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return value


WireFloat = Annotated[
    float,
    BeforeValidator(_wire_float_in),
    PlainSerializer(encode_float, return_type=float | str, when_used="json"),
]
"""A float whose JSON form spells NaN and infinities as strings."""


def decode_loose(value: Any) -> Any:
    """Turn the wire spelling of a non-finite float back into a float; anything else as is."""
    if isinstance(value, str) and value in NON_FINITE:
        return float(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------------


class ErrorDetail(_Model):
    code: str
    message: str


class ErrorOut(_Model):
    """The body of every error response: ``{"error": {"code": …, "message": …}}``."""

    error: ErrorDetail


# --- tracking -----------------------------------------------------------------------------------


class ExperimentOut(_Model):
    experiment_id: int
    name: str
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_entity(cls, exp: Experiment) -> Self:
        return cls.model_validate(exp)

    def to_entity(self) -> Experiment:
        return Experiment(**self.model_dump())


class ExperimentList(_Model):
    experiments: list[ExperimentOut]


class ExperimentCreate(_Request):
    name: Any
    tags: dict[str, Any] | None = None


class ExperimentRename(_Request):
    name: Any


class MetricIO(_Model):
    key: str
    value: WireFloat
    step: int = 0
    timestamp: int = 0

    @classmethod
    def from_entity(cls, metric: Metric) -> Self:
        return cls.model_validate(metric)

    def to_entity(self) -> Metric:
        return Metric(self.key, self.value, self.step, self.timestamp)


class MetricHistory(_Model):
    metrics: list[MetricIO]


class DatasetInputIO(_Model):
    name: str
    digest: str
    source: str
    context: str = "training"
    num_rows: int | None = None
    schema_: dict[str, str] | None = Field(default=None, alias="schema")
    logged_at: int = 0

    model_config = ConfigDict(from_attributes=True, extra="ignore", populate_by_name=True)

    @classmethod
    def from_entity(cls, item: DatasetInput) -> Self:
        return cls(
            name=item.name,
            digest=item.digest,
            source=item.source,
            context=item.context,
            num_rows=item.num_rows,
            schema=dict(item.schema) if item.schema else None,
            logged_at=item.logged_at,
        )

    def to_entity(self) -> DatasetInput:
        return DatasetInput(
            name=self.name,
            digest=self.digest,
            source=self.source,
            context=self.context,
            num_rows=self.num_rows,
            schema=self.schema_,
            logged_at=self.logged_at,
        )


class InputsIn(_Request):
    inputs: list[DatasetInputIO]


class RunOut(_Model):
    run_id: str
    experiment_id: int
    name: str
    status: RunStatus
    user: str
    start_time: int
    end_time: int | None
    heartbeat_at: int
    parent_run_id: str | None = None
    deleted_at: int | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, WireFloat] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: list[DatasetInputIO] = Field(default_factory=list)

    @classmethod
    def from_entity(cls, run: Run) -> Self:
        fields = {name: getattr(run, name) for name in cls.model_fields if name != "inputs"}
        return cls(**fields, inputs=[DatasetInputIO.from_entity(i) for i in run.inputs])

    def to_entity(self) -> Run:
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields["inputs"] = tuple(i.to_entity() for i in self.inputs)
        return Run(**fields)


class RunCreate(_Request):
    experiment_id: int
    name: str | None = None
    tags: dict[str, Any] | None = None
    parent_run_id: str | None = None
    start_time: int | None = None


class LogBatch(_Request):
    """Metrics, params and tags stored in one transaction."""

    metrics: list[MetricIO] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, Any] = Field(default_factory=dict)


class RunEnd(LogBatch):
    """The final status, with a last batch stored in the same transaction."""

    status: RunStatus
    end_time: int | None = None


class SearchRuns(_Request):
    experiment_ids: list[int]
    filter: str = ""
    order_by: list[str] = Field(default_factory=list)
    max_results: int = 1000
    page_token: str | None = None
    deleted: bool = False


class RunPageOut(_Model):
    runs: list[RunOut]
    next_page_token: str | None = None

    @classmethod
    def from_entity(cls, page: RunPage) -> Self:
        return cls(
            runs=[RunOut.from_entity(r) for r in page.runs], next_page_token=page.next_page_token
        )

    def to_entity(self) -> RunPage:
        return RunPage(
            runs=[r.to_entity() for r in self.runs], next_page_token=self.next_page_token
        )


# --- artifacts ----------------------------------------------------------------------------------


class ArtifactOut(_Model):
    path: str
    is_dir: bool
    size: int | None = None
    sha256: str | None = None

    @classmethod
    def from_entity(cls, info: ArtifactInfo) -> Self:
        return cls.model_validate(info)

    def to_entity(self) -> ArtifactInfo:
        return ArtifactInfo(self.path, self.is_dir, self.size, self.sha256)


class ArtifactList(_Model):
    files: list[ArtifactOut]


class ArtifactCopy(_Request):
    src_owner: str
    src_path: str
    dst_owner: str
    dst_path: str


class CopyOut(_Model):
    count: int


# --- registry -----------------------------------------------------------------------------------


class ModelOut(_Model):
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, int] = Field(default_factory=dict)
    latest_version: int | None = None

    @classmethod
    def from_entity(cls, model: RegisteredModel) -> Self:
        return cls.model_validate(model)

    def to_entity(self) -> RegisteredModel:
        return RegisteredModel(**self.model_dump())


class ModelList(_Model):
    models: list[ModelOut]


class ModelCreate(_Request):
    name: Any
    description: Any = ""
    tags: dict[str, Any] | None = None


class ModelUpdate(_Request):
    description: Any = None
    tags: dict[str, Any] | None = None


class VersionOut(_Model):
    name: str
    version: int
    run_id: str | None
    source: str
    flavor: str
    description: str
    user: str
    created_at: int
    deleted_at: int | None = None
    signature: dict[str, Any] | None = None
    metrics: dict[str, WireFloat] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)

    @classmethod
    def from_entity(cls, version: ModelVersion) -> Self:
        return cls.model_validate(version)

    def to_entity(self) -> ModelVersion:
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields["aliases"] = tuple(self.aliases)
        return ModelVersion(**fields)


class VersionList(_Model):
    versions: list[VersionOut]


class VersionCreate(_Request):
    run_id: Any
    artifact_path: Any
    flavor: Any
    signature: Any = None
    metrics: dict[str, Any] | None = None
    description: Any = ""
    tags: dict[str, Any] | None = None


class VersionUpdate(_Request):
    description: Any = None
    tags: dict[str, Any] | None = None


class AliasSet(_Request):
    version: int


class AliasEventOut(_Model):
    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    at: int

    @classmethod
    def from_entity(cls, event: AliasEvent) -> Self:
        return cls.model_validate(event)

    def to_entity(self) -> AliasEvent:
        return AliasEvent(**self.model_dump())


class AliasHistory(_Model):
    events: list[AliasEventOut]


# --- datasets -----------------------------------------------------------------------------------


class DatasetVersionOut(_Model):
    name: str
    version: str
    seq: int
    num_rows: int
    num_bytes: int
    schema_: dict[str, str] = Field(alias="schema")
    profile: dict[str, Any]
    source: dict[str, Any]
    created_at: int
    user: str
    watermark: Any = None
    parent: str | None = None
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)

    model_config = ConfigDict(from_attributes=True, extra="ignore", populate_by_name=True)

    @classmethod
    def from_entity(cls, version: DatasetVersion) -> Self:
        fields = {f: getattr(version, f) for f in DatasetVersion.__dataclass_fields__}
        return cls.model_validate(fields)

    def to_entity(self) -> DatasetVersion:
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields["schema"] = fields.pop("schema_")
        return DatasetVersion(**fields)


class DatasetVersionList(_Model):
    versions: list[DatasetVersionOut]


class DatasetVersionCreate(_Request):
    version: Any
    num_rows: Any
    num_bytes: Any
    schema_: dict[str, Any] = Field(alias="schema")
    profile: dict[str, Any]
    source: dict[str, Any]
    watermark: Any = None
    parent: Any = None
    description: Any = ""
    tags: dict[str, Any] | None = None


class DatasetVersionCreated(_Model):
    version: DatasetVersionOut
    created: bool


class DatasetOut(_Model):
    name: str
    description: str
    created_at: int
    updated_at: int
    num_versions: int
    latest: DatasetVersionOut | None = None

    @classmethod
    def from_entity(cls, dataset: Dataset) -> Self:
        latest = None if dataset.latest is None else DatasetVersionOut.from_entity(dataset.latest)
        return cls(
            name=dataset.name,
            description=dataset.description,
            created_at=dataset.created_at,
            updated_at=dataset.updated_at,
            num_versions=dataset.num_versions,
            latest=latest,
        )

    def to_entity(self) -> Dataset:
        latest = None if self.latest is None else self.latest.to_entity()
        return Dataset(
            self.name,
            self.description,
            self.created_at,
            self.updated_at,
            self.num_versions,
            latest,
        )


class DatasetList(_Model):
    datasets: list[DatasetOut]


# --- features -----------------------------------------------------------------------------------


class DefinitionOut(_Model):
    kind: str
    name: str
    version: int
    spec: dict[str, Any]
    spec_hash: str
    user: str
    created_at: int

    @classmethod
    def from_entity(cls, stored: StoredDefinition) -> Self:
        return cls.model_validate(stored)

    def to_entity(self) -> StoredDefinition:
        return StoredDefinition(**{name: getattr(self, name) for name in type(self).model_fields})


class DefinitionList(_Model):
    definitions: list[DefinitionOut]


class DefinitionIn(_Request):
    kind: Any
    name: Any
    spec: dict[str, Any]
    spec_hash: Any


class DefinitionsApply(_Request):
    definitions: list[DefinitionIn]


class AppliedOut(_Model):
    kind: str
    name: str
    version: int
    status: str


class AppliedList(_Model):
    applied: list[AppliedOut]


class MaterializationIO(_Model):
    view: str
    watermark_us: int | None
    rows: int
    online_store: str
    updated_at: int = 0


class MaterializationSet(_Request):
    watermark_us: int | None
    rows: int
    online_store: str


class OnlineRequest(_Request):
    entities: list[dict[str, Any]]
    features: list[str] | None = None
    service: str | None = None
    full_feature_names: bool = False
    now: datetime | None = None


class OnlineResponse(_Model):
    rows: list[dict[str, Any]]


class PushRequest(_Request):
    view: str
    rows: list[dict[str, Any]]


class PushResponse(_Model):
    rows: int


class MismatchOut(_Model):
    key: dict[str, Any]
    feature: str
    offline: Any
    online: Any
    reason: str


class SkewOut(_Model):
    view: str
    checked: int
    mismatches: list[MismatchOut]


class MaterializeRequest(_Request):
    views: list[str] | None = None
    incremental: bool = False


class MaterializeOut(_Model):
    results: list[MaterializationIO]


# --- deployments --------------------------------------------------------------------------------


class PolicyIO(_Model):
    kind: str = "single"
    challenger: str | None = None
    share: float = 0.0
    key: str | None = None


class DeploymentOut(_Model):
    id: int
    name: str
    model: str
    version: int
    ref: str
    policy: PolicyIO
    target: str
    endpoint: str
    user: str
    created_at: int
    feature_service: str | None = None
    note: str = ""

    @classmethod
    def from_entity(cls, d: Deployment) -> Self:
        fields = {f: getattr(d, f) for f in cls.model_fields if f != "policy"}
        return cls(policy=PolicyIO(**d.policy.to_dict()), **fields)

    def to_entity(self) -> Deployment:
        fields = {f: getattr(self, f) for f in type(self).model_fields if f != "policy"}
        return Deployment(policy=Policy.from_dict(self.policy.model_dump()), **fields)


class DeploymentList(_Model):
    deployments: list[DeploymentOut]


class DeploymentCreate(_Request):
    name: Any
    model: Any
    version: Any
    ref: Any
    policy: dict[str, Any] = Field(default_factory=dict)
    target: Any = "local"
    endpoint: Any = ""
    feature_service: Any = None
    note: Any = ""


# --- health -------------------------------------------------------------------------------------


class HealthOut(_Model):
    status: str
    detail: str = ""
