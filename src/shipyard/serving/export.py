"""Edge export: a registered scikit-learn model as an ONNX file, checked against scikit-learn.

:func:`export_onnx` converts the model with skl2onnx (Shipyard's own preprocessing steps
convert through :mod:`shipyard.data.preprocess.onnx`), then runs a parity check: the same
rows through onnxruntime and through scikit-learn, comparing labels and probabilities
(classifiers) or predictions (regressors). The rows are the package's input example, or a
file given as ``check_data``. The report is written beside the model as
``<file>.parity.json``; when parity fails, the ONNX file is not written and
:class:`ParityError` is raised.

Inputs of the ONNX model:

- a model whose first step reads named columns (a :class:`~shipyard.data.preprocess.Preprocessor`
  or a ``ColumnTransformer``) takes one ``[N, 1]`` input per column, named like the column:
  floats as double (or float), integers and booleans as int64, anything else as string;
- any other model takes one ``[N, n_features]`` tensor named ``input``, its columns in the
  order of the model's signature (all numeric).

Precision: tree models compare in float32 inside scikit-learn, so their ONNX inputs are
float32; other models take float64. When the check fails with one precision the other is
tried, and the one that passes is kept. Needs the ``onnx`` extra (skl2onnx, onnxruntime).

>>> ParityReport(rows=5, tolerance=1e-4, max_abs_diff=2e-7, label_agreement=1.0).passed
True
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.errors import InvalidArgument, ShipyardError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from shipyard.registry.package import LoadedModel

FORMATS = ("onnx",)
DEFAULT_TOLERANCE = 1e-4
PRECISIONS = ("double", "float")
TENSOR_INPUT = "input"
TARGET_OPSET = 17


class ParityError(ShipyardError, RuntimeError):
    """ONNX and scikit-learn disagree beyond the tolerance; ``report`` says by how much."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "PARITY_FAILED"

    def __init__(self, message: str, report: ParityReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ParityReport:
    """How closely onnxruntime reproduces scikit-learn on ``rows`` rows.

    ``max_abs_diff`` is over probabilities (classifiers with ``predict_proba``) or
    predictions (regressors); ``label_agreement`` is the share of equal labels (classifiers
    only). A classifier passes when ``max_abs_diff <= tolerance`` and every label agrees; a
    regressor when each prediction is within ``tolerance * max(1, |value|)``, i.e. absolute
    for small values and relative for large ones (``max_rel_diff``).
    """

    rows: int
    tolerance: float
    max_abs_diff: float
    label_agreement: float | None = None
    max_rel_diff: float | None = None

    @property
    def passed(self) -> bool:
        """True when ONNX matches scikit-learn within the tolerance."""
        if self.label_agreement is not None and self.label_agreement < 1.0:
            return False
        if self.max_rel_diff is not None:
            return self.max_rel_diff <= self.tolerance
        return self.max_abs_diff <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, with ``passed``."""
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class ExportResult:
    """An exported model: the file, the version it came from and the parity check."""

    path: Path
    model: str
    version: int
    precision: str
    inputs: tuple[Mapping[str, Any], ...]
    outputs: tuple[str, ...]
    parity: ParityReport | None = None
    report_path: Path | None = None
    sha256: str = ""
    check_data: str | None = None


def export_onnx(
    ref: str,
    out: str | Path | None = None,
    *,
    check_data: str | Path | None = None,
    check: bool = True,
    tolerance: float = DEFAULT_TOLERANCE,
    allow_pickle: bool = False,
    trusted: Sequence[str] = (),
) -> ExportResult:
    """Export model version ``ref`` (``NAME@ALIAS``, ``NAME/VERSION``) to ONNX at ``out``.

    ``out`` defaults to ``<name>-<version>.onnx`` in the current folder. The parity check
    runs on ``check_data`` (a .csv, .parquet, .json or .jsonl file with the model's input
    columns) or else on the package's input example; ``check=False`` skips it. The report
    goes to ``<out without .onnx>.parity.json``.

    Raises NotFound (unknown model), InvalidArgument (not a scikit-learn model, a step or
    estimator skl2onnx cannot convert, no rows to check, bad tolerance), ParityError (ONNX
    and scikit-learn disagree beyond ``tolerance``; the ONNX file is then not written).
    """
    from shipyard.registry.fluent import get_model_version, load_model

    if not tolerance >= 0:
        raise InvalidArgument(f"tolerance must be a number >= 0, got {tolerance!r}")
    mv = get_model_version(ref)
    name = f"{mv.name}/{mv.version}"
    _check_sklearn(mv.flavor, name)  # before loading: a python-flavor package runs its code
    loaded = load_model(name, allow_pickle=allow_pickle, trusted=trusted)
    _check_sklearn(loaded.metadata.flavor, name)
    target = Path(out) if out is not None else Path(f"{mv.name}-{mv.version}.onnx")
    rows = _rows(loaded, check_data, needed=check)
    attempt = _convert_checked(loaded, rows, tolerance=tolerance if check else None)
    result = ExportResult(
        path=target,
        model=mv.name,
        version=mv.version,
        precision=attempt.precision,
        inputs=attempt.inputs,
        outputs=attempt.outputs,
        parity=attempt.parity,
        report_path=_report_path(target) if attempt.parity else None,
        check_data=(str(check_data or "input_example")) if attempt.parity else None,
    )
    if attempt.parity is not None and not attempt.parity.passed:
        _write_report(result)
        raise ParityError(_parity_message(result, attempt.parity), attempt.parity)
    _set_props(attempt.onx, mv.name, mv.version, ref)
    result = replace(result, sha256=_write_atomic(target, attempt.onx.SerializeToString()))
    _write_report(result)
    return result


# --------------------------------------------------------------------------- inputs


def _check_sklearn(flavor: str, name: str) -> None:
    if flavor != "sklearn":
        raise InvalidArgument(
            f"{name} is a {flavor}-flavor model; ONNX export supports scikit-learn models "
            "(estimators and Pipelines) only"
        )


def _rows(loaded: LoadedModel, check_data: str | Path | None, *, needed: bool) -> Any:
    """The validated rows to convert and check with (a DataFrame or an array).

    Without check data or an input example, an unchecked export still works for a model
    with a column signature: a typed frame of zero rows gives skl2onnx the input types.
    """
    from shipyard.registry.package.signature import TensorSpec

    if check_data is not None:
        return loaded.prepare(read_table(Path(check_data)))
    example = loaded.input_example()
    if example:
        return loaded.prepare(example)
    sig = loaded.signature
    if not needed and sig is not None and not isinstance(sig.inputs, TensorSpec):
        return loaded.prepare({column.name: [] for column in sig.inputs})
    raise InvalidArgument(_NO_ROWS)


_NO_ROWS = (
    "the model package has no input example to check ONNX against; pass check data "
    "(--check-data FILE: .csv, .parquet, .json or .jsonl with the model's input columns)"
)


def read_table(path: Path) -> pd.DataFrame:
    """A DataFrame from a .csv, .parquet, .json (records) or .jsonl file. Raises InvalidArgument."""
    import pandas as pd

    if not path.is_file():
        raise InvalidArgument(f"check data {path} does not exist")
    suffix = path.suffix.lower()
    readers = {
        ".csv": lambda: pd.read_csv(path),
        ".parquet": lambda: pd.read_parquet(path),
        ".json": lambda: pd.read_json(path, orient="records"),
        ".jsonl": lambda: pd.read_json(path, orient="records", lines=True),
    }
    if suffix not in readers:
        raise InvalidArgument(
            f"check data {path}: unknown file type {suffix!r}; use .csv, .parquet, .json or .jsonl"
        )
    try:
        frame = readers[suffix]()
    except (ValueError, OSError) as exc:
        raise InvalidArgument(f"check data {path} cannot be read: {exc}") from exc
    if frame.empty:
        raise InvalidArgument(f"check data {path} has no rows")
    return frame


def named_columns(model: Any) -> bool:
    """True when ``model`` (or its first Pipeline step) reads columns by name."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from shipyard.data.preprocess import Preprocessor

    while isinstance(model, Pipeline):
        model = model.steps[0][1]
    return isinstance(model, ColumnTransformer | Preprocessor)


def preferred_precision(model: Any) -> str:
    """``float`` for models holding trees (scikit-learn splits in float32), else ``double``."""
    from sklearn.base import BaseEstimator

    parts = [model, *model.get_params(deep=True).values()]
    trees = any(
        isinstance(p, BaseEstimator)
        and type(p).__module__.startswith(("sklearn.tree", "sklearn.ensemble"))
        for p in parts
    )
    return "float" if trees else "double"


def _input_types(model: Any, data: Any, precision: str) -> list[tuple[str, Any]]:
    import numpy as np
    from skl2onnx.common.data_types import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        DoubleTensorType,
        FloatTensorType,
    )

    from shipyard.data.preprocess.onnx import input_types

    real = FloatTensorType if precision == "float" else DoubleTensorType
    if isinstance(data, np.ndarray) or not named_columns(model):
        _numeric_only(data)
        width = list(np.shape(data)[1:]) or [1]
        return [(TENSOR_INPUT, real([None, *width]))]
    return [
        (name, real(kind.shape) if isinstance(kind, DoubleTensorType) else kind)
        for name, kind in input_types(data)
    ]


