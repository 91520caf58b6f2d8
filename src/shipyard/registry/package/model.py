"""Save a model to a package folder and load it back safely.

A package is a plain folder that holds everything needed to rebuild and call one model:

``shipyard-model.json``
    What the package is: ``format_version`` (1), ``flavor`` (``sklearn`` | ``python``),
    ``serialization`` (``skops`` | ``pickle`` for sklearn, ``code`` for python), the
    ``signature`` (see :mod:`.signature`, or null), a ``metrics`` snapshot, ``created_at``
    (ms since the epoch, UTC), ``shipyard_version``, ``python_version``, ``files`` (the flavor's
    own files), ``flavor_config`` (where the flavor put things) and ``input_example`` (its file
    name, or null).
the model files
    ``sklearn``: ``model.skops``, written with ``skops.io.dump`` (no pickle), or ``model.pkl``
    only when ``serialization="pickle"`` was asked for. ``python``: ``code/<module>.py`` (the
    source of the module defining the :class:`.PythonModel` subclass), ``params.json`` (its
    constructor keywords) and ``artifacts/…`` (files the model reads).
``requirements.txt``
    Pinned (``==``) versions of what the model needs: scikit-learn, numpy, scipy, skops (and
    pandas when it takes a DataFrame) for sklearn; shipyard, pandas and numpy for python; plus
    ``extra_requirements``.
``input_example.json``
    Up to the first 5 rows of the input example, records-oriented (only when one was given).
``MANIFEST.json``
    SHA-256 and size of every other file, written last (see :mod:`.manifest`).

Saving writes into a temporary sibling folder and renames it into place, so a package is either
complete or absent. Loading verifies the manifest before anything is deserialized: a missing,
modified or unlisted file raises :class:`~shipyard.errors.IntegrityError`. Then skops refuses
types that are not trusted (:class:`~shipyard.errors.UnsafeModelError` names them and says how
to trust them), a pickle needs ``allow_pickle=True``, and a python-flavor package runs its own
code (meant for your team's models; see :mod:`.python_flavor`).

>>> import tempfile
>>> import pandas as pd
>>> from sklearn.linear_model import LinearRegression
>>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
>>> folder = Path(tempfile.mkdtemp()) / "model"
>>> info = save_model(LinearRegression().fit(X, [2.0, 4.0, 6.0]), folder, input_example=X)
>>> [c.name for c in info.signature.inputs]
['x']
>>> load_model(folder).predict([{"x": 4}]).round(6).tolist()
[8.0]
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from shipyard._util import check_key, now_ms
from shipyard.errors import AlreadyExists, InvalidArgument, NotFound
from shipyard.registry.package._format import (
    INPUT_EXAMPLE_FILE,
    METADATA_FILE,
    REQUIREMENTS_FILE,
    FlavorFiles,
    ModelInfo,
    python_version,
    read_info,
    shipyard_version,
    write_info,
)
from shipyard.registry.package.manifest import verify_manifest, write_manifest
from shipyard.registry.package.python_flavor import PythonModel
from shipyard.registry.package.requirements import pinned_requirements
from shipyard.registry.package.signature import Signature, TensorSpec

SERIALIZATIONS = ("skops", "pickle")


def save_model(
    model: Any,
    path: str | Path,
    *,
    input_example: Any = None,
    signature: Signature | Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    serialization: str = "skops",
    extra_requirements: Sequence[str] = (),
    artifacts: Mapping[str, str | Path] | None = None,
) -> ModelInfo:
    """Save ``model`` as a package folder at ``path`` and return its description.

    ``model`` is a fitted scikit-learn estimator or Pipeline, or a :class:`PythonModel`
    instance. The signature is ``signature`` when given, else inferred from ``input_example``
    (a DataFrame, array, list of records or dict of columns) with outputs from calling
    ``predict`` on it. ``serialization="pickle"`` stores a scikit-learn model with pickle
    instead of skops (loading it then needs ``allow_pickle=True``). ``artifacts`` maps names to
    files or folders a PythonModel reads in ``load_context`` (python flavor only).

    Raises InvalidArgument (unfitted estimator, unsupported model, bad option or example),
    AlreadyExists (``path`` exists and is not an empty folder).
    """
    from shipyard.registry.package import _frames

    path = Path(path)
    flavor = _flavor_of(model)
    _check_options(model, flavor, serialization, artifacts)
    example = None if input_example is None else _frames.as_example(input_example)
    sig = _signature(model, example, signature)
    clean_metrics = _check_metrics(metrics or {})
    _check_target(path)
    staging = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        info = _write_package(
            model,
            staging,
            flavor=flavor,
            serialization=serialization,
            artifacts=artifacts,
            example=None if example is None else _frames.head(example),
            signature=sig,
            metrics=clean_metrics,
            extra=extra_requirements,
        )
        if path.exists():
            path.rmdir()  # an empty folder, checked above
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return replace(info, path=path)


def load_model(
    path: str | Path, *, allow_pickle: bool = False, trusted: Sequence[str] = ()
) -> LoadedModel:
    """Load the package at ``path`` after verifying every file against its manifest.

    ``trusted`` names extra types a skops file may create (as listed by the error that refused
    them); ``allow_pickle=True`` is needed for a pickled package. A python-flavor package runs
    its saved code. Raises NotFound (no folder), IntegrityError (missing, modified or unlisted
    file), UnsafeModelError (untrusted types, pickle not allowed), InvalidArgument (malformed
    or unsupported package).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise NotFound(f"no model package at {folder}")
    if isinstance(trusted, str):
        raise InvalidArgument(f"trusted must be a list of type names, e.g. [{trusted!r}]")
    manifest = verify_manifest(folder)
    info = read_info(folder, manifest)
    if info.flavor == "python":
        from shipyard.registry.package import python_flavor

        native: Any = python_flavor.load(folder, info, manifest)
    else:
        from shipyard.registry.package import sklearn_flavor

        native = sklearn_flavor.load(
            folder, info, manifest, allow_pickle=allow_pickle, trusted=list(trusted)
        )
    return LoadedModel(native, info)


