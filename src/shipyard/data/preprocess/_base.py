"""The base of every preprocessing step: the scikit-learn transformer contract on DataFrames.

A step takes a DataFrame and returns a DataFrame on the same index, working on columns by name
and passing the others through untouched. Parameters are stored by ``__init__`` exactly as given
(so ``clone`` and ``get_params`` work) and checked there and again at ``fit`` (``set_params``
skips ``__init__``). Learned state ends in ``_`` and holds only plain Python values and numpy
arrays, so a fitted step saves with skops without trusting anything else.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from shipyard.data.preprocess._frame import (
    as_frame,
    column_list,
    is_numeric,
    require_columns,
    to_float,
)
from shipyard.errors import InvalidArgument

Array = np.ndarray[Any, Any]


class Step(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Base class of the preprocessing steps (``kind`` is the step's name in YAML)."""

    kind: ClassVar[str] = ""

    # ------------------------------------------------------------------ the sklearn contract

    def fit(self, X: Any, y: Any = None) -> Self:
        """Learn what the step needs from ``X`` (a DataFrame) and return the step.

        Raises InvalidArgument for bad parameters, missing columns or unusable values.
        """
        frame = as_frame(X, self._who())
        self._check_params()
        self._fit(frame)
        self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        self.n_features_in_ = len(frame.columns)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """Apply the fitted step to ``X``; returns a new DataFrame on the same index.

        Raises NotFittedError before ``fit``, InvalidArgument for missing columns or values
        the step cannot take.
        """
        check_is_fitted(self)
        frame = as_frame(X, self._who())
        require_columns(frame, self._inputs(), self._who())
        return self._transform(frame)

    def get_feature_names_out(self, input_features: Any = None) -> Array:
        """The output column names for ``input_features`` (default: the columns seen at fit)."""
        check_is_fitted(self)
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray(self._names_out([str(n) for n in names]), dtype=object)

    # ------------------------------------------------------------------ what subclasses write

    def _check_params(self) -> None:
        """Raise InvalidArgument for a bad parameter value."""

    def _fit(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _inputs(self) -> list[str]:
        """The columns ``transform`` reads (known after fit)."""
        raise NotImplementedError

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def _names_out(self, names: list[str]) -> list[str]:
        return names

    # ------------------------------------------------------------------ helpers

    def _who(self) -> str:
        return type(self).__name__

    def _choice(self, param: str, choices: tuple[str, ...]) -> None:
        value = getattr(self, param)
        if value not in choices:
            raise InvalidArgument(
                f"{self._who()}: {param} must be one of {list(choices)}, got {value!r}"
            )

    def _positive(self, param: str) -> None:
        value = getattr(self, param)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidArgument(
                f"{self._who()}: {param} must be a positive number, got {value!r}"
            )


class ColumnStep(Step):
    """A step over a list of columns; ``columns=None`` picks them at fit (``_auto``)."""

    columns: Any

    def _resolve(self, frame: pd.DataFrame) -> list[str]:
        names = column_list(self.columns, self._who())
        if names is None:
            names = [c for c in frame.columns if self._auto(frame[c])]
            if not names:
                raise InvalidArgument(
                    f"{self._who()}: columns=None found no suitable column; name the columns"
                )
        require_columns(frame, names, self._who())
        self.columns_ = names
        return names

    def _auto(self, s: pd.Series) -> bool:
        return is_numeric(s)

    def _inputs(self) -> list[str]:
        return list(self.columns_)

    def _numbers(self, frame: pd.DataFrame, column: str) -> pd.Series:
        return to_float(frame[column], column, self._who())


def replace_columns(frame: pd.DataFrame, new: dict[str, dict[str, pd.Series]]) -> pd.DataFrame:
    """``frame`` with each column named in ``new`` replaced, in place, by its new columns.

    Columns are taken by position (``.array``), never aligned on the index, so an index with
    repeated labels is kept as it is.
    """
    out: dict[str, Any] = {}
    for name in frame.columns:
        for key, column in new.get(name, {name: frame[name]}).items():
            out[key] = column.array
    return pd.DataFrame(out, index=frame.index)


def names_replaced(names: list[str], new: dict[str, list[str]]) -> list[str]:
    """``names`` with each name in ``new`` replaced, in place, by its list of names."""
    out: list[str] = []
    for name in names:
        out.extend(new.get(name, [name]))
    return out