def _numeric_only(data: Any) -> None:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        text = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c].dtype)]
        if text:
            raise InvalidArgument(
                f"ONNX export: column(s) {text} are not numeric, and the model has no column "
                "step to encode them; put a Preprocessor (or a ColumnTransformer) with an "
                "encoder first in the Pipeline"
            )
    elif np.asarray(data).dtype.kind not in "biuf":
        raise InvalidArgument("ONNX export: the model's input array is not numeric")


def _feed(model: Any, data: Any, precision: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from shipyard.data.preprocess.onnx import onnx_feed

    real = np.float32 if precision == "float" else np.float64
    if isinstance(data, np.ndarray) or not named_columns(model):
        values = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        return {TENSOR_INPUT: values.astype(real)}
    feed = onnx_feed(data)
    return {k: v.astype(real) if v.dtype == np.float64 else v for k, v in feed.items()}


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True)
class _Attempt:
    onx: Any
    precision: str
    inputs: tuple[Mapping[str, Any], ...]
    outputs: tuple[str, ...]
    parity: ParityReport | None


def _convert_checked(loaded: LoadedModel, data: Any, *, tolerance: float | None) -> _Attempt:
    """Convert in the preferred precision; on a failed check, try the other, keep the best."""
    first = preferred_precision(loaded.native)
    attempt = _attempt(loaded, data, first, tolerance)
    if attempt.parity is None or attempt.parity.passed:
        return attempt
    try:
        other = _attempt(loaded, data, PRECISIONS[1 - PRECISIONS.index(first)], tolerance)
    except InvalidArgument:  # no converter for that precision: keep the first result
        return attempt
    if other.parity is not None and _score(other.parity) < _score(attempt.parity):
        return other
    return attempt


