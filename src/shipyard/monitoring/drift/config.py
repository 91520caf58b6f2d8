"""Drift settings: which test each column gets, its significance level and effect-size threshold.

A column is **drifted** when its test is significant (p-value below ``alpha``, for the tests that
have one) **and** its effect size reaches the threshold. At 100,000 rows every difference is
significant, so the effect size is what separates a shift that matters from noise.

========================  ============  =========================================  =========
test                      kind          effect size                                threshold
========================  ============  =========================================  =========
``ks`` (numeric default)  numeric       Wasserstein / reference std                0.1
``wasserstein``           numeric       Wasserstein / reference std (no p-value)   0.1
``psi``                   both          PSI (no p-value)                           0.2
``chi2`` (categ. default) categorical   Jensen-Shannon distance, base 2            0.1
``jensenshannon``         categorical   Jensen-Shannon distance (no p-value)       0.1
========================  ============  =========================================  =========

>>> DriftConfig.from_dict({"alpha": 0.01, "columns": {"age": {"threshold": 0.2}}}).threshold_for(
...     "age", "ks")
0.2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from shipyard.errors import ConfigError, NotFound

__all__ = ["DEFAULT_THRESHOLDS", "KINDS", "TESTS", "ColumnConfig", "DriftConfig"]

Kind = Literal["numeric", "categorical"]
KINDS: tuple[str, ...] = ("numeric", "categorical")
# test name -> the kinds it applies to
TESTS: dict[str, tuple[str, ...]] = {
    "ks": ("numeric",),
    "wasserstein": ("numeric",),
    "psi": ("numeric", "categorical"),
    "chi2": ("categorical",),
    "jensenshannon": ("categorical",),
}
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.1,
    "wasserstein": 0.1,
    "psi": 0.2,
    "chi2": 0.1,
    "jensenshannon": 0.1,
}


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(f"{what} must be a number in (0, 1], not {value!r}")
    return float(value)


def _threshold(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{what} must be a number >= 0, not {value!r}")
    return float(value)


def _check_test(test: Any, what: str, kind: str | None = None) -> str:
    if test not in TESTS:
        raise ConfigError(f"{what}: unknown test {test!r}; choose one of {', '.join(TESTS)}")
    if kind is not None and kind not in TESTS[test]:
        fits = [t for t, kinds in TESTS.items() if kind in kinds]
        raise ConfigError(
            f"{what}: test {test!r} does not apply to {kind} columns; use one of {', '.join(fits)}"
        )
    return str(test)


def _only(data: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"{what}: unknown field(s) {unknown}; valid fields: {', '.join(allowed)}")


@dataclass(frozen=True)
class ColumnConfig:
    """Settings of one column; ``None`` means the configuration-wide default.

    ``kind`` forces "numeric" or "categorical" (e.g. an integer code that is really a category).
    """

    kind: str | None = None
    test: str | None = None
    threshold: float | None = None
    alpha: float | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise ConfigError(f"kind must be 'numeric' or 'categorical', not {self.kind!r}")
        if self.test is not None:
            _check_test(self.test, "column test", self.kind)
        if self.threshold is not None:
            object.__setattr__(self, "threshold", _threshold(self.threshold, "threshold"))
        if self.alpha is not None:
            object.__setattr__(self, "alpha", _fraction(self.alpha, "alpha"))

    def to_dict(self) -> dict[str, Any]:
        """The settings that are set (not None), as plain data."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class DriftConfig:
    """How ``compute_drift`` tests each column and when the dataset counts as drifted.

    - ``numeric_test`` / ``categorical_test``: the default test per kind (``ks``, ``chi2``);
    - ``alpha``: significance level for tests with a p-value (0.05);
    - ``thresholds``: effect-size threshold per test name, over ``DEFAULT_THRESHOLDS``;
    - ``drift_share``: the dataset drifts when at least this share of tested columns does (0.5);
    - ``psi_bins``: reference-quantile bins of numeric PSI (10); ``plot_bins``: bins of the
      report's numeric histograms (20); ``plot_categories``: categories shown per column (20);
    - ``columns``: per-column :class:`ColumnConfig` overrides.

    Raises:
        ConfigError: a value is out of range or names an unknown test or kind.
    """

    numeric_test: str = "ks"
    categorical_test: str = "chi2"
    alpha: float = 0.05
    thresholds: Mapping[str, float] = field(default_factory=dict)
    drift_share: float = 0.5
    psi_bins: int = 10
    plot_bins: int = 20
    plot_categories: int = 20
    columns: Mapping[str, ColumnConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_test(self.numeric_test, "numeric_test", "numeric")
        _check_test(self.categorical_test, "categorical_test", "categorical")
        object.__setattr__(self, "alpha", _fraction(self.alpha, "alpha"))
        object.__setattr__(self, "drift_share", _fraction(self.drift_share, "drift_share"))
        for name in ("psi_bins", "plot_bins", "plot_categories"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 1000:
                raise ConfigError(f"{name} must be an integer from 2 to 1000, not {value!r}")
        merged = dict(DEFAULT_THRESHOLDS)
        for test, value in dict(self.thresholds).items():
            merged[_check_test(test, "thresholds")] = _threshold(value, f"thresholds.{test}")
        object.__setattr__(self, "thresholds", merged)
        columns = {}
        for name, col in dict(self.columns).items():
            if not isinstance(col, ColumnConfig):
                raise ConfigError(f"columns.{name} must be a ColumnConfig, not {col!r}")
            columns[str(name)] = col
        object.__setattr__(self, "columns", columns)

    def column(self, name: str) -> ColumnConfig:
        """The overrides of column ``name`` (empty when it has none)."""
        return self.columns.get(name) or ColumnConfig()

    def test_for(self, name: str, kind: str) -> str:
        """The test column ``name`` of ``kind`` gets.

        Raises:
            ConfigError: its configured test does not apply to ``kind``.
        """
        test = self.column(name).test
        if test is None:
            return self.numeric_test if kind == "numeric" else self.categorical_test
        return _check_test(test, f"columns.{name}.test", kind)

    def threshold_for(self, name: str, test: str) -> float:
        """The effect-size threshold of column ``name`` under ``test``."""
        own = self.column(name).threshold
        return own if own is not None else self.thresholds[test]

    def alpha_for(self, name: str) -> float:
        """The significance level of column ``name``."""
        own = self.column(name).alpha
        return own if own is not None else self.alpha

    def with_thresholds(self, thresholds: Mapping[str, float]) -> DriftConfig:
        """A copy with per-column ``thresholds`` ({column: threshold}) set over this one's."""
        columns = dict(self.columns)
        for name, value in thresholds.items():
            old = columns.get(name) or ColumnConfig()
            columns[name] = ColumnConfig(old.kind, old.test, value, old.alpha)
        return DriftConfig(**{**self._fields(), "columns": columns})

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (what ``from_dict`` reads back)."""
        out = self._fields()
        out["thresholds"] = dict(self.thresholds)
        out["columns"] = {name: col.to_dict() for name, col in self.columns.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DriftConfig:
        """Settings from plain data, e.g. the ``drift:`` section of ``shipyard.yaml``.

        Raises:
            ConfigError: an unknown field or an invalid value (the message names it).
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigError(f"drift settings must be a mapping, not {type(data).__name__}")
        names = tuple(f.name for f in fields(cls))
        _only(data, names, "drift settings")
        values = dict(data)
        raw_columns = values.pop("columns", None) or {}
        if not isinstance(raw_columns, Mapping):
            raise ConfigError("drift settings: columns must map column names to settings")
        columns = {}
        for name, col in raw_columns.items():
            col = col or {}
            if not isinstance(col, Mapping):
                raise ConfigError(f"columns.{name} must be a mapping of kind/test/threshold/alpha")
            _only(col, ("kind", "test", "threshold", "alpha"), f"columns.{name}")
            try:
                columns[str(name)] = ColumnConfig(**col)
            except ConfigError as exc:
                raise ConfigError(f"columns.{name}: {exc}") from exc
        if not isinstance(values.get("thresholds", {}), Mapping):
            raise ConfigError("drift settings: thresholds must map test names to numbers")
        return cls(**values, columns=columns)

    @classmethod
    def from_yaml(cls, source: str | Path) -> DriftConfig:
        """Settings from YAML text or a ``.yaml``/``.yml`` file (a top-level ``drift:`` key is
        accepted, so ``shipyard.yaml`` itself works).

        Raises:
            ConfigError: the YAML does not parse or holds invalid settings.
            NotFound: the file does not exist.
        """
        import yaml

        is_path = isinstance(source, Path) or (
            "\n" not in source and source.strip().endswith((".yaml", ".yml"))
        )
        if is_path:
            path = Path(source)
            if not path.is_file():
                raise NotFound(f"drift settings file {str(path)!r} does not exist")
            source = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(str(source))
        except yaml.YAMLError as exc:
            raise ConfigError(f"drift settings are not valid YAML: {exc}") from exc
        if isinstance(data, Mapping) and "drift" in data:  # not a field: shipyard.yaml's section
            data = data["drift"]
        return cls.from_dict(data)
