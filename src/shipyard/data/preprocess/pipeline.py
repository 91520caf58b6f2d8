"""Preprocessor: an ordered list of steps, declared in Python or YAML, fitted with the model.

It is one scikit-learn transformer, so ``Pipeline([("prep", Preprocessor(...)), ("clf", ...)])``
fits it with the model, saves it inside the model package and applies exactly the same steps
to a batch and to a single row at serving time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from shipyard.data.preprocess._base import Array, Step
from shipyard.data.preprocess._frame import as_frame, require_columns
from shipyard.data.preprocess.derive import DateParts, Derive
from shipyard.data.preprocess.encode import OneHot, Ordinal
from shipyard.data.preprocess.numeric import Impute, Outliers, Scale
from shipyard.errors import InvalidArgument, NotFound


def step_types() -> dict[str, type[Step]]:
    """The step classes by their name in a declaration (``impute``, ``one_hot``, …)."""
    classes: tuple[type[Step], ...] = (Impute, Outliers, Scale, OneHot, Ordinal, DateParts, Derive)
    return {cls.kind: cls for cls in classes}


class Preprocessor(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Apply ``steps`` in order; each step sees the previous step's output.

    ``transform`` reads exactly the columns seen at fit, in fit order (extra columns are
    ignored, a missing one is an error) and returns a DataFrame on the input's index.

    >>> import pandas as pd
    >>> prep = Preprocessor.from_dict(
    ...     {"steps": [{"impute": {"columns": ["tenure"], "strategy": "median"}},
    ...                {"derive": {"name": "per_month", "expression": "total / tenure"}}]}
    ... )
    >>> frame = pd.DataFrame({"total": [30.0, 8.0, 9.0], "tenure": [3, None, 0]})
    >>> prep.fit_transform(frame)["per_month"].tolist()
    [10.0, 5.333333333333333, nan]
    """

    def __init__(self, steps: Sequence[Step] = ()) -> None:
        self.steps = steps
        self._check_params()

    def _check_params(self) -> None:
        if not isinstance(self.steps, Sequence) or isinstance(self.steps, str):
            raise InvalidArgument(
                f"Preprocessor: steps must be a list of steps, not {self.steps!r}"
            )
        for i, step in enumerate(self.steps):
            if not isinstance(step, Step):
                raise InvalidArgument(
                    f"Preprocessor: step {i} is a {type(step).__name__}; steps are "
                    f"{', '.join(c.__name__ for c in step_types().values())}"
                )

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any = None) -> Self:
        """Fit every step in turn on the output of the one before; returns self."""
        self._fit(X, y, resample=False)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit and return the transformed training data in one pass over the steps."""
        return self._fit(X, y, resample=False)[0]

    def fit_resample(self, X: Any, y: Any = None) -> tuple[pd.DataFrame, Any]:
        """Fit like ``fit_transform``, and remove the training rows ``Outliers(action="drop")``
        finds outside its bounds; returns ``(X_transformed, y_kept)``.

        The rows are removed right after that step is fitted, so later steps learn from the
        kept rows only. Use it to train, then fit the model on what it returns; at
        prediction time the same step clips instead (a model answers every row).
        """
        return self._fit(X, y, resample=True)

    def _fit(self, X: Any, y: Any, *, resample: bool) -> tuple[pd.DataFrame, Any]:
        frame = as_frame(X, "Preprocessor")
        self._check_params()
        if y is not None and len(y) != len(frame):
            raise InvalidArgument(f"Preprocessor: y has {len(y)} rows but X has {len(frame)}")
        names = list(frame.columns)
        target = y
        for step in self.steps:
            step.fit(frame)
            if resample and isinstance(step, Outliers) and step.action == "drop":
                keep = step.inliers(frame)
                frame, target = frame[keep], _take(target, keep)
            frame = step.transform(frame)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        return frame, target

    # ------------------------------------------------------------------ applying

    def transform(self, X: Any) -> pd.DataFrame:
        """Apply the fitted steps to ``X``. Raises NotFittedError, InvalidArgument."""
        check_is_fitted(self)
        frame = as_frame(X, "Preprocessor")
        names = [str(n) for n in self.feature_names_in_]
        require_columns(frame, names, "Preprocessor")
        frame = frame[names]
        for step in self.steps:
            frame = step.transform(frame)
        return frame

    def get_feature_names_out(self, input_features: Any = None) -> Array:
        """The names of the columns ``transform`` returns."""
        check_is_fitted(self)
        names: Any = self.feature_names_in_ if input_features is None else input_features
        for step in self.steps:
            names = step.get_feature_names_out(names)
        return np.asarray(names, dtype=object)

    # ------------------------------------------------------------------ declarations

    def to_dict(self) -> dict[str, Any]:
        """The declaration as plain data (what :meth:`from_dict` reads back)."""
        return {"steps": [_step_to_dict(step) for step in self.steps]}

    def to_yaml(self) -> str:
        """The declaration as YAML text (what :meth:`from_yaml` reads back)."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessor:
        """Build from ``{"steps": [{"impute": {...}}, {"derive": {...}}, ...]}``.

        Raises InvalidArgument for an unknown step or parameter (listing the valid ones) or a
        bad value.
        """
        if not isinstance(data, Mapping) or set(data) != {"steps"}:
            raise InvalidArgument(
                "a preprocessing declaration is a mapping with one key, 'steps': a list such as "
                "[{'impute': {'columns': ['age'], 'strategy': 'median'}}]"
            )
        steps = data["steps"]
        if not isinstance(steps, list):
            raise InvalidArgument(f"'steps' must be a list of steps, not {type(steps).__name__}")
        return cls([_step_from_dict(i, item) for i, item in enumerate(steps)])

    @classmethod
    def from_yaml(cls, source: str | Path) -> Preprocessor:
        """Build from YAML text, or from a ``.yaml``/``.yml`` file (a Path or path string).

        Raises InvalidArgument (bad YAML or declaration), NotFound (no such file).
        """
        import yaml

        try:
            data = yaml.safe_load(_read(source))
        except yaml.YAMLError as exc:
            raise InvalidArgument(
                f"the preprocessing declaration is not valid YAML: {exc}"
            ) from exc
        return cls.from_dict(data)


