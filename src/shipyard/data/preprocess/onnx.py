"""ONNX export of a fitted :class:`Preprocessor` (and a Pipeline holding one), via skl2onnx.

Needs the ``onnx`` extra (``pip install 'shipyard[onnx]'``: skl2onnx and onnxruntime). The whole
Preprocessor becomes one converted operator: its inputs are the data's columns (one ONNX input
per column, shape ``[N, 1]``) and its output is one float tensor with the columns of
``get_feature_names_out()``, which the next converter (the model) takes.

Exported: Impute (numeric fills), Outliers (clip; ``drop`` clips too, as at prediction time),
Scale, OneHot (``handle_unknown="ignore"``) and Ordinal. Not exported, with an error that says
so: Derive (the expression language has no ONNX compiler yet), DateParts (ONNX has no date
parsing), Impute of text, OneHot with ``handle_unknown="error"`` (ONNX cannot raise), and any
text column left unencoded at the end. Text inputs carry no "missing": send missing text as
``""``, which encoders treat as an unknown category.

Usage (needs the extra, so not run as a doctest)::

    onx = to_onnx(pipeline, X_train, options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = run_onnx(onx, X_new)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from shipyard.data.preprocess._base import Step
from shipyard.data.preprocess._frame import as_frame, is_numeric
from shipyard.data.preprocess.derive import DateParts, Derive
from shipyard.data.preprocess.encode import OneHot, Ordinal
from shipyard.data.preprocess.numeric import Impute, Outliers, Scale
from shipyard.data.preprocess.pipeline import Preprocessor
from shipyard.errors import InvalidArgument

ALIAS = "ShipyardPreprocessor"
NOT_EXPORTED = {
    Derive: "expressions have no ONNX compiler yet",
    DateParts: "ONNX has no date parsing",
}


def register_onnx_converters() -> None:
    """Teach skl2onnx to convert a :class:`Preprocessor` (safe to call more than once)."""
    from skl2onnx import update_registered_converter  # type: ignore[import-untyped,import-not-found,unused-ignore]

    update_registered_converter(Preprocessor, ALIAS, _shape, _convert)


def to_onnx(model: Any, example: Any, *, options: Mapping[Any, Any] | None = None) -> Any:
    """Convert a fitted Preprocessor or Pipeline to an ONNX ``ModelProto``.

    ``example`` is a DataFrame shaped like the input (its dtypes choose the ONNX input types:
    floats as double, integers and booleans as int64, anything else as string).
    ``options`` goes to skl2onnx (e.g. ``{LogisticRegression: {"zipmap": False}}``). Raises
    InvalidArgument naming a step that cannot be exported.
    """
    import skl2onnx  # type: ignore[import-untyped,import-not-found,unused-ignore]

    register_onnx_converters()
    frame = as_frame(example, "to_onnx")
    return skl2onnx.to_onnx(
        model, initial_types=input_types(frame), options=dict(options or {}), target_opset=17
    )


def input_types(frame: pd.DataFrame) -> list[tuple[str, Any]]:
    """The skl2onnx input declaration for ``frame``: one ``[None, 1]`` tensor per column."""
    from skl2onnx.common.data_types import DoubleTensorType, Int64TensorType, StringTensorType  # type: ignore[import-untyped,import-not-found,unused-ignore]

    types: list[tuple[str, Any]] = []
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_float_dtype(s.dtype):
            types.append((name, DoubleTensorType([None, 1])))
        elif is_numeric(s):
            types.append((name, Int64TensorType([None, 1])))
        else:
            types.append((name, StringTensorType([None, 1])))
    return types


def onnx_feed(frame: pd.DataFrame) -> dict[str, Any]:
    """The onnxruntime input for ``frame`` matching :func:`input_types` (missing text is "")."""
    feed: dict[str, Any] = {}
    for name, kind in input_types(frame):
        s = frame[name]
        if type(kind).__name__ == "DoubleTensorType":
            values = s.to_numpy(dtype="float64")
        elif type(kind).__name__ == "Int64TensorType":
            values = s.to_numpy(dtype="int64")
        else:
            values = np.asarray(s.astype(object).where(s.notna(), "").astype(str), dtype=object)
        feed[name] = values.reshape(-1, 1)
    return feed


def run_onnx(onx: Any, frame: pd.DataFrame) -> list[Any]:
    """Run ``onx`` with onnxruntime on ``frame``; returns the list of outputs."""
    import onnxruntime  # type: ignore[import-untyped,import-not-found,unused-ignore]

    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return list(session.run(None, onnx_feed(frame)))


# --------------------------------------------------------------------------- skl2onnx hooks


def _shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType  # type: ignore[import-untyped,import-not-found,unused-ignore]

    width = len(operator.raw_operator.get_feature_names_out())
    operator.outputs[0].type = FloatTensorType([None, width])


def _convert(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

    graph = _Graph(scope, container)
    columns: dict[str, tuple[str, str]] = {}
    for var in operator.inputs:
        if type(var.type).__name__ == "StringTensorType":
            columns[var.raw_name] = (var.onnx_name, "str")
        else:
            columns[var.raw_name] = (graph.cast(var.onnx_name, TensorProto.DOUBLE), "num")
    for step in operator.raw_operator.steps:
        _convert_step(graph, step, columns)
    names = [str(n) for n in operator.raw_operator.get_feature_names_out()]
    text = [n for n in names if columns[n][1] != "num"]
    if text:
        raise InvalidArgument(f"ONNX export: column(s) {text} are still text; encode them")
    joined = graph.node("Concat", [columns[n][0] for n in names], axis=1)
    container.add_node(
        "Cast",
        [joined],
        [operator.outputs[0].onnx_name],
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )


def _convert_step(graph: _Graph, step: Step, columns: dict[str, tuple[str, str]]) -> None:
    if type(step) in NOT_EXPORTED:
        raise InvalidArgument(
            f"ONNX export: {type(step).__name__} cannot be exported ({NOT_EXPORTED[type(step)]}); "
            "see docs/preprocessing.md"
        )
    if isinstance(step, Impute):
        for column, value in step.statistics_.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise InvalidArgument(f"ONNX export: Impute of text column {column!r}")
            x = _number(columns, column, "Impute")
            fill = graph.const([float(value)])
            columns[column] = (graph.node("Where", [graph.node("IsNaN", [x]), fill, x]), "num")
    elif isinstance(step, Outliers):
        for column in step.columns_:
            x = _number(columns, column, "Outliers")
            low, high = graph.scalar(step.lower_[column]), graph.scalar(step.upper_[column])
            columns[column] = (graph.node("Clip", [x, low, high]), "num")
    elif isinstance(step, Scale):
        for column in step.columns_:
            x = _number(columns, column, "Scale")
            shifted = graph.node("Sub", [x, graph.const([step.offset_[column]])])
            columns[column] = (
                graph.node("Div", [shifted, graph.const([step.scale_[column]])]),
                "num",
            )
    elif isinstance(step, OneHot):
        _one_hot(graph, step, columns)
    elif isinstance(step, Ordinal):
        _ordinal(graph, step, columns)


def _number(columns: dict[str, tuple[str, str]], column: str, who: str) -> str:
    name, kind = columns[column]
    if kind != "num":
        raise InvalidArgument(f"ONNX export: {who} needs column {column!r} as numbers, not text")
    return name


def _one_hot(graph: _Graph, step: OneHot, columns: dict[str, tuple[str, str]]) -> None:
    from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

    if step.handle_unknown == "error":
        raise InvalidArgument("ONNX export: OneHot(handle_unknown='error') (ONNX cannot raise)")
    for column, categories in step.categories_.items():
        rare = step.infrequent_[column]
        keys = categories + rare
        codes = graph.label_codes(
            columns[column], keys, [*range(len(categories))] + [-2] * len(rare)
        )
        targets = [*range(len(categories))] + ([-2] if rare else [])
        for name, target in zip(step._new_names(column), targets, strict=True):
            hit = graph.node("Equal", [codes, graph.const([target], TensorProto.INT64)])
            columns[name] = (graph.cast(hit, TensorProto.DOUBLE), "num")
        del columns[column]


def _ordinal(graph: _Graph, step: Ordinal, columns: dict[str, tuple[str, str]]) -> None:
    from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

    for column, order in step.categories_.items():
        source = columns[column]
        codes = graph.label_codes(source, order, list(range(len(order))))
        unknown = graph.node("Equal", [codes, graph.const([-1], TensorProto.INT64)])
        values = graph.cast(codes, TensorProto.DOUBLE)
        out = graph.node("Where", [unknown, graph.const([float(step.unknown_value)]), values])
        if source[1] == "num":
            nan = graph.const([float("nan")])
            out = graph.node("Where", [graph.node("IsNaN", [source[0]]), nan, out])
        columns[column] = (out, "num")


class _Graph:
    """Small helpers over skl2onnx's scope and container: unique names, constants, nodes."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope = scope
        self.container = container

    def node(self, op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = str(self.scope.get_unique_variable_name(op.lower()))
        extra = {"op_domain": domain, "op_version": 2} if domain else {}
        self.container.add_node(
            op, inputs, [out], name=self.scope.get_unique_operator_name(op), **extra, **attrs
        )
        return out

    def cast(self, name: str, to: int) -> str:
        return self.node("Cast", [name], to=to)

    def const(self, values: Any, dtype: int | None = None) -> str:
        from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

        flat = list(np.atleast_1d(values))
        name = str(self.scope.get_unique_variable_name("const"))
        self.container.add_initializer(name, dtype or TensorProto.DOUBLE, [len(flat)], flat)
        return name

    def scalar(self, value: float) -> str:
        from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

        name = str(self.scope.get_unique_variable_name("const"))
        self.container.add_initializer(name, TensorProto.DOUBLE, [], [float(value)])
        return name

    def label_codes(self, source: tuple[str, str], keys: list[Any], values: list[int]) -> str:
        """int64 codes for a column through ai.onnx.ml LabelEncoder (-1 when not a key)."""
        from onnx import TensorProto  # type: ignore[import-untyped,import-not-found,unused-ignore]

        name, kind = source
        if kind == "str":
            return self.node(
                "LabelEncoder",
                [name],
                "ai.onnx.ml",
                keys_strings=[str(k) for k in keys],
                values_int64s=values,
                default_int64=-1,
            )
        as_float = self.cast(name, TensorProto.FLOAT)
        numeric = [k for k in keys if isinstance(k, int | float) and not isinstance(k, bool)]
        if len(numeric) != len(keys):
            raise InvalidArgument("ONNX export: a numeric column has text categories")
        return self.node(
            "LabelEncoder",
            [as_float],
            "ai.onnx.ml",
            keys_floats=[float(k) for k in keys],
            values_int64s=values,
            default_int64=-1,
        )
