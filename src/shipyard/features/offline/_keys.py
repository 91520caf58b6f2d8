"""Join keys: clean them, find the runs of equal keys in a sorted view, match entity rows to runs.

A run ("group") is a maximal stretch of rows of the sorted view with equal keys. Entity rows are
matched to groups by hashing (``pyarrow.compute.index_in``); composite keys are first turned into
one int64 code per row by encoding each column against the view's distinct values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument

_CODE_LIMIT = 2**62  # re-densify composite codes before their product could overflow int64


def clean_key(column: Any, *, name: str, where: str) -> Any:
    """A join key column ready to compare: dictionaries decoded, float NaN made null.

    Raises InvalidArgument for nested types (lists, structs, maps), which cannot be keys.
    """
    typ = column.type
    if pa.types.is_dictionary(typ):
        column, typ = column.cast(typ.value_type), typ.value_type
    if pa.types.is_nested(typ):
        raise InvalidArgument(
            f"join key {name!r} of {where} has type {typ}; keys must be scalars "
            "(integers, strings, dates, …)"
        )
    if pa.types.is_floating(typ) and column.null_count < len(column):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, typ), column)
    return column


def unify(entity: Any, view: Any, *, name: str, view_name: str) -> tuple[Any, Any]:
    """The entity and view key columns cast to one type so equal values compare equal.

    Integers of any width meet as int64, strings as large_string, binaries as large_binary,
    timestamps as timestamp[us, UTC]; a float column meeting an integer one is cast to int64 (it
    must hold whole numbers, as a pandas integer column with missing values does). Other pairs
    of different types are refused (no silent int-to-string matching): InvalidArgument.
    """
    a, b = entity.type, view.type
    if a == b:
        return entity, view
    target = _common_type(a, b)
    if target is None:
        raise InvalidArgument(
            f"join key {name!r} is {a} in the entity table but {b} in view {view_name!r}; "
            "cast one of them to the other's type"
        )
    try:
        return entity.cast(target), view.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"join key {name!r} is {a} in the entity table but {b} in view {view_name!r} and "
            f"the values do not convert to {target} ({exc}); cast one of them to the other's type"
        ) from exc


def _common_type(a: Any, b: Any) -> Any:
    t = pa.types
    if t.is_integer(a) and t.is_integer(b):
        return pa.int64()
    if (t.is_integer(a) and t.is_floating(b)) or (t.is_floating(a) and t.is_integer(b)):
        return pa.int64()
    if t.is_floating(a) and t.is_floating(b):
        return pa.float64()
    if _is_text(a) and _is_text(b):
        return pa.large_string()
    if _is_bytes(a) and _is_bytes(b):
        return pa.large_binary()
    if t.is_timestamp(a) and t.is_timestamp(b):
        return pa.timestamp("us", tz="UTC")
    return None


def _is_text(typ: Any) -> bool:
    return (
        bool(pa.types.is_string(typ) or pa.types.is_large_string(typ)) or str(typ) == "string_view"
    )


def _is_bytes(typ: Any) -> bool:
    return bool(pa.types.is_binary(typ) or pa.types.is_large_binary(typ))


def integers(column: Any) -> np.ndarray | None:
    """An integer column without nulls as NumPy (the fast path for the usual id keys), else None."""
    if pa.types.is_integer(column.type) and column.null_count == 0:
        return np.asarray(column.to_numpy())
    return None


def run_starts(columns: Sequence[Any], values: Sequence[np.ndarray | None], n: int) -> np.ndarray:
    """Positions where a run of equal keys starts in ``n`` sorted rows.

    ``values``: each column as NumPy where ``integers`` gave it. Nulls compare equal to each
    other here; such runs are dropped later (a null key matches nothing).
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if len(columns) == 1:  # no mask of n booleans to build
        later = np.flatnonzero(_differs_from_previous(columns[0], values[0], n))
        starts = np.zeros(len(later) + 1, dtype=np.int64)
        np.add(later, 1, out=starts[1:])
        return starts
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for column, numbers in zip(columns, values, strict=True):
        changed[1:] |= _differs_from_previous(column, numbers, n)
    return np.flatnonzero(changed)