def _take(y: Any, keep: Array) -> Any:
    if y is None:
        return None
    if isinstance(y, pd.Series | pd.DataFrame):
        return y[keep]
    return np.asarray(y)[keep]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _step_to_dict(step: Step) -> dict[str, Any]:
    return {step.kind: {k: _plain(v) for k, v in step.get_params(deep=False).items()}}


def _step_from_dict(index: int, item: Any) -> Step:
    kinds = step_types()
    if not isinstance(item, Mapping) or len(item) != 1:
        raise InvalidArgument(
            f"step {index} must be a mapping with one key, the step name ({sorted(kinds)}), "
            f"got {item!r}"
        )
    ((kind, params),) = item.items()
    if kind not in kinds:
        raise InvalidArgument(f"step {index}: unknown step {kind!r}; valid steps: {sorted(kinds)}")
    params = {} if params is None else params
    cls = kinds[kind]
    allowed = cls._get_param_names()
    if not isinstance(params, Mapping):
        raise InvalidArgument(f"step {index} ({kind}): parameters must be a mapping of {allowed}")
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidArgument(
            f"step {index} ({kind}): unknown parameter(s) {unknown}; valid parameters: {allowed}"
        )
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidArgument(f"step {index} ({kind}): {exc}; valid parameters: {allowed}") from exc
    except InvalidArgument as exc:
        raise InvalidArgument(f"step {index} ({kind}): {exc}") from exc


def _read(source: str | Path) -> str:
    is_path = isinstance(source, Path) or (
        "\n" not in source and source.strip().endswith((".yaml", ".yml"))
    )
    if not is_path:
        return str(source)
    path = Path(source)
    if not path.is_file():
        raise NotFound(f"preprocessing file {str(path)!r} does not exist")
    return path.read_text(encoding="utf-8")
