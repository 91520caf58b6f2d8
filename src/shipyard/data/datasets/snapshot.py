"""Snapshots: a table written as one canonical Parquet file whose SHA-256 is its version id.

Canonical means the bytes depend only on the rows, their order and the schema: schema metadata
(pandas' index notes, for instance) is dropped and the writer options are fixed, so ingesting the
same content twice gives the same id and stores nothing new. A different pyarrow release may
write different bytes for the same rows (its version is in the file footer), giving a new id.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidArgument

ROW_GROUP_ROWS = 1 << 20


def as_table(data: Any, *, what: str) -> pa.Table:
    """An Arrow table from a ``pyarrow.Table`` or a pandas DataFrame (index dropped), with
    large strings narrowed (see ``_canonical_types``).

    Raises InvalidArgument for anything else, duplicate or empty column names, or columns
    Arrow cannot type (mixed objects).
    """
    if isinstance(data, pa.Table):
        table = data
    elif hasattr(data, "columns") and hasattr(data, "dtypes"):
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidArgument(
                f"{what}: a column mixes types Arrow cannot store together ({exc}); convert it "
                "to one type first (e.g. df[col].astype(str))"
            ) from exc
    else:
        raise InvalidArgument(
            f"{what} takes a source, a pyarrow.Table or a pandas DataFrame, "
            f"not {type(data).__name__}"
        )
    table = _canonical_types(table)
    names = table.column_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes or any(not n for n in names):
        raise InvalidArgument(
            f"{what}: column names must be unique and non-empty; "
            f"{'duplicated: ' + str(dupes) if dupes else 'one is empty'}"
        )
    return table


_NARROW = {"large_string": "string", "large_binary": "binary", "large_utf8": "string"}


def _canonical_types(table: pa.Table) -> pa.Table:
    """64-bit-offset strings and binaries (pandas 3 strings are ``large_string``) narrowed to
    the ordinary types when they fit, so a DataFrame and the Arrow table it came from snapshot
    to the same bytes."""
    fields = []
    for f in table.schema:
        narrow = _NARROW.get(str(f.type))
        fields.append(f.with_type(getattr(pa, narrow)()) if narrow else f)
    target = pa.schema(fields)
    if target.equals(table.schema):
        return table
    try:
        return table.cast(target)
    except (pa.ArrowInvalid, pa.ArrowCapacityError):  # > 2 GiB in one column: keep it large
        return table


def write_snapshot(table: pa.Table, path: Path) -> str:
    """Write ``table`` to ``path`` canonically; returns the file's SHA-256 (the version id)."""
    import pyarrow.parquet as pq

    pq.write_table(
        table.replace_schema_metadata(None),
        path,
        compression="zstd",
        row_group_size=ROW_GROUP_ROWS,
        write_statistics=True,
    )
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_table(table: pa.Table, path: Path) -> None:
    """Write ``table`` as Parquet, CSV or JSON Lines, chosen by ``path``'s suffix.

    Raises InvalidArgument for another suffix.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif suffix == ".csv":
        import pyarrow.csv as pv

        pv.write_csv(table, path)
    elif suffix in (".jsonl", ".ndjson"):
        import duckdb

        with duckdb.connect() as con:
            con.register("t", table)
            con.execute(f"COPY t TO '{_sql_text(str(path))}' (FORMAT JSON)")
    else:
        raise InvalidArgument(
            f"cannot tell the format of {path.name!r}: name it .parquet, .csv or .jsonl"
        )


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def schema_of(table: pa.Table) -> dict[str, str]:
    """Column name to Arrow type name, in order."""
    return {f.name: str(f.type) for f in table.schema}