def _score(report: ParityReport) -> tuple[bool, float, float]:
    agreement = 1.0 if report.label_agreement is None else report.label_agreement
    diff = report.max_abs_diff if report.max_rel_diff is None else report.max_rel_diff
    return (not report.passed, -agreement, diff)


def _attempt(loaded: LoadedModel, data: Any, precision: str, tolerance: float | None) -> _Attempt:
    onx = convert(loaded.native, data, precision=precision)
    inputs = tuple(_describe(v) for v in onx.graph.input)
    outputs = tuple(str(o.name) for o in onx.graph.output)
    if tolerance is None:
        session(onx)  # unchecked, but it must at least load
        return _Attempt(onx, precision, inputs, outputs, None)
    got = run(onx, _feed(loaded.native, data, precision))
    parity = compare(loaded, data, got, tolerance=tolerance)
    return _Attempt(onx, precision, inputs, outputs, parity)


def convert(model: Any, data: Any, *, precision: str = "double") -> Any:
    """The ONNX ``ModelProto`` of a fitted scikit-learn ``model`` for inputs shaped like ``data``.

    Classifiers output labels and a probability matrix (no ZipMap). Raises InvalidArgument
    naming what skl2onnx cannot convert.
    """
    from shipyard.data.preprocess.onnx import register_onnx_converters

    skl2onnx = _skl2onnx()
    register_onnx_converters()
    options = _options(model)
    try:
        return skl2onnx.to_onnx(
            model,
            initial_types=_input_types(model, data, precision),
            options=options,
            target_opset=TARGET_OPSET,
        )
    except InvalidArgument:
        raise
    except Exception as exc:  # skl2onnx raises RuntimeError, ValueError, TypeError, NameError…
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidArgument(
            f"ONNX export: skl2onnx cannot convert {_describe_model(model)}: {first[:400]}. "
            "Supported: the estimators skl2onnx lists (https://onnx.ai/sklearn-onnx/"
            "supported.html) and Shipyard's preprocessing steps listed in docs/preprocessing.md"
        ) from exc


