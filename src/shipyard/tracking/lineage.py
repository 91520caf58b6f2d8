"""Identify a dataset a run read: content digest, row count, schema."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from shipyard._util import now_ms
from shipyard.errors import InvalidArgument
from shipyard.tracking.entities import DatasetInput


def frame_digest(df: Any) -> str:
    """SHA-256 of a DataFrame's content (values, index and column names), vectorised."""
    import pandas as pd

    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update("\x1f".join(map(str, df.dtypes)).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe_dataset(dataset: Any, *, name: str | None, context: str) -> DatasetInput:
    """A DatasetInput for a DataFrame, a file path, or a DatasetInput given as is."""
    if isinstance(dataset, DatasetInput):
        return dataset
    if isinstance(dataset, (str, Path)):
        path = Path(dataset)
        if not path.is_file():
            raise InvalidArgument(f"log_input: {path} is not a file")
        return DatasetInput(
            name=name or path.stem,
            digest=file_digest(path),
            source=str(path.resolve()),
            context=context,
            logged_at=now_ms(),
        )
    if hasattr(dataset, "dtypes") and hasattr(dataset, "columns"):
        return DatasetInput(
            name=name or "dataframe",
            digest=frame_digest(dataset),
            source="pandas.DataFrame",
            context=context,
            num_rows=len(dataset),
            schema={str(c): str(t) for c, t in dataset.dtypes.items()},
            logged_at=now_ms(),
        )
    raise InvalidArgument(
        f"log_input takes a pandas DataFrame, a file path or a DatasetInput, "
        f"not {type(dataset).__name__}"
    )
