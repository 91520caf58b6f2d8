"""Categorical encoders: one column per category (OneHot) or one code per category (Ordinal).

Categories are learned at fit, ordered numbers first then text, and stored as plain Python
values. A category not seen at fit is "unknown": all zeros (OneHot, ``handle_unknown="ignore"``),
an error naming it (``handle_unknown="error"``), or ``unknown_value`` (Ordinal). Values match by
equality, so ``1`` and ``1.0`` are the same category but ``"1"`` is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shipyard.data.preprocess._base import Array, ColumnStep, names_replaced, replace_columns
from shipyard.data.preprocess._frame import column_list, is_text, py_value, sort_key
from shipyard.errors import InvalidArgument

OTHER = "infrequent"


def _categories(s: pd.Series) -> list[Any]:
    """The distinct non-missing values of ``s``, as Python values, ordered."""
    return sorted((py_value(v) for v in pd.unique(s.dropna())), key=sort_key)


def _codes(s: pd.Series, categories: list[Any]) -> Array:
    """The position of each value of ``s`` in ``categories``; -1 for unknown or missing."""
    if not categories:
        return np.full(len(s), -1)
    codes = pd.Index(categories).get_indexer(s.astype(object))
    return np.where(s.isna().to_numpy(), -1, codes)


def _unknown(s: pd.Series, codes: Array) -> list[Any]:
    return [py_value(v) for v in pd.unique(s[(codes == -1) & s.notna().to_numpy()])[:5]]


class _Encoder(ColumnStep):
    def _auto(self, s: pd.Series) -> bool:
        return is_text(s)


class OneHot(_Encoder):
    """Replace each column by one float64 0/1 column per category, named ``{column}_{value}``.

    ``columns=None`` picks the text and categorical columns. Missing values and (with
    ``handle_unknown="ignore"``) unknown categories give all zeros. ``max_categories=N`` keeps
    the N-1 most frequent categories and groups the rest into ``{column}_infrequent``.

    >>> import pandas as pd
    >>> enc = OneHot(["plan"]).fit(pd.DataFrame({"plan": ["a", "b", "a"]}))
    >>> enc.transform(pd.DataFrame({"plan": ["b", "zzz"]})).to_dict("list")
    {'plan_a': [0.0, 0.0], 'plan_b': [1.0, 0.0]}
    """

    kind = "one_hot"

    def __init__(
        self,
        columns: Any = None,
        *,
        handle_unknown: str = "ignore",
        max_categories: int | None = None,
    ) -> None:
        self.columns = columns
        self.handle_unknown = handle_unknown
        self.max_categories = max_categories
        self._check_params()

    def _check_params(self) -> None:
        column_list(self.columns, self._who())
        self._choice("handle_unknown", ("ignore", "error"))
        limit = self.max_categories
        if limit is not None and (type(limit) is not int or limit < 2):
            raise InvalidArgument(
                f"OneHot: max_categories must be a whole number >= 2 or null, got {limit!r}"
            )

    def _fit(self, frame: pd.DataFrame) -> None:
        self.categories_: dict[str, list[Any]] = {}
        self.infrequent_: dict[str, list[Any]] = {}
        for column in self._resolve(frame):
            kept, rare = self._split(frame[column])
            self.categories_[column], self.infrequent_[column] = kept, rare
        self._check_names(list(frame.columns))

    def _split(self, s: pd.Series) -> tuple[list[Any], list[Any]]:
        """The categories that get their own column, and those grouped as infrequent."""
        categories = _categories(s)
        limit = self.max_categories
        if limit is None or len(categories) <= limit:
            return categories, []
        counts = s.value_counts(dropna=True)
        ranked = sorted(
            ((int(n), py_value(v)) for v, n in counts.items()),
            key=lambda item: (-item[0], sort_key(item[1])),
        )
        keep = {v for _, v in ranked[: limit - 1]}
        return [c for c in categories if c in keep], [c for c in categories if c not in keep]

    def _check_names(self, columns: list[str]) -> None:
        out = self._names_out(columns)
        clashes = sorted({n for n in out if out.count(n) > 1})
        if clashes:
            raise InvalidArgument(
                f"OneHot: output column name(s) {clashes} would appear twice (a category name "
                "clashes with another column); rename the column or the categories"
            )

    def _new_names(self, column: str) -> list[str]:
        names = [f"{column}_{v}" for v in self.categories_[column]]
        return names + ([f"{column}_{OTHER}"] if self.infrequent_[column] else [])

    def _names_out(self, names: list[str]) -> list[str]:
        return names_replaced(names, {c: self._new_names(c) for c in self.categories_})

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return replace_columns(frame, {c: self._dummies(frame[c], c) for c in self.categories_})

    def _dummies(self, s: pd.Series, column: str) -> dict[str, pd.Series]:
        categories, rare = self.categories_[column], self.infrequent_[column]
        codes = _codes(s, categories)
        rare_hit = (_codes(s, rare) >= 0) if rare else np.zeros(len(s), dtype=bool)
        if self.handle_unknown == "error":
            unknown = _unknown(s, np.where(rare_hit, 0, codes))
            if unknown:
                raise InvalidArgument(
                    f"OneHot: column {column!r} has categories not seen at fit: {unknown}; "
                    f"known: {categories + rare}. Use handle_unknown='ignore' to encode them "
                    "as all zeros"
                )
        names = self._new_names(column)
        out = {
            n: pd.Series((codes == i).astype("float64"), index=s.index)
            for i, n in enumerate(names[: len(categories)])
        }
        if rare:
            out[names[-1]] = pd.Series(rare_hit.astype("float64"), index=s.index)
        return out


class Ordinal(_Encoder):
    """Replace each category by its position (float64): 0, 1, 2, … in learned order.

    ``categories`` maps a column to its order (``{"size": ["S", "M", "L"]}``); other columns
    use the sorted values seen at fit. Unknown categories become ``unknown_value``; missing
    values stay NaN (impute first if the model cannot take NaN).

    >>> import pandas as pd
    >>> enc = Ordinal(["size"], categories={"size": ["S", "M", "L"]})
    >>> enc.fit(pd.DataFrame({"size": ["S", "L"]})).transform(
    ...     pd.DataFrame({"size": ["L", "XL", None]})
    ... )["size"].tolist()
    [2.0, -1.0, nan]
    """

    kind = "ordinal"

    def __init__(
        self,
        columns: Any = None,
        *,
        categories: dict[str, list[Any]] | None = None,
        unknown_value: float = -1.0,
    ) -> None:
        self.columns = columns
        self.categories = categories
        self.unknown_value = unknown_value
        self._check_params()

    def _check_params(self) -> None:
        column_list(self.columns, self._who())
        given = self.categories
        if given is not None and not (
            isinstance(given, dict)
            and all(isinstance(v, list | tuple) and len(set(v)) == len(v) for v in given.values())
        ):
            raise InvalidArgument(
                "Ordinal: categories must map column names to lists of distinct values, e.g. "
                f"{{'size': ['S', 'M', 'L']}}; got {given!r}"
            )
        value = self.unknown_value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(f"Ordinal: unknown_value must be a number, got {value!r}")

    def _fit(self, frame: pd.DataFrame) -> None:
        given = self.categories or {}
        self.categories_: dict[str, list[Any]] = {}
        for column in self._resolve(frame):
            if column in given:
                order = [py_value(v) for v in given[column]]
                unknown = _unknown(frame[column], _codes(frame[column], order))
                if unknown:
                    raise InvalidArgument(
                        f"Ordinal: column {column!r} has values {unknown} that are not in the "
                        f"categories you gave ({order}); add them"
                    )
                self.categories_[column] = order
            else:
                self.categories_[column] = _categories(frame[column])
        extra = sorted(set(given) - set(self.categories_))
        if extra:
            raise InvalidArgument(f"Ordinal: categories given for columns not encoded: {extra}")

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new = {}
        for column, order in self.categories_.items():
            s = frame[column]
            codes = _codes(s, order).astype("float64")
            codes[codes < 0] = float(self.unknown_value)
            codes[s.isna().to_numpy()] = np.nan
            new[column] = {column: pd.Series(codes, index=s.index)}
        return replace_columns(frame, new)
