"""What a drift check returns: one :class:`ColumnDrift` per column inside a :class:`DriftReport`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring.drift.config import DriftConfig

__all__ = ["ColumnDrift", "Distribution", "DriftReport"]


@dataclass(frozen=True)
class Distribution:
    """Reference and current shares over the same bins, for plotting.

    Numeric columns: ``edges`` has one more value than the shares (equal-width bins over both
    sides' range, each closed on the left, the last on both ends); categorical: ``labels`` name
    the categories shown (the most frequent over both sides), and "(other)" gathers the rest.
    """

    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] | None = None
    labels: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        def opt(key: str) -> Any:
            value = data.get(key)
            return None if value is None else tuple(value)

        return cls(tuple(data["reference"]), tuple(data["current"]), opt("edges"), opt("labels"))


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column.

    ``test`` decided ``drifted``: p-value below ``alpha`` (for tests with one) and ``effect_size``
    at least ``threshold``. ``statistics`` holds every statistic computed for the column's kind
    (numeric: ``ks``, ``ks_p_value``, ``wasserstein``, ``wasserstein_norm``, ``psi``;
    categorical: ``chi2``, ``chi2_p_value``, ``dof``, ``jensenshannon``, ``psi``). ``n_ref`` and
    ``n_cur`` count non-null values. ``skipped`` says why a column could not be tested (all
    values null on a side); such a column is not drifted and not counted in the share.
    """

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    effect_size_name: str
    threshold: float
    alpha: float | None
    drifted: bool
    n_ref: int
    n_cur: int
    null_ref: int
    null_cur: int
    statistics: Mapping[str, float | None] = field(default_factory=dict)
    distribution: Distribution | None = None
    new_categories: tuple[str, ...] = ()
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data (what ``from_dict`` reads back)."""
        out = asdict(self)
        out["statistics"] = dict(self.statistics)
        out["new_categories"] = list(self.new_categories)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnDrift:
        values = dict(data)
        dist = values.pop("distribution", None)
        values["distribution"] = None if dist is None else Distribution.from_dict(dist)
        values["new_categories"] = tuple(values.get("new_categories") or ())
        values["statistics"] = dict(values.get("statistics") or {})
        return cls(**values)


@dataclass(frozen=True)
class DriftReport:
    """Drift of every tested column between a reference and a current set of rows.

    ``share_drifted`` is the share of tested (not skipped) columns that drifted and
    ``dataset_drift`` whether it reached ``config.drift_share``.

    >>> import pandas as pd
    >>> from shipyard.monitoring.drift import compute_drift
    >>> r = compute_drift(pd.DataFrame({"x": [1.0, 2, 3, 4]}), pd.DataFrame({"x": [9.0, 8, 7, 6]}))
    >>> r.column("x").test, r.column("x").statistic
    ('ks', 1.0)
    """

    columns: tuple[ColumnDrift, ...]
    n_ref_rows: int
    n_cur_rows: int
    config: DriftConfig
    duration_s: float = 0.0

    @property
    def tested(self) -> tuple[ColumnDrift, ...]:
        """The columns that were tested (not skipped)."""
        return tuple(c for c in self.columns if c.skipped is None)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the drifted columns, in column order."""
        return tuple(c.column for c in self.columns if c.drifted)

    @property
    def share_drifted(self) -> float:
        """Drifted columns / tested columns (0.0 when none was tested)."""
        tested = self.tested
        return sum(c.drifted for c in tested) / len(tested) if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Whether the share of drifted columns reached ``config.drift_share``."""
        return bool(self.tested) and self.share_drifted >= self.config.drift_share

    def column(self, name: str) -> ColumnDrift:
        """The result of column ``name``.

        Raises:
            NotFound: the report has no such column.
        """
        for col in self.columns:
            if col.column == name:
                return col
        names = ", ".join(c.column for c in self.columns)
        raise NotFound(f"the drift report has no column {name!r}; it has: {names}")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``from_dict`` reads back)."""
        return {
            "n_ref_rows": self.n_ref_rows,
            "n_cur_rows": self.n_cur_rows,
            "n_columns": len(self.columns),
            "n_tested": len(self.tested),
            "n_drifted": len(self.drifted_columns),
            "share_drifted": self.share_drifted,
            "drift_share": self.config.drift_share,
            "dataset_drift": self.dataset_drift,
            "drifted_columns": list(self.drifted_columns),
            "duration_s": self.duration_s,
            "config": self.config.to_dict(),
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The report ``to_dict`` produced (e.g. read back from history or over HTTP).

        Raises:
            InvalidArgument: ``data`` is not a drift report.
        """
        try:
            return cls(
                columns=tuple(ColumnDrift.from_dict(c) for c in data["columns"]),
                n_ref_rows=int(data["n_ref_rows"]),
                n_cur_rows=int(data["n_cur_rows"]),
                config=DriftConfig.from_dict(data.get("config")),
                duration_s=float(data.get("duration_s", 0.0)),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidArgument(f"not a drift report (to_dict output): {exc}") from exc
