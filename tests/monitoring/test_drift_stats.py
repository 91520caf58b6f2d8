"""Every drift statistic equals SciPy's on random data (to 1e-9), and PSI its documented formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.drift.stats import PSI_EPSILON, psi

TOL = 1e-9


def _close(ours: float | None, theirs: float) -> None:
    assert ours is not None
    assert abs(ours - theirs) <= TOL * max(1.0, abs(theirs)), (ours, theirs)


def _numeric_pair(rng: np.random.Generator, n: int, m: int, draw: str) -> tuple[np.ndarray, ...]:
    if draw == "normal":
        return rng.normal(0, 1, n), rng.normal(0.1, 1.2, m)
    if draw == "ties":  # heavy ties: small integers
        return rng.integers(0, 8, n).astype(float), rng.integers(0, 9, m).astype(float)
    if draw == "lognormal":
        return rng.lognormal(0, 1, n), rng.lognormal(0.05, 1, m)
    return rng.uniform(-5, 5, n), rng.uniform(-5, 6, m)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("draw", ["normal", "ties", "lognormal", "uniform"])
@pytest.mark.parametrize(("n", "m"), [(37, 53), (1_000, 1_000), (12_000, 15_001), (3, 20_000)])
def test_numeric_statistics_equal_scipy(seed: int, draw: str, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = _numeric_pair(rng, n, m, draw)
    report = compute_drift(pd.DataFrame({"v": x}), pd.DataFrame({"v": y}))
    col = report.column("v")
    ks = ks_2samp(x, y)  # method="auto": exact p-values up to 10,000 values, else asymptotic
    _close(col.statistics["ks"], float(ks.statistic))
    _close(col.statistics["ks_p_value"], float(ks.pvalue))
    _close(col.statistics["wasserstein"], wasserstein_distance(x, y))
    _close(col.statistics["wasserstein_norm"], wasserstein_distance(x, y) / np.std(x))
    assert col.test == "ks" and col.statistic == col.statistics["ks"]
    assert col.p_value == col.statistics["ks_p_value"]
    assert (col.n_ref, col.n_cur) == (n, m)


def _psi_formula(r_counts: np.ndarray, c_counts: np.ndarray) -> float:
    """The formula in docs/monitoring.md, written out term by term."""
    total = 0.0
    for rc, cc in zip(r_counts, c_counts, strict=True):
        r = max(rc / r_counts.sum(), PSI_EPSILON)
        c = max(cc / c_counts.sum(), PSI_EPSILON)
        total += (c - r) * np.log(c / r)
    return total


@pytest.mark.parametrize("seed", range(5))
def test_numeric_psi_is_the_documented_formula_over_reference_deciles(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.gamma(2, 2, 5_000), rng.gamma(2.2, 2, 4_000)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 11)[1:-1]))
    bins = np.concatenate(([-np.inf], edges, [np.inf]))
    expected = _psi_formula(np.histogram(x, bins)[0], np.histogram(y, bins)[0])
    col = compute_drift(pd.DataFrame({"v": x}), pd.DataFrame({"v": y})).column("v")
    _close(col.statistics["psi"], expected)


def _category_counts(ref: list[str], cur: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    labels = sorted(set(ref) | set(cur))
    r = np.array([ref.count(v) for v in labels])
    c = np.array([cur.count(v) for v in labels])
    return r, c, labels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("k_ref", "k_cur"), [(2, 2), (3, 4), (12, 12), (30, 25)])
def test_categorical_statistics_equal_scipy(seed: int, k_ref: int, k_cur: int) -> None:
    rng = np.random.default_rng(seed)
    ref = [f"v{i}" for i in rng.integers(0, k_ref, 700)]
    cur = [f"v{i}" for i in rng.integers(0, k_cur, 900)]
    r, c, _ = _category_counts(ref, cur)
    chi = chi2_contingency(np.vstack((r, c)))  # Yates-corrected for 2 categories, as ours
    col = compute_drift(pd.DataFrame({"v": ref}), pd.DataFrame({"v": cur})).column("v")
    _close(col.statistics["chi2"], float(chi.statistic))
    _close(col.statistics["chi2_p_value"], float(chi.pvalue))
    assert col.statistics["dof"] == chi.dof
    _close(col.statistics["jensenshannon"], float(jensenshannon(r, c, base=2)))
    _close(col.statistics["psi"], _psi_formula(r, c))
    assert col.test == "chi2" and col.effect_size == col.statistics["jensenshannon"]


def test_chi_square_is_two_sample_so_equal_samples_do_not_drift() -> None:
    """The reference's shares are estimates too: two samples of one distribution stay quiet
    even with many levels and rows (a one-sample test against the reference would not)."""
    rng = np.random.default_rng(7)
    shares = 1 / np.arange(1, 31) ** 0.8
    shares /= shares.sum()
    flagged = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        ref = rng.choice(30, 20_000, p=shares).astype(str)
        cur = rng.choice(30, 20_000, p=shares).astype(str)
        col = compute_drift(pa.table({"v": ref}), pa.table({"v": cur})).column("v")
        chi = chi2_contingency(np.vstack(_category_counts(list(ref), list(cur))[:2]))
        _close(col.p_value, float(chi.pvalue))
        flagged += col.p_value is not None and col.p_value < 0.05
    assert flagged <= 3  # about 1 in 20 by chance at alpha 0.05


def test_single_category_has_no_drift_and_scipy_agrees() -> None:
    col = compute_drift(pd.DataFrame({"v": ["a"] * 10}), pd.DataFrame({"v": ["a"] * 7})).column("v")
    chi = chi2_contingency(np.array([[10], [7]]))
    assert col.statistics["chi2"] == chi.statistic == 0.0
    assert col.p_value == chi.pvalue == 1.0
    assert col.statistics["dof"] == 0
    assert col.effect_size == 0.0 and col.statistics["psi"] == 0.0
    assert not col.drifted


def test_category_unseen_in_the_reference_counts_and_is_listed() -> None:
    ref = ["a"] * 60 + ["b"] * 40
    cur = ["a"] * 50 + ["b"] * 30 + ["new"] * 20
    col = compute_drift(pd.DataFrame({"v": ref}), pd.DataFrame({"v": cur})).column("v")
    r, c, labels = _category_counts(ref, cur)
    assert labels == ["a", "b", "new"]
    chi = chi2_contingency(np.vstack((r, c)))
    _close(col.statistics["chi2"], float(chi.statistic))
    _close(col.statistics["jensenshannon"], float(jensenshannon(r, c, base=2)))
    # PSI stays finite: the empty reference bin counts as PSI_EPSILON
    _close(col.statistics["psi"], _psi_formula(r, c))
    assert col.new_categories == ("new",)
    assert col.drifted


def test_psi_helper_matches_formula_and_handles_empty_bins() -> None:
    r, c = np.array([10, 0, 90]), np.array([5, 5, 90])
    assert psi(r, c) == pytest.approx(_psi_formula(r, c), abs=1e-12)
    assert psi(r, r) == 0.0


def test_nulls_and_nan_are_dropped_and_counted() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1, 300), rng.normal(0, 1, 200)
    x_nan = np.concatenate((x, [np.nan, np.inf, -np.inf]))
    ref = pa.table(
        {"v": pa.array(np.concatenate((x_nan, [0.0])), mask=np.array([False] * 303 + [True]))}
    )
    cur = pa.table({"v": pa.array(y)})
    col = compute_drift(ref, cur).column("v")
    assert (col.n_ref, col.null_ref, col.n_cur, col.null_cur) == (300, 4, 200, 0)
    _close(col.statistics["ks"], float(ks_2samp(x, y).statistic))
    _close(col.statistics["wasserstein"], wasserstein_distance(x, y))


@pytest.mark.parametrize("draw", ["normal", "ties"])
def test_statistics_are_the_same_when_merged_in_small_pieces(
    draw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KS and Wasserstein are computed piece by piece; tiny pieces (many boundaries, ties at
    the cuts) give SciPy's figures all the same."""
    from shipyard.monitoring.drift import stats

    monkeypatch.setattr(stats, "CHUNK", 8)
    rng = np.random.default_rng(11)
    x, y = _numeric_pair(rng, 3_000, 2_500, draw)
    col = compute_drift(pd.DataFrame({"v": x}), pd.DataFrame({"v": y})).column("v")
    _close(col.statistics["ks"], float(ks_2samp(x, y).statistic))
    _close(col.statistics["wasserstein"], wasserstein_distance(x, y))