def _skl2onnx() -> Any:
    try:
        import onnxruntime  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
        import skl2onnx  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise InvalidArgument(
            "ONNX export needs skl2onnx and onnxruntime: pip install 'shipyard[onnx]'"
        ) from exc
    return skl2onnx


def _options(model: Any) -> dict[Any, Any]:
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    final = model
    while isinstance(final, Pipeline):
        final = final.steps[-1][1]
    return {type(final): {"zipmap": False}} if is_classifier(final) else {}


def _describe_model(model: Any) -> str:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        steps = ", ".join(f"{n}={type(s).__name__}" for n, s in model.steps)
        return f"Pipeline({steps})"
    return type(model).__name__


def _describe(value_info: Any) -> dict[str, Any]:
    from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

    tensor = value_info.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    return {
        "name": str(value_info.name),
        "type": TensorProto.DataType.Name(tensor.elem_type).lower(),
        "shape": dims,
    }


def session(onx: Any) -> Any:
    """An onnxruntime CPU session for ``onx``. Raises InvalidArgument when it cannot load."""
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(
            onx.SerializeToString(), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise InvalidArgument(
            f"ONNX export: onnxruntime cannot load the converted model: {exc}"
        ) from exc


def run(onx: Any, feed: Mapping[str, Any]) -> list[Any]:
    """Run ``onx`` on ``feed`` with onnxruntime (CPU); the list of outputs."""
    loaded = session(onx)
    try:
        return list(loaded.run(None, dict(feed)))
    except Exception as exc:
        raise InvalidArgument(f"ONNX export: onnxruntime failed to run the model: {exc}") from exc


# --------------------------------------------------------------------------- parity


def compare(
    loaded: LoadedModel, data: Any, got: Sequence[Any], *, tolerance: float
) -> ParityReport:
    """Compare onnxruntime outputs ``got`` with scikit-learn on the same validated ``data``."""
    import numpy as np
    from sklearn.base import is_classifier

    native = loaded.native
    rows = len(data)
    if not is_classifier(native):
        expected = np.asarray(native.predict(data), dtype="float64").ravel()
        actual = np.asarray(got[0], dtype="float64").ravel()
        diff = _abs_diff(actual, expected)
        scaled = diff / np.maximum(1.0, np.abs(expected)) if diff.size else diff
        return ParityReport(
            rows, tolerance, _max(diff), max_rel_diff=_max(scaled) if diff.size else 0.0
        )
    agreement = _agreement(np.asarray(got[0]).ravel(), np.asarray(native.predict(data)).ravel())
    max_diff = 0.0
    if "predict_proba" in loaded.capabilities and len(got) > 1:
        expected = np.asarray(native.predict_proba(data), dtype="float64")
        max_diff = _max(_abs_diff(np.asarray(got[1], dtype="float64"), expected))
    return ParityReport(rows, tolerance, max_diff, label_agreement=agreement)


def _abs_diff(actual: np.ndarray[Any, Any], expected: np.ndarray[Any, Any]) -> Any:
    import numpy as np

    if actual.shape != expected.shape:
        raise ParityError(
            f"ONNX output has shape {actual.shape}, scikit-learn {expected.shape}; the "
            "converted model does not compute the same thing"
        )
    diff = np.abs(actual - expected)
    both_nan = np.isnan(actual) & np.isnan(expected)
    return np.where(both_nan, 0.0, np.where(np.isnan(diff), np.inf, diff))


def _agreement(actual: np.ndarray[Any, Any], expected: np.ndarray[Any, Any]) -> float:
    if actual.size == 0:
        return 1.0
    if actual.dtype.kind != expected.dtype.kind:
        actual, expected = actual.astype(str), expected.astype(str)
    return float((actual == expected).mean())


def _max(values: Any) -> float:
    return float(values.max()) if values.size else 0.0


def _parity_message(result: ExportResult, parity: ParityReport) -> str:
    what = (
        f"labels agree on {parity.label_agreement:.2%} of rows, "
        if parity.label_agreement is not None
        else ""
    )
    diff = parity.max_rel_diff if parity.max_rel_diff is not None else parity.max_abs_diff
    return (
        f"ONNX parity check failed for {result.model}/{result.version} on {parity.rows} "
        f"row(s): {what}max difference {diff:.3g} > tolerance {parity.tolerance:g} "
        f"(report: {result.report_path}). {result.path} was not written; raise --tolerance, "
        "or pass --no-check to export without the check"
    )


# --------------------------------------------------------------------------- files


def _report_path(target: Path) -> Path:
    stem = target.name[: -len(".onnx")] if target.name.endswith(".onnx") else target.name
    return target.with_name(f"{stem}.parity.json")


def _write_report(result: ExportResult) -> None:
    """Write the parity report (nothing when the check did not run)."""
    from importlib import metadata

    if result.report_path is None:
        return
    body = {
        "model": result.model,
        "version": result.version,
        "onnx": str(result.path),
        "sha256": result.sha256 or None,
        "precision": result.precision,
        "inputs": list(result.inputs),
        "outputs": list(result.outputs),
        "check_data": result.check_data,
        "parity": result.parity.to_dict() if result.parity else None,
        "versions": {d: metadata.version(d) for d in ("scikit-learn", "skl2onnx", "onnxruntime")},
        "opset": TARGET_OPSET,
    }
    _write_atomic(result.report_path, (json.dumps(body, indent=2, allow_nan=False) + "\n").encode())


def _set_props(onx: Any, model: str, version: int, ref: str) -> None:
    from onnx import helper  # type: ignore[import-untyped,import-not-found,unused-ignore]

    props = {"shipyard.model": model, "shipyard.version": str(version), "shipyard.ref": ref}
    helper.set_model_props(onx, props)
    onx.doc_string = f"Shipyard model {model}/{version}, exported from {ref}"


def _write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to a temporary sibling and rename it to ``path``; its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "DEFAULT_TOLERANCE",
    "FORMATS",
    "ExportResult",
    "ParityError",
    "ParityReport",
    "compare",
    "convert",
    "export_onnx",
    "named_columns",
    "preferred_precision",
    "read_table",
    "run",
]