def _differs_from_previous(column: Any, numbers: np.ndarray | None, n: int) -> np.ndarray:
    if numbers is not None:
        result: np.ndarray = numbers[1:] != numbers[:-1]
        return result
    here, before = column.slice(1), column.slice(0, n - 1)
    differs = pc.fill_null(pc.not_equal(here, before), False)
    nullness = pc.not_equal(pc.is_null(here), pc.is_null(before))
    return np.asarray(pc.or_(differs, nullness).to_numpy(zero_copy_only=False))


def match_groups(entity: Sequence[Any], groups: Sequence[Any], n_entities: int) -> np.ndarray:
    """For each entity row, the index (int32) of the group with equal keys, or -1 (none, or a
    null key).

    ``entity`` and ``groups``: the key columns, already unified pairwise; ``groups`` holds one
    row per group, with distinct, non-null keys.
    """
    if not groups:  # a view without keys: one group, every entity row matches it
        return np.zeros(n_entities, dtype=np.int32)
    if len(groups) == 1:
        direct = _dense_lookup(entity[0], groups[0])
        if direct is not None:
            return direct
        return _filled(pc.index_in(entity[0], value_set=groups[0]))
    entity_code, group_code = _composite_codes(entity, groups)
    found = pc.index_in(pa.array(entity_code), value_set=pa.array(group_code))
    return _filled(found)


def _dense_lookup(entity: Any, groups: Any) -> np.ndarray | None:
    """Match on dense integer keys with a table indexed by key - min (a perfect hash).

    Surrogate ids (0..N-1, or nearly) are the usual join key; looking them up in an array is
    faster and steadier than hashing. None when the keys are not integers without nulls or are
    spread too thin (the table would be more than 4 slots per key).
    """
    keys, wanted = integers(groups), integers(entity)
    if keys is None or wanted is None or not len(keys):
        return None
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if span > 4 * len(keys) + 1024:
        return None
    table = np.full(span, -1, dtype=np.int32)
    table[keys - low] = np.arange(len(keys), dtype=np.int32)
    found: np.ndarray = table.take(wanted - low, mode="clip")
    found[(wanted < low) | (wanted > high)] = -1
    return found


def _filled(indices: Any) -> np.ndarray:
    """index_in's int32 result with -1 for null, as NumPy."""
    return np.asarray(pc.fill_null(indices, -1).to_numpy())


def _composite_codes(entity: Sequence[Any], groups: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 code per row for composite keys: equal codes iff equal keys; -1 for an entity
    row with a null key or a value the view does not hold."""
    entity_code = np.zeros(len(entity[0]), dtype=np.int64)
    group_code = np.zeros(len(groups[0]), dtype=np.int64)
    radix = 1
    for ent, grp in zip(entity, groups, strict=True):
        values = pc.unique(grp)
        size = len(values)
        if radix * size >= _CODE_LIMIT:
            entity_code, group_code = _densify(entity_code, group_code)
            radix = len(np.unique(group_code))
        g = pc.index_in(grp, value_set=values).to_numpy().astype(np.int64)
        e = _filled(pc.index_in(ent, value_set=values))
        group_code = group_code * size + g
        entity_code = np.where((entity_code < 0) | (e < 0), -1, entity_code * size + e)
        radix *= size
    return entity_code, group_code


def _densify(entity_code: np.ndarray, group_code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber codes 0..k-1 by the distinct group codes; entity codes the view lacks become -1."""
    distinct, group_dense = np.unique(group_code, return_inverse=True)
    at = np.minimum(np.searchsorted(distinct, entity_code), len(distinct) - 1)
    hit = (entity_code >= 0) & (distinct[at] == entity_code)
    return np.where(hit, at, -1), group_dense.astype(np.int64)