class LoadedModel:
    """A model loaded from a package: validated ``predict`` (and ``predict_proba``).

    ``capabilities`` says which of ``predict`` and ``predict_proba`` the model offers;
    ``native`` is the underlying estimator or PythonModel, ``metadata`` the package's
    :class:`ModelInfo` and ``signature`` its signature (None when it has none).
    """

    def __init__(self, native: Any, metadata: ModelInfo) -> None:
        self.native = native
        self.metadata = metadata
        has_proba = callable(getattr(native, "predict_proba", None))
        self.capabilities: frozenset[str] = frozenset(
            {"predict", "predict_proba"} if has_proba else {"predict"}
        )

    @property
    def signature(self) -> Signature | None:
        """The package's signature, or None."""
        return self.metadata.signature

    def predict(self, data: Any) -> Any:
        """Validate ``data`` against the signature and return the model's predictions.

        Accepts a DataFrame, a list of records, a dict of columns or an array (tensor
        signatures). Returns what the model returns (usually a numpy array). Raises
        InvalidArgument for input that does not match the signature.
        """
        return self.native.predict(self.prepare(data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for models that have them. Raises InvalidArgument otherwise."""
        if "predict_proba" not in self.capabilities:
            raise InvalidArgument(
                f"{type(self.native).__name__} has no predict_proba; use predict (see "
                "LoadedModel.capabilities)"
            )
        return self.native.predict_proba(self.prepare(data))

    def prepare(self, data: Any) -> Any:
        """The input the model receives for ``data``: validated, else as a DataFrame or array."""
        if self.signature is not None:
            return self.signature.validate(data)
        from shipyard.registry.package import _frames

        return _frames.as_example(data)

    def input_example(self) -> Any:
        """The saved input example (records or rows, as parsed JSON), or None."""
        name = self.metadata.input_example
        if name is None:
            return None
        return json.loads((self.metadata.path / name).read_text(encoding="utf-8"))

    def __repr__(self) -> str:
        meta = self.metadata
        return f"<LoadedModel {meta.flavor}:{type(self.native).__name__} from {meta.path}>"


# --------------------------------------------------------------------------- saving helpers


def _flavor_of(model: Any) -> str:
    if isinstance(model, PythonModel):
        return "python"
    from shipyard.registry.package import sklearn_flavor

    if sklearn_flavor.is_model(model):
        return "sklearn"
    raise InvalidArgument(
        f"cannot save a {type(model).__module__}.{type(model).__qualname__}; pass a fitted "
        "scikit-learn estimator or Pipeline, or an instance of a PythonModel subclass"
    )


def _check_options(
    model: Any, flavor: str, serialization: str, artifacts: Mapping[str, str | Path] | None
) -> None:
    if serialization not in SERIALIZATIONS:
        raise InvalidArgument(
            f"serialization must be one of {list(SERIALIZATIONS)}, got {serialization!r}"
        )
    if flavor == "python" and serialization != "skops":
        raise InvalidArgument(
            "a PythonModel is saved as code; serialization does not apply, leave it unset"
        )
    if flavor == "sklearn" and artifacts:
        raise InvalidArgument(
            "artifacts= is for PythonModel packages; a scikit-learn model has none"
        )
    if flavor == "sklearn":
        from shipyard.registry.package import sklearn_flavor

        sklearn_flavor.check_fitted(model)


def _check_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    clean: dict[str, float] = {}
    for key, value in metrics.items():
        check_key(key, "metric")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidArgument(f"metric {key!r} must be a finite number, got {value!r}")
        clean[key] = float(value)
    return clean


def _check_target(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise AlreadyExists(
            f"{path} already exists and is not an empty folder; choose a new path or remove it"
        )


def _signature(
    model: Any, example: Any, given: Signature | Mapping[str, Any] | None
) -> Signature | None:
    if given is not None:
        return given if isinstance(given, Signature) else Signature.from_dict(given)
    if example is None:
        return None
    from shipyard.registry.package import _frames

    try:
        output = model.predict(_frames.head(example))
    except Exception as exc:
        raise InvalidArgument(
            f"predict() on the input example failed ({type(exc).__name__}: {exc}); give an "
            "example shaped like the training data, or pass signature= yourself"
        ) from exc
    return Signature(_frames.infer_schema(example), _frames.infer_schema(_as_output(output)))


def _as_output(output: Any) -> Any:
    import numpy as np
    import pandas as pd

    return output if isinstance(output, pd.Series | pd.DataFrame) else np.asarray(output)


def _write_package(
    model: Any,
    folder: Path,
    *,
    flavor: str,
    serialization: str,
    artifacts: Mapping[str, str | Path] | None,
    example: Any,
    signature: Signature | None,
    metrics: dict[str, float],
    extra: Sequence[str],
) -> ModelInfo:
    written = _save_flavor(model, folder, flavor, serialization, artifacts)
    frame_input = signature is not None and not isinstance(signature.inputs, TensorSpec)
    needs = [*written.requirements, *(["pandas"] if frame_input else []), *extra]
    requirements = pinned_requirements(needs)
    (folder / REQUIREMENTS_FILE).write_text("\n".join(requirements) + "\n", encoding="utf-8")
    if example is not None:
        from shipyard.registry.package import _frames

        (folder / INPUT_EXAMPLE_FILE).write_text(_frames.example_to_json(example), "utf-8")
    info = ModelInfo(
        path=folder,
        flavor=flavor,
        serialization=written.serialization,
        signature=signature,
        metrics=metrics,
        created_at=now_ms(),
        shipyard_version=shipyard_version(),
        python_version=python_version(),
        files=written.files,
        flavor_config=written.config,
        requirements=tuple(requirements),
        input_example=None if example is None else INPUT_EXAMPLE_FILE,
    )
    write_info(folder, info)
    write_manifest(folder)
    return info


def _save_flavor(
    model: Any,
    folder: Path,
    flavor: str,
    serialization: str,
    artifacts: Mapping[str, str | Path] | None,
) -> FlavorFiles:
    if flavor == "python":
        from shipyard.registry.package import python_flavor

        return python_flavor.save(model, folder, artifacts=artifacts)
    from shipyard.registry.package import sklearn_flavor

    return sklearn_flavor.save(model, folder, serialization=serialization)


__all__ = ["METADATA_FILE", "LoadedModel", "ModelInfo", "load_model", "save_model"]
