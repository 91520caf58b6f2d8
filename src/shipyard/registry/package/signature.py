"""Model signatures: the columns (or the tensor) a model takes and returns.

A :class:`Signature` has ``inputs`` and optional ``outputs``, each either a tuple of
:class:`ColumnSpec` (tabular data) or a :class:`TensorSpec` (an n-d array, batch first).
Column dtypes are short strings: ``int64``/``int32``/… , ``float64``/``float32``, ``bool``,
``string``, ``category``, ``object``, ``datetime64[ns]``/``datetime64[us, UTC]``/… .

:meth:`Signature.validate` turns what a caller sends (a DataFrame, a list of records, a dict of
columns, an array) into exactly what the model was trained on, or raises InvalidArgument naming
the column, the expected dtype and a bad value. Rules:

- missing columns are an error, extra columns are dropped, columns come back in signature order;
- a value is converted only when that is lossless: ``"3"`` or ``3.0`` for an ``int64`` column,
  ``3`` for a ``float64`` one, ``"2024-05-01"`` for a datetime; ``"abc"`` or ``2.5`` for an
  ``int64`` column is refused;
- missing values (None/NaN) are refused only in ``int*`` and ``bool`` columns whose signature is
  not ``nullable`` (no lossless way to hold them); elsewhere ``nullable`` is informative;
- category levels unseen at training time are allowed (the model decides what to do with them).

This module imports no heavy library; inference and validation load pandas when called.

>>> sig = Signature(inputs=(ColumnSpec("age", "int64"), ColumnSpec("plan", "string")))
>>> Signature.from_dict(sig.to_dict()) == sig
True
>>> compatible(sig, Signature(inputs=(ColumnSpec("age", "float64"),)))
[]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_LEVELS = 100
"""Columns of strings or categories with at most this many distinct values record them."""


@dataclass(frozen=True)
class ColumnSpec:
    """One input or output column: its name, dtype string, whether it held missing values in the
    example, and its distinct values (``levels``) when it is textual or categorical and has at
    most 100 of them."""

    name: str
    dtype: str
    nullable: bool = False
    levels: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        levels = list(self.levels) if self.levels is not None else None
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable, "levels": levels}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        """Inverse of :meth:`to_dict`. Raises InvalidArgument when malformed."""
        name, dtype = data.get("name"), data.get("dtype")
        levels = data.get("levels")
        if not isinstance(name, str) or not isinstance(dtype, str):
            raise InvalidArgument(f"column spec needs string 'name' and 'dtype', got {data!r}")
        if levels is not None and not (
            isinstance(levels, list) and all(isinstance(v, str) for v in levels)
        ):
            raise InvalidArgument(f"column {name!r}: 'levels' must be a list of strings or null")
        return cls(name, dtype, bool(data.get("nullable", False)), _tuple_or_none(levels))


@dataclass(frozen=True)
class TensorSpec:
    """An n-d array input or output: dtype string and shape, ``-1`` for a free (batch) size."""

    dtype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"type": "tensor", "dtype": self.dtype, "shape": list(self.shape)}


Schema: TypeAlias = tuple[ColumnSpec, ...] | TensorSpec
"""The inputs or outputs of a model: columns, or one tensor."""


@dataclass(frozen=True)
class Signature:
    """What a model takes (``inputs``) and returns (``outputs``, None when unknown)."""

    inputs: Schema
    outputs: Schema | None = None

    @property
    def columns(self) -> list[str] | None:
        """The input column names, or None for a tensor input."""
        return None if isinstance(self.inputs, TensorSpec) else [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored in ``shipyard-model.json`` and the registry."""
        outputs = None if self.outputs is None else schema_to_dict(self.outputs)
        return {"inputs": schema_to_dict(self.inputs), "outputs": outputs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Inverse of :meth:`to_dict`. Raises InvalidArgument when malformed."""
        if not isinstance(data, Mapping) or "inputs" not in data:
            raise InvalidArgument(f"a signature is a mapping with 'inputs', got {data!r}")
        outputs = data.get("outputs")
        return cls(schema_from_dict(data["inputs"]), _opt_schema(outputs))

    def validate(self, data: object) -> pd.DataFrame | np.ndarray[Any, Any]:
        """Convert ``data`` to the model's input: a DataFrame for columns, an array for a tensor.

        Accepts a DataFrame, a list of records (dicts), a dict of columns (or one record as a
        dict of scalars), or an array. Raises InvalidArgument naming the missing columns, or the
        column, expected dtype and an example of a value that cannot be converted losslessly.
        """
        from shipyard.registry.package import _frames

        return _frames.validate(self.inputs, data)


def infer_signature(X: object, y: object = None) -> Signature:
    """Infer a signature from example inputs ``X`` and, when given, outputs ``y``.

    ``X`` may be a DataFrame, list of records, dict of columns or an array; ``y`` likewise or a
    Series. Raises InvalidArgument for data that has no tabular or array form.

    >>> import pandas as pd
    >>> sig = infer_signature(pd.DataFrame({"age": [31, 40], "plan": ["pro", None]}))
    >>> [(c.name, c.dtype, c.nullable, c.levels) for c in sig.inputs]
    [('age', 'int64', False, None), ('plan', 'string', True, ('pro',))]
    """
    from shipyard.registry.package import _frames

    outputs = None if y is None else _frames.infer_schema(y)
    return Signature(_frames.infer_schema(X), outputs)


def compatible(old: Signature, new: Signature) -> list[str]:
    """List what breaks for callers of ``old`` when ``new`` replaces it (empty: compatible).

    Inputs break when ``new`` needs a column ``old`` did not take, when a column's dtype changes
    (widening ``int*`` → ``float*`` is fine: integers convert losslessly) or when a column stops
    accepting missing values. A column ``old`` took but ``new`` no longer needs is not a break:
    extra columns are dropped. Outputs break when a column is removed or changes dtype. Changing
    between columns and tensor, or a tensor's dtype or shape, is always a break.
    """
    problems = _compare(old.inputs, new.inputs, "input", inputs=True)
    if old.outputs is not None and new.outputs is not None:
        problems += _compare(old.outputs, new.outputs, "output", inputs=False)
    return problems


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """JSON-safe form of inputs or outputs."""
    if isinstance(schema, TensorSpec):
        return schema.to_dict()
    return {"type": "columns", "columns": [c.to_dict() for c in schema]}


def schema_from_dict(data: Any) -> Schema:
    """Inverse of :func:`schema_to_dict`. Raises InvalidArgument when malformed."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    if kind == "columns" and isinstance(data.get("columns"), list):
        return tuple(ColumnSpec.from_dict(c) for c in data["columns"])
    if kind == "tensor" and isinstance(data.get("dtype"), str):
        shape = data.get("shape")
        if isinstance(shape, list) and all(isinstance(n, int) for n in shape):
            return TensorSpec(data["dtype"], tuple(shape))
    raise InvalidArgument(
        "a signature schema is {'type': 'columns', 'columns': [...]} or "
        f"{{'type': 'tensor', 'dtype': ..., 'shape': [...]}}, got {data!r}"
    )


def _opt_schema(data: Any) -> Schema | None:
    return None if data is None else schema_from_dict(data)


def _tuple_or_none(levels: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if levels is None else tuple(levels)


def _compare(old: Schema, new: Schema, what: str, *, inputs: bool) -> list[str]:
    if isinstance(old, TensorSpec) or isinstance(new, TensorSpec):
        if old != new:
            return [f"{what} changed from {_describe(old)} to {_describe(new)}"]
        return []
    before = {c.name: c for c in old}
    problems: list[str] = []
    for col in new:
        prev = before.get(col.name)
        if prev is None:
            if inputs:
                problems.append(f"{what} column {col.name!r} ({col.dtype}) is new and required")
            continue
        problems += _compare_column(prev, col, what, inputs=inputs)
    if not inputs:
        after = {c.name for c in new}
        problems += [f"{what} column {c.name!r} was removed" for c in old if c.name not in after]
    return problems


def _compare_column(old: ColumnSpec, new: ColumnSpec, what: str, *, inputs: bool) -> list[str]:
    problems: list[str] = []
    widening = inputs and old.dtype.startswith(("int", "uint")) and new.dtype.startswith("float")
    if old.dtype != new.dtype and not widening:
        problems.append(f"{what} column {old.name!r} changed dtype from {old.dtype} to {new.dtype}")
    strict = new.dtype.startswith(("int", "uint", "bool"))
    if inputs and old.nullable and not new.nullable and strict:
        problems.append(f"{what} column {old.name!r} no longer accepts missing values")
    return problems


def _describe(schema: Schema) -> str:
    if isinstance(schema, TensorSpec):
        return f"a {schema.dtype} tensor of shape {list(schema.shape)}"
    return f"columns {[c.name for c in schema]}"
