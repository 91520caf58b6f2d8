"""What ``compute_drift`` reads: Arrow tables, pandas DataFrames, or Parquet files column by column.

Everything becomes a :class:`Columns` at the edge: a schema, a row count and one column at a
time. A Parquet file (:class:`ParquetColumns`) is read one column per call, so drift between two
files never holds more than the columns being tested in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from shipyard.errors import InvalidArgument, NotFound

__all__ = ["Columns", "ParquetColumns", "to_columns"]


class Columns(Protocol):
    """What the drift engine needs of a side: ``pa.Table`` has it, and so does a Parquet file."""

    @property
    def schema(self) -> pa.Schema: ...

    @property
    def column_names(self) -> list[str]: ...

    @property
    def num_rows(self) -> int: ...

    def column(self, name: str) -> pa.ChunkedArray: ...


@dataclass(frozen=True)
class ParquetColumns:
    """A local Parquet file whose columns are read one at a time, when tested.

    Raises (when built):
        NotFound: no such file. InvalidArgument: not a Parquet file.
    """

    path: str
    schema: pa.Schema
    num_rows: int

    @classmethod
    def open(cls, path: str | Path) -> ParquetColumns:
        import pyarrow.parquet as pq

        if not Path(path).is_file():
            raise NotFound(f"no file {str(path)!r}; check the path")
        try:
            meta = pq.ParquetFile(path)
            return cls(str(path), meta.schema_arrow, meta.metadata.num_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidArgument(f"{str(path)!r} is not a readable Parquet file: {exc}") from exc

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def column(self, name: str) -> pa.ChunkedArray:
        """Column ``name`` read from the file (a fresh read each call: safe across threads)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path, columns=[name]).column(0)


def to_columns(data: Any, side: str) -> Columns:
    """``data`` (an Arrow table or record batch, a pandas DataFrame or a ``ParquetColumns``)
    as something the engine reads column by column.

    Raises:
        InvalidArgument: any other type, or a DataFrame column Arrow cannot read.
    """
    if isinstance(data, pa.Table | ParquetColumns):
        return data
    if isinstance(data, pa.RecordBatch):
        batch: Columns = pa.Table.from_batches([data])
        return batch
    if type(data).__module__.split(".")[0] == "pandas":  # no pandas import for Arrow input
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            try:
                frame: Columns = pa.Table.from_pandas(data, preserve_index=False)
                return frame
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise InvalidArgument(
                    f"the {side} DataFrame has a column Arrow cannot read ({exc}); give each "
                    "column one type"
                ) from exc
    raise InvalidArgument(
        f"the {side} data must be a pandas DataFrame or an Arrow table, not {type(data).__name__}"
    )
