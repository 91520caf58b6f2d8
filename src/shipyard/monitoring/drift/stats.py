"""The drift statistics, in vectorized NumPy: two-sample KS, Wasserstein, PSI, chi-square, JS.

Each numeric column is sorted once per side; one stable merge of the two sorted runs then gives
both empirical CDFs at every observed value, from which the KS statistic (their largest gap) and
the Wasserstein distance (the area between them) follow in one pass. Histograms for PSI and for
the report's plots are ``searchsorted`` of a few edges into the sorted arrays. SciPy is used only
for distribution tails: ``kstwo.sf``/``chi2.sf`` for p-values, each computed in its column's
worker thread (so the slow exact tails of mid-sized samples overlap other columns' sorting), and
``ks_2samp`` itself for the exact p-value of small samples (as SciPy's ``method="auto"`` does).

The results equal SciPy's ``ks_2samp``, ``wasserstein_distance``, ``chi2_contingency`` and
``jensenshannon(..., base=2)`` (tests check them to 1e-9). PSI is

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i)

over bins ``i`` (numeric: the reference's deciles, outer bins open-ended; categorical: every
category seen on either side), with ``r_i``/``c_i`` the reference/current share of the bin, each
raised to at least ``PSI_EPSILON`` so that an empty bin stays finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXACT_KS_MAX_N",
    "PSI_EPSILON",
    "CategoricalStats",
    "NumericStats",
    "categorical_stats",
    "chi2_p_value",
    "ks_p_value",
    "numeric_stats",
    "psi",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

PSI_EPSILON = 1e-4
EXACT_KS_MAX_N = 10_000  # SciPy's method="auto": exact p-values up to this sample size


@dataclass(frozen=True)
class NumericStats:
    """The statistics of one numeric column (both sides non-empty, nulls dropped)."""

    ks: float
    wasserstein: float
    ref_std: float
    psi: float
    # the report's plot: shares of each side in common equal-width bins
    edges: tuple[float, ...]
    ref_shares: tuple[float, ...]
    cur_shares: tuple[float, ...]

    @property
    def wasserstein_norm(self) -> float:
        """The Wasserstein distance in units of the reference's standard deviation (the raw
        distance when the reference is constant)."""
        return self.wasserstein / self.ref_std if self.ref_std > 0 else self.wasserstein


@dataclass(frozen=True)
class CategoricalStats:
    """The statistics of one categorical column from its 2 x k table of counts."""

    chi2: float
    dof: int
    jensenshannon: float
    psi: float


def psi(
    ref_counts: npt.NDArray[np.integer] | Floats, cur_counts: npt.NDArray[np.integer] | Floats
) -> float:
    """The population stability index of two histograms over the same bins (module docstring).

    >>> round(psi(np.array([50, 50]), np.array([40, 60])), 6)
    0.040547
    """
    r = np.maximum(ref_counts / ref_counts.sum(), PSI_EPSILON)
    c = np.maximum(cur_counts / cur_counts.sum(), PSI_EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


CHUNK = 1 << 18  # values merged at a time: bounded memory, cache-sized work


def _merged_gaps(a: Floats, b: Floats, base: float, n: int, m: int) -> tuple[Floats, Floats]:
    """The merged sorted values of the sorted pieces ``a`` and ``b`` and ``n*m*(F_a - F_b)``
    at each, ``base`` being its value just before the pieces.

    The gaps are exact integers (in float64, exact below 2**53), scaled by the caller. Inside a
    run of equal values only the last position holds the right-continuous CDFs; the others are
    set to 0 (their width to the next value is 0, so the Wasserstein sum is unaffected and the
    KS maximum ignores them).
    """
    both = np.concatenate((a, b))
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    merged = both[order]
    # each value from a raises n*m*F_a by m, each from b raises n*m*F_b by n
    gaps = np.where(order < len(a), float(m), -float(n))
    gaps[0] += base
    np.cumsum(gaps, out=gaps)
    gaps[:-1][merged[1:] == merged[:-1]] = 0.0
    return merged, gaps


def _ks_wasserstein(a: Floats, b: Floats) -> tuple[float, float]:
    """The two-sample KS statistic and the Wasserstein distance of the sorted ``a`` and ``b``.

    The merged order is walked in pieces of about ``CHUNK`` values, cut at values taken from
    both sides so that a run of equal values never straddles two pieces; the KS maximum and
    the Wasserstein sum carry over from one piece to the next.
    """
    n, m = len(a), len(b)
    cuts = np.unique(np.concatenate((a[CHUNK // 2 :: CHUNK // 2], b[CHUNK // 2 :: CHUNK // 2])))
    ends_a = np.concatenate(([0], np.searchsorted(a, cuts, "left"), [n]))
    ends_b = np.concatenate(([0], np.searchsorted(b, cuts, "left"), [m]))
    top, area, last, last_gap = 0.0, 0.0, None, 0.0
    for k in range(len(ends_a) - 1):
        lo_a, hi_a, lo_b, hi_b = ends_a[k], ends_a[k + 1], ends_b[k], ends_b[k + 1]
        if lo_a == hi_a and lo_b == hi_b:
            continue
        base = float(lo_a) * m - float(lo_b) * n
        merged, gaps = _merged_gaps(a[lo_a:hi_a], b[lo_b:hi_b], base, n, m)
        top = max(top, float(gaps.max()), -float(gaps.min()))
        if last is not None:
            area += abs(last_gap) * (merged[0] - last)
        last, last_gap = merged[-1], gaps[-1]
        widths = np.diff(merged)
        np.abs(gaps, out=gaps)
        area += float(np.dot(gaps[:-1], widths))
    scale = float(n) * float(m)
    return top / scale, area / scale


def _shares_in_bins(sorted_values: Floats, inner_edges: Floats) -> Floats:
    """Counts of ``sorted_values`` in the bins the ``inner_edges`` cut (outer bins open), as
    ``numpy.histogram`` would place them: each bin closed on the left."""
    cuts = np.searchsorted(sorted_values, inner_edges, side="left")
    bounds = np.concatenate(([0], cuts, [len(sorted_values)]))
    return np.diff(bounds).astype(np.float64)


def _quantiles(sorted_values: Floats, qs: Floats) -> Floats:
    """``numpy.quantile(values, qs)`` (linear method) read off already sorted values."""
    pos = qs * (len(sorted_values) - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    out: Floats = sorted_values[lo] * (1 - frac) + sorted_values[hi] * frac
    return out


def numeric_stats(a: Floats, b: Floats, *, psi_bins: int, plot_bins: int) -> NumericStats:
    """KS statistic, Wasserstein distance, reference std, PSI and plot bins of the sorted,
    non-empty, null-free float64 arrays ``a`` (reference) and ``b`` (current)."""
    ks, wasserstein = _ks_wasserstein(a, b)
    deciles = np.unique(_quantiles(a, np.linspace(0, 1, psi_bins + 1)[1:-1]))
    psi_value = psi(_shares_in_bins(a, deciles), _shares_in_bins(b, deciles))
    lo, hi = min(a[0], b[0]), max(a[-1], b[-1])
    edges = np.linspace(lo, hi, plot_bins + 1) if hi > lo else np.array([lo, lo])
    ref_counts = _shares_in_bins(a, edges[1:-1])
    cur_counts = _shares_in_bins(b, edges[1:-1])
    return NumericStats(
        ks=ks,
        wasserstein=wasserstein,
        ref_std=float(np.std(a)),
        psi=psi_value,
        edges=tuple(edges.tolist()),
        ref_shares=tuple((ref_counts / len(a)).tolist()),
        cur_shares=tuple((cur_counts / len(b)).tolist()),
    )


def categorical_stats(ref_counts: Ints, cur_counts: Ints) -> CategoricalStats:
    """Chi-square (2 x k contingency, Yates-corrected when k = 2, as ``chi2_contingency``),
    Jensen-Shannon distance (base 2) and PSI of the counts of the same k categories."""
    observed = np.vstack((ref_counts, cur_counts)).astype(np.float64)
    dof = observed.shape[1] - 1
    if dof == 0:
        chi2 = 0.0
    else:
        expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
        if dof == 1:  # Yates' continuity correction, as chi2_contingency(correction=True)
            diff = expected - observed
            observed = observed + np.sign(diff) * np.minimum(0.5, np.abs(diff))
        chi2 = float(np.sum((observed - expected) ** 2 / expected))
    return CategoricalStats(
        chi2=chi2,
        dof=dof,
        jensenshannon=_jensenshannon(ref_counts, cur_counts),
        psi=psi(ref_counts, cur_counts),
    )


def _jensenshannon(p_counts: Ints, q_counts: Ints) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q, base=2)`` of two count vectors."""
    p = p_counts / p_counts.sum()
    q = q_counts / q_counts.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    divergence = max((kl_p + kl_q) / 2 / np.log(2), 0.0)
    return float(np.sqrt(divergence))


def ks_p_value(a: Floats, b: Floats, statistic: float) -> float:
    """The two-sided KS p-value of the sorted samples ``a`` and ``b`` whose statistic is
    ``statistic``, as ``ks_2samp(method="auto")`` gives it: exact up to ``EXACT_KS_MAX_N``
    values per side (``ks_2samp``'s own computation: SciPy's exact distribution of the
    two-sample statistic has no public function), else Smirnov's distribution ``kstwo`` at
    ``round(n*m/(n+m))``."""
    from scipy.stats import ks_2samp, kstwo

    n, m = len(a), len(b)
    if max(n, m) <= EXACT_KS_MAX_N:
        return float(ks_2samp(a, b).pvalue)
    en = round(float(n) * float(m) / (n + m))
    return float(np.clip(kstwo.sf(statistic, en), 0, 1))


def chi2_p_value(statistic: float, dof: int) -> float:
    """The upper-tail chi-square p-value (1.0 for 0 degrees of freedom: a single category
    cannot drift in share)."""
    from scipy.stats import chi2

    return float(chi2.sf(statistic, dof)) if dof > 0 else 1.0
