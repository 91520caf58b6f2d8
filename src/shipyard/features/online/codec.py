"""The binary value format of the online stores: one packed record per entity and view.

A record is ``01 | layout id (8 bytes) | validity (1 byte per feature) | fixed values | strings``:

- the **layout** is the ordered list of (feature, logical type) of the write that made the record;
  its id is the first 8 bytes of the SHA-256 of its JSON spec, and each store keeps the specs
  (``online_layouts`` in SQLite, the ``{view}:layouts`` hash in Redis), so records of different
  definitions of a view coexist and a reader always knows how to unpack one;
- **fixed values**: 8 little-endian bytes per feature that is not a string (float64 as IEEE 754,
  so NaN and infinities round-trip; int64, bool, timestamps in µs since the epoch UTC and dates
  in days as int64); a null value has validity 0 and zero bytes;
- **strings**: per string feature, a little-endian uint32 byte length and the UTF-8 bytes.

Packing is vectorised (one NumPy structured array for the fixed part, Arrow's element-wise binary
join for strings); unpacking a layout without strings is one ``np.frombuffer`` over the joined
records. Measured against the JSON objects this replaced, on 100,000 entities x 10 float64
features: 80 bytes instead of 244 per entity, the encode 0.21 s → 0.01 s and the SQLite commit
2.5x faster (benchmarks/bench_materialize.py).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument

MAGIC = 1
ID_BYTES = 8
HEADER = 1 + ID_BYTES
_STRING = "string"
_NULL = "null"


@dataclass(frozen=True)
class Layout:
    """The ordered features of a record and their logical types (see ``base.LOGICAL_TYPES``).

    >>> layout = Layout((("clicks", "int64"), ("name", "string")))
    >>> layout.spec
    '[["clicks","int64"],["name","string"]]'
    >>> Layout.from_spec(layout.spec) == layout
    True
    """

    features: tuple[tuple[str, str], ...]
    spec: str = field(init=False, repr=False, compare=False)
    id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = json.dumps([list(f) for f in self.features], separators=(",", ":"))
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "id", hashlib.sha256(spec.encode()).digest()[:ID_BYTES])

    @classmethod
    def from_spec(cls, spec: str | bytes) -> Layout:
        return cls(tuple((str(n), str(t)) for n, t in json.loads(spec)))

    @property
    def fixed(self) -> list[tuple[str, str]]:
        return [(n, t) for n, t in self.features if t not in (_STRING, _NULL)]

    @property
    def strings(self) -> list[str]:
        return [n for n, t in self.features if t == _STRING]

    def dtype(self) -> np.dtype[Any]:
        """The fixed part of a record as a packed NumPy structured type."""
        fields: list[tuple[str, Any, Any] | tuple[str, Any]] = [
            ("magic", "u1"),
            ("layout", f"V{ID_BYTES}"),
        ]
        if self.features:
            fields.append(("valid", "u1", (len(self.features),)))
        fields += [(f"v{i}", "<f8" if t == "float64" else "<i8") for i, (_, t) in
                   enumerate(self.fixed)]  # fmt: skip
        return np.dtype(fields)


def pack(layout: Layout, columns: Sequence[pa.Array], rows: int) -> list[bytes]:
    """One record per row (``rows`` of them) of ``columns``: the layout's features in order,
    as float64, int64 (int, timestamp µs), int32 (date days), bool or string arrays."""
    n = rows
    dtype = layout.dtype()
    fixed = np.zeros(n, dtype)
    fixed["magic"] = MAGIC
    fixed["layout"] = np.frombuffer(layout.id, f"V{ID_BYTES}")[0]
    strings: list[pa.Array] = []
    slot = 0
    for i, ((_, kind), column) in enumerate(zip(layout.features, columns, strict=True)):
        fixed["valid"][:, i] = column.is_valid().to_numpy(zero_copy_only=False)
        if kind == _STRING:
            text = pc.fill_null(column.cast(pa.binary()), b"")
            lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype("<u4")
            strings += [_fixed_binary(lengths.tobytes(), 4, n).cast(pa.binary()), text]
        elif kind != _NULL:
            storage = column if kind == "float64" else column.cast(pa.int64())
            values = pc.fill_null(storage, 0).to_numpy(zero_copy_only=False)
            fixed[f"v{slot}"] = values
            slot += 1
    records = _fixed_binary(fixed.tobytes(), dtype.itemsize, n)
    if not strings:
        packed: list[bytes] = records.to_pylist()
        return packed
    joined = pc.binary_join_element_wise(records.cast(pa.binary()), *strings, b"")
    packed = joined.to_pylist()
    return packed


def _fixed_binary(buffer: bytes, width: int, n: int) -> pa.Array:
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(buffer)])


def layout_id(record: bytes) -> bytes:
    """The layout id of a record; raises InvalidArgument for bytes that are not a record."""
    if len(record) < HEADER or record[0] != MAGIC:
        raise InvalidArgument(
            "a stored online value is not in Shipyard's record format; delete the view "
            "(delete_view) and re-materialize it"
        )
    return record[1:HEADER]


def unpack(
    records: Sequence[bytes], layouts: Mapping[bytes, Layout], types: Mapping[str, pa.DataType]
) -> dict[str, pa.Array]:
    """Columns ``types`` (name → Arrow type) of ``records``, in order; a feature a record's
    layout lacks reads as null. Raises InvalidArgument for a record of an unknown layout."""
    groups: dict[bytes, list[int]] = {}
    for i, record in enumerate(records):
        groups.setdefault(layout_id(record), []).append(i)
    parts: dict[str, list[pa.Array]] = {name: [] for name in types}
    order: list[int] = []
    for lid, rows in groups.items():
        layout = layouts.get(lid)
        if layout is None:
            raise InvalidArgument(
                f"a stored online value has the unknown layout {lid.hex()}; the store lost its "
                "layouts: delete the view (delete_view) and re-materialize it"
            )
        decoded = _unpack_group(layout, [records[i] for i in rows])
        for name, kind in types.items():
            column = decoded.get(name)
            parts[name].append(
                pa.nulls(len(rows), kind) if column is None else _to_type(column, kind)
            )
        order += rows
    if not order:
        return {name: pa.array([], kind) for name, kind in types.items()}
    if len(groups) == 1:  # one layout (the common case): the records are already in order
        return {name: chunks[0] for name, chunks in parts.items()}
    inverse = pa.array(np.argsort(np.asarray(order, np.int64), kind="stable"))
    return {name: pa.concat_arrays(chunks).take(inverse) for name, chunks in parts.items()}


def _to_type(column: pa.Array, kind: pa.DataType) -> pa.Array:
    if column.type == kind:
        return column
    return column.cast(kind)


def _unpack_group(layout: Layout, records: list[bytes]) -> dict[str, pa.Array]:
    dtype = layout.dtype()
    width = dtype.itemsize
    if layout.strings:
        fixed = np.frombuffer(b"".join(r[:width] for r in records), dtype)
    else:
        fixed = np.frombuffer(b"".join(records), dtype)
    texts = _strings(layout, records, width) if layout.strings else {}
    columns: dict[str, pa.Array] = {}
    slot = 0
    for i, (name, kind) in enumerate(layout.features):
        mask = fixed["valid"][:, i] == 0
        if kind == _STRING:
            columns[name] = pa.array(texts[name], pa.string(), mask=mask)
        elif kind == _NULL:
            columns[name] = pa.nulls(len(records))
        else:
            columns[name] = _fixed_column(kind, fixed[f"v{slot}"], mask)
            slot += 1
    return columns


def _fixed_column(kind: str, values: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> pa.Array:
    if kind == "float64":
        return pa.array(values, pa.float64(), mask=mask)
    if kind == "bool":
        return pa.array(values != 0, pa.bool_(), mask=mask)
    ints = pa.array(values, pa.int64(), mask=mask)
    if kind == "timestamp":
        return ints.cast(pa.timestamp("us", tz="UTC"))
    if kind == "date32":
        return ints.cast(pa.int32()).cast(pa.date32())
    return ints


def _strings(layout: Layout, records: list[bytes], start: int) -> dict[str, list[str]]:
    names = layout.strings
    found: dict[str, list[str]] = {n: [] for n in names}
    size = struct.Struct("<I")
    for record in records:
        at = start
        for name in names:
            (length,) = size.unpack_from(record, at)
            at += 4
            found[name].append(record[at : at + length].decode())
            at += length
    return found


__all__ = ["HEADER", "ID_BYTES", "MAGIC", "Layout", "layout_id", "pack", "unpack"]
