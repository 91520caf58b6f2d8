"""Steps on values: fill missing values (Impute), tame outliers (Outliers), rescale (Scale).

Numeric outputs are always float64, whatever the input dtype (int, bool, numbers as text), so a
single row sent to a model server comes out exactly as the same row does in a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from shipyard.data.preprocess._base import Array, ColumnStep, replace_columns
from shipyard.data.preprocess._frame import (
    as_frame,
    column_list,
    is_numeric,
    py_value,
    require_columns,
    sort_key,
)
from shipyard.errors import InvalidArgument


class Impute(ColumnStep):
    """Fill missing values with a learned mean, median or mode, or a constant.

    ``columns=None`` means every numeric column (``mean``, ``median``) or every column
    (``mode``, ``constant``). Numeric fills give float64 columns; a text fill keeps the column's
    values. Blank strings count as missing in numeric columns.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [1, None, 5]})
    >>> Impute(["x"], strategy="median").fit_transform(frame)["x"].tolist()
    [1.0, 3.0, 5.0]
    """

    kind = "impute"
    STRATEGIES = ("mean", "median", "mode", "constant")

    def __init__(
        self, columns: Any = None, *, strategy: str = "mean", fill_value: Any = None
    ) -> None:
        self.columns = columns
        self.strategy = strategy
        self.fill_value = fill_value
        self._check_params()

    def _check_params(self) -> None:
        column_list(self.columns, self._who())
        self._choice("strategy", self.STRATEGIES)
        if self.strategy == "constant" and self.fill_value is None:
            raise InvalidArgument("Impute: strategy='constant' needs a fill_value")
        if self.strategy != "constant" and self.fill_value is not None:
            raise InvalidArgument(
                f"Impute: fill_value is only used with strategy='constant', not {self.strategy!r}"
            )
        if not isinstance(self.fill_value, bool | int | float | str | None):
            raise InvalidArgument(
                f"Impute: fill_value must be a number or text, not {self.fill_value!r}"
            )

    def _auto(self, s: pd.Series) -> bool:
        return self.strategy in ("mode", "constant") or is_numeric(s)

    def _fit(self, frame: pd.DataFrame) -> None:
        self.statistics_ = {c: self._statistic(frame, c) for c in self._resolve(frame)}

    def _statistic(self, frame: pd.DataFrame, column: str) -> Any:
        if self.strategy == "constant":
            return self.fill_value
        if self.strategy == "mode":
            return _mode(frame[column], column)
        values = self._numbers(frame, column)
        stat = values.mean() if self.strategy == "mean" else values.median()
        if pd.isna(stat):
            raise InvalidArgument(
                f"Impute: column {column!r} has no values to take the {self.strategy} of; use "
                "strategy='constant' with a fill_value"
            )
        return float(stat)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new = {c: {c: self._fill(frame, c, v)} for c, v in self.statistics_.items()}
        return replace_columns(frame, new)

    def _fill(self, frame: pd.DataFrame, column: str, value: Any) -> pd.Series:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._numbers(frame, column).fillna(float(value))
        s = frame[column]
        if not (isinstance(s.dtype, pd.StringDtype) and isinstance(value, str)):
            s = s.astype(object)  # text into numbers, booleans: keep the values as they are
        return s.fillna(value)


def _mode(s: pd.Series, column: str) -> Any:
    counts = s.value_counts(dropna=True)
    if counts.empty:
        raise InvalidArgument(
            f"Impute: column {column!r} has no values to take the mode of; use "
            "strategy='constant' with a fill_value"
        )
    top = [py_value(v) for v in counts.index[counts.to_numpy() == counts.max()]]
    return min(top, key=sort_key)


class Outliers(ColumnStep):
    """Limit values to bounds learned at fit: the IQR fence or mean ± threshold·std.

    ``method="iqr"``: ``[q1 - factor·iqr, q3 + factor·iqr]``; ``method="zscore"``:
    ``[mean - threshold·std, mean + threshold·std]``. ``transform`` clips values to the bounds
    (missing values stay missing). ``action="drop"`` removes rows outside the bounds only when
    training through :meth:`Preprocessor.fit_resample`; a transform must return one row per
    input row, so inside a Pipeline and at prediction time ``drop`` clips too.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0]})
    >>> Outliers(["x"], factor=1.0).fit_transform(frame)["x"].tolist()
    [1.0, 2.0, 3.0, 4.0, 6.0]
    """

    kind = "outliers"

    def __init__(
        self,
        columns: Any = None,
        *,
        method: str = "iqr",
        action: str = "clip",
        factor: float = 1.5,
        threshold: float = 3.0,
    ) -> None:
        self.columns = columns
        self.method = method
        self.action = action
        self.factor = factor
        self.threshold = threshold
        self._check_params()

    def _check_params(self) -> None:
        column_list(self.columns, self._who())
        self._choice("method", ("iqr", "zscore"))
        self._choice("action", ("clip", "drop"))
        self._positive("factor")
        self._positive("threshold")

    def _fit(self, frame: pd.DataFrame) -> None:
        self.lower_: dict[str, float] = {}
        self.upper_: dict[str, float] = {}
        for column in self._resolve(frame):
            values = self._numbers(frame, column).dropna().to_numpy()
            if values.size == 0:
                raise InvalidArgument(f"Outliers: column {column!r} has no values to fit bounds")
            self.lower_[column], self.upper_[column] = self._bounds(values)

    def _bounds(self, values: Array) -> tuple[float, float]:
        if self.method == "iqr":
            q1, q3 = np.quantile(values, [0.25, 0.75])
            spread = float(self.factor) * (q3 - q1)
            return float(q1 - spread), float(q3 + spread)
        mean, std = values.mean(), values.std()
        return float(mean - self.threshold * std), float(mean + self.threshold * std)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new = {
            c: {c: self._numbers(frame, c).clip(self.lower_[c], self.upper_[c])}
            for c in self.columns_
        }
        return replace_columns(frame, new)

    def inliers(self, X: Any) -> Array:
        """A boolean array: True for rows whose values all lie within the bounds (or are missing).

        Raises NotFittedError before fit, InvalidArgument for missing columns.
        """
        check_is_fitted(self)
        frame = as_frame(X, self._who())
        require_columns(frame, self.columns_, self._who())
        keep = np.ones(len(frame), dtype=bool)
        for c in self.columns_:
            values = self._numbers(frame, c).to_numpy()
            outside = (values < self.lower_[c]) | (values > self.upper_[c])
            keep &= ~outside
        return keep


class Scale(ColumnStep):
    """Rescale numeric columns: ``standard`` (mean 0, std 1), ``minmax`` ([0, 1]) or ``robust``
    (median 0, IQR 1). A constant column is only shifted (its scale is taken as 1).

    >>> import pandas as pd
    >>> Scale(["x"], method="minmax").fit_transform(pd.DataFrame({"x": [2, 4, 6]}))["x"].tolist()
    [0.0, 0.5, 1.0]
    """

    kind = "scale"

    def __init__(self, columns: Any = None, *, method: str = "standard") -> None:
        self.columns = columns
        self.method = method
        self._check_params()

    def _check_params(self) -> None:
        column_list(self.columns, self._who())
        self._choice("method", ("standard", "minmax", "robust"))

    def _fit(self, frame: pd.DataFrame) -> None:
        self.offset_: dict[str, float] = {}
        self.scale_: dict[str, float] = {}
        for column in self._resolve(frame):
            values = self._numbers(frame, column).dropna().to_numpy()
            if values.size == 0:
                raise InvalidArgument(f"Scale: column {column!r} has no values to fit on")
            offset, scale = self._stats(values)
            self.offset_[column] = offset
            self.scale_[column] = scale if scale > 0 else 1.0

    def _stats(self, values: Array) -> tuple[float, float]:
        if self.method == "standard":
            return float(values.mean()), float(values.std())
        if self.method == "minmax":
            return float(values.min()), float(values.max() - values.min())
        q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
        return float(median), float(q3 - q1)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new = {
            c: {c: (self._numbers(frame, c) - self.offset_[c]) / self.scale_[c]}
            for c in self.columns_
        }
        return replace_columns(frame, new)
