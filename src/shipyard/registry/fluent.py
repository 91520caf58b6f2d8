"""The registry SDK: log, register, alias and load models.

Example::

    with shipyard.start_run(experiment="churn"):
        shipyard.log_model(pipeline, "model", input_example=X_train.head())
        mv = shipyard.register_model("churn", artifact_path="model")
    shipyard.set_alias("churn", "champion", mv.version)
    model = shipyard.load_model("models:/churn@champion")
    model.predict(X_test)
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.owners import model_owner, run_owner
from shipyard.errors import InvalidArgument
from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from shipyard.registry.uri import ModelRef, parse_model_ref
from shipyard.tracking import fluent

if TYPE_CHECKING:
    from shipyard.registry.package import LoadedModel

PACKAGE_META = "shipyard-model.json"


def log_model(
    model: Any,
    artifact_path: str = "model",
    *,
    input_example: Any = None,
    signature: Any = None,
    metrics: Mapping[str, float] | None = None,
    serialization: str = "skops",
    artifacts: Mapping[str, str | Path] | None = None,
    extra_requirements: Sequence[str] = (),
    registered_model_name: str | None = None,
    run_id: str | None = None,
) -> ModelVersion | None:
    """Save ``model`` as a package under ``artifact_path`` of the active run.

    The package holds the flavor, the signature inferred from ``input_example``, pinned
    requirements, the example, a metrics snapshot (default: the run's latest metrics) and a
    SHA-256 manifest. A ``PythonModel`` may bring ``artifacts`` ({name: local path}) that
    its ``load_context`` receives. With ``registered_model_name`` it is also registered; the
    new ModelVersion is returned then.
    """
    from shipyard.registry.package import save_model

    rid = fluent._run_id(run_id)
    if metrics is None:  # the run's latest metrics, minus NaN/inf (not representable in JSON)
        metrics = {k: v for k, v in fluent.get_run(rid).metrics.items() if math.isfinite(v)}
    with tempfile.TemporaryDirectory(prefix="shipyard-model-") as tmp:
        folder = Path(tmp) / "model"
        save_model(
            model,
            folder,
            input_example=input_example,
            signature=signature,
            metrics=metrics,
            serialization=serialization,
            artifacts=artifacts,
            extra_requirements=extra_requirements,
        )
        fluent.services().artifacts.upload(run_owner(rid), folder, artifact_path)
    if registered_model_name:
        return register_model(registered_model_name, run_id=rid, artifact_path=artifact_path)
    return None


def register_model(
    name: str,
    *,
    run_id: str | None = None,
    artifact_path: str = "model",
    model: Any = None,
    input_example: Any = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
    alias: str | None = None,
) -> ModelVersion:
    """Register a model package as the next version of ``name`` (created if needed).

    Either from a run (``run_id`` or the active run, the package at ``artifact_path``), or from
    an in-memory ``model``: it is then logged first, in the active run or in a short run
    ``register-<name>`` of experiment ``Default`` so every version keeps its lineage.
    ``alias`` also points that alias at the new version.
    """
    if model is not None:
        if fluent.active_run() is None and run_id is None:
            with fluent.start_run(name=f"register-{name}") as run:
                log_model(model, artifact_path, input_example=input_example)
                run_id = run.run_id
        else:
            log_model(model, artifact_path, input_example=input_example, run_id=run_id)
    rid = fluent._run_id(run_id)
    meta = _package_meta(rid, artifact_path)
    mv = fluent.services().registry.create_version(
        name,
        run_id=rid,
        artifact_path=artifact_path,
        flavor=str(meta.get("flavor", "unknown")),
        signature=meta.get("signature"),
        metrics=meta.get("metrics"),
        description=description,
        tags=tags,
    )
    if alias:
        set_alias(name, alias, mv.version)
        mv = get_model_version(name, mv.version)
    return mv


def _package_meta(run_id: str, artifact_path: str) -> dict[str, Any]:
    artifacts = fluent.services().artifacts
    path = f"{artifact_path.strip('/')}/{PACKAGE_META}"
    try:
        data = b"".join(artifacts.open(run_owner(run_id), path))
    except LookupError as exc:
        raise InvalidArgument(
            f"run {run_id} has no model package at {artifact_path!r} (no {PACKAGE_META}); "
            "log one with shipyard.log_model(model, artifact_path) first"
        ) from exc
    meta: dict[str, Any] = json.loads(data)
    return meta


def _ref(ref: str | ModelRef) -> ModelRef:
    return parse_model_ref(ref) if isinstance(ref, str) else ref


def get_model_version(name_or_ref: str, version: int | None = None) -> ModelVersion:
    """A version by ``("churn", 3)`` or by reference ``"churn@champion"``, ``"models:/churn/3"``."""
    registry = fluent.services().registry
    if version is not None:
        return registry.get_version(name_or_ref, version)
    ref = _ref(name_or_ref)
    return registry.resolve(ref.name, version=ref.version, alias=ref.alias)


def set_alias(name: str, alias: str, version: int, *, require_gate: bool | None = None) -> None:
    """Point ``alias`` at ``version``; the move is recorded in the alias history.

    With ``require_gate`` (default: when ``registry.require_gate_for`` in ``shipyard.yaml``
    lists the alias) the version must have a passing gate result (``shipyard gate``), else
    Conflict is raised and nothing moves.
    """
    from shipyard.pipelines.gates.fluent import promote

    promote(name, alias, version, require_gate=require_gate)


def delete_alias(name: str, alias: str) -> None:
    fluent.services().registry.delete_alias(name, alias)


def update_registered_model(
    name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
) -> RegisteredModel:
    """Change a model's description and/or set tags (others are kept)."""
    return fluent.services().registry.update_model(name, description=description, tags=tags)


def update_model_version(
    name: str,
    version: int,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Change a version's description and/or set tags (others are kept)."""
    return fluent.services().registry.update_version(
        name, version, description=description, tags=tags
    )


def get_registered_model(name: str) -> RegisteredModel:
    return fluent.services().registry.get_model(name)


def list_registered_models() -> list[RegisteredModel]:
    return fluent.services().registry.list_models()


def list_model_versions(name: str, *, deleted: bool = False) -> list[ModelVersion]:
    return fluent.services().registry.list_versions(name, deleted=deleted)


def alias_history(name: str, *, alias: str | None = None) -> list[AliasEvent]:
    return fluent.services().registry.alias_history(name, alias=alias)


def delete_model_version(name: str, version: int) -> None:
    fluent.services().registry.delete_version(name, version)


def restore_model_version(name: str, version: int) -> None:
    fluent.services().registry.restore_version(name, version)


def download_model(ref: str | ModelRef, dst: str | Path | None = None) -> Path:
    """Copy a model version's package to ``dst`` (a cache folder if None), verified."""
    mv = get_model_version(str(ref))
    services = fluent.services()
    if dst is None:
        store = hashlib.sha256(services.settings.tracking_uri.encode()).hexdigest()[:12]
        target = services.settings.home / "cache" / "models" / store / mv.name / str(mv.version)
        if (target / PACKAGE_META).is_file():
            return target
    else:
        target = Path(dst)
    staging = Path(tempfile.mkdtemp(prefix="shipyard-dl-", dir=_ensure(target.parent)))
    try:
        services.artifacts.download(model_owner(mv.name, mv.version), "", staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load_model(
    ref: str | ModelRef, *, allow_pickle: bool = False, trusted: Sequence[str] = ()
) -> LoadedModel:
    """Load ``models:/churn@champion``, ``models:/churn/3`` (or ``churn@champion``, ``churn/3``).

    The package's SHA-256 manifest is checked before anything is loaded; scikit-learn models
    load with skops, which refuses types that are not trusted; pickled packages need
    ``allow_pickle=True``. Raises NotFound, IntegrityError, UnsafeModelError.
    """
    from shipyard.registry.package import load_model as load_package

    folder = download_model(ref)
    return load_package(folder, allow_pickle=allow_pickle, trusted=trusted)
