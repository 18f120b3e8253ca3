"""Inference over resamples of the units (images): the pairwise statistics of the HQ suite
recomputed on every bootstrap resample from weighted sums, and what turns resamples into tests.

A bootstrap resample of ``U`` units is a row of multiplicities ``w`` (``(B, U)`` for ``B``
resamples, :func:`emonet.stats.agreement.bootstrap_weights`): a statistic of the resampled data
is the same statistic with every unit counted ``w_u`` times. Sums over units then become
``weights @ per_unit_values``, one matrix product for all resamples:

* :func:`resampled_kappa`: quadratic-weighted Cohen's kappa (the sums of levels, squares and
  products that :func:`emonet.stats.agreement.quadratic_kappa` uses, weighted);
* :func:`resampled_spearman`: Spearman's rho, from mid-ranks in the resampled data (a value's
  rank is the weight below it plus half the weight tied with it, plus one half);
* :func:`basic_interval` and :func:`basic_p`: basic bootstrap intervals and the matching
  two-sided p-values (kappa is biased low in small samples, and its resamples lie lower still;
  a percentile interval would carry that bias over), and :func:`holm` (Holm's step-down
  adjustment of a family of p-values).

Each equals the straightforward computation on the expanded data (every unit repeated ``w_u``
times) with scikit-learn, scipy or statsmodels; the tests check it on random inputs.
"""

from __future__ import annotations

import numpy as np

#: Units (times their multiplicity) a pair must share for a kappa (the authors' ``>= 2`` rows).
MIN_SHARED = 2

#: Columns of per-unit values summed at once in :func:`resampled_kappa` (bounds its memory).
_CHUNK = 4096

#: Resamples ranked at once in :func:`resampled_spearman` (their arrays stay in the cache).
_BLOCK = 128


def resampled_kappa(x, y, weights, shared=None, min_shared: int = MIN_SHARED) -> np.ndarray:
    """Quadratic-weighted kappa of pairs of raters on bootstrap resamples of the units.

    A resample counts unit ``u`` ``w_u`` times, so every sum of
    :func:`emonet.stats.agreement.quadratic_kappa` becomes a weighted sum:
    ``1 - N sum w (x - y) ** 2 / (N (Sxx + Syy) - 2 Sx Sy)``.

    Parameters
    ----------
    x, y : array_like, shape (m, ...)
        Levels of the two raters of each pair on ``m`` units (NaN = no level,
        :func:`emonet.stats.agreement.discretize`).
    weights : array_like, shape (B, m)
        Multiplicities of the units in each resample (row of ones: the data as they are).
    shared : array_like of bool, shape (m, ...), optional
        The units each pair shares (both rated them, before discretization; default: all).
    min_shared : int
        Weight of shared units a pair needs in a resample for a kappa.

    Returns
    -------
    ndarray, shape (B, ...)
        Kappa per resample and pair; NaN where undefined. Equals scikit-learn's kappa on the
        expanded data (every unit repeated ``w_u`` times).

    Examples
    --------
    >>> x, y = np.array([0, 3, 5, 7, 2.0]), np.array([1, 4, 2, 7, 3.0])
    >>> w = np.array([[1, 1, 1, 1, 1], [2, 0, 1, 1, 1], [1, 1, 0, 2, 1]])
    >>> resampled_kappa(x, y, w).round(3)
    array([0.762, 0.811, 0.956])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.shape != y.shape or w.ndim != 2 or w.shape[1] != x.shape[0]:
        raise ValueError(f"x {x.shape} and y {y.shape} need the same shape (m, ...) and weights "
                         f"(B, m), got {w.shape}")
    m, rest = x.shape[0], x.shape[1:]
    both = ~(np.isnan(x) | np.isnan(y))
    x0, y0 = np.where(both, x, 0.0).reshape(m, -1), np.where(both, y, 0.0).reshape(m, -1)
    v = both.reshape(m, -1)
    pairs = v | True if shared is None else np.broadcast_to(shared, x.shape).reshape(m, -1)
    out = np.full((w.shape[0], v.shape[1]), np.nan)
    for start in range(0, v.shape[1], _CHUNK):
        cols = slice(start, start + _CHUNK)
        a, b = x0[:, cols], y0[:, cols]
        k = a.shape[1]
        # one product for the seven sums; unit-major (Fortran) columns multiply fastest
        parts = np.empty((m, 7 * k), order="F")
        parts[:, :k], parts[:, k:2 * k], parts[:, 2 * k:3 * k] = v[:, cols], a, b
        np.multiply(a, a, out=parts[:, 3 * k:4 * k])
        np.multiply(b, b, out=parts[:, 4 * k:5 * k])
        np.multiply(a, b, out=parts[:, 5 * k:6 * k])
        parts[:, 6 * k:] = pairs[:, cols]
        n, sx, sy, sxx, syy, sxy, units = np.split(w @ parts, 7, axis=1)
        observed = sxx + syy - 2.0 * sxy
        expected = n * (sxx + syy) - 2.0 * sx * sy
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = 1.0 - n * observed / expected
        out[:, cols] = np.where((expected > 0) & (units >= min_shared), kappa, np.nan)
    return out.reshape(w.shape[0], *rest)


def _rank_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, starts, group)`` of ``values`` ``(m,)``: the sorting order, where each run of
    equal values starts in it, and the run (tie group) of each unit (``(m,)``, unit order)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.empty(len(values), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return order, np.flatnonzero(new), group


def _group_ranks(weights: np.ndarray, order: np.ndarray, starts: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(G, B)`` of the tie groups in each resample (``weights``: ``(m, B)``, units
    first) and their mid-ranks: the weight of the smaller values plus ``(weight of the group
    + 1) / 2``, from one running sum over the sorted units."""
    running = np.cumsum(weights[order], axis=0)
    upto = running[np.r_[starts[1:], len(order)] - 1]
    below = np.vstack([np.zeros((1, upto.shape[1])), upto[:-1]])
    tied = upto - below
    return tied, below + (tied + 1.0) / 2.0


def resampled_spearman(x, y, weights, min_n: int = 2) -> np.ndarray:
    """Spearman's rho of each column of ``x`` and ``y`` on bootstrap resamples of the units, over the
    units where both are known.

    The mean rank of ``n`` values is ``(n + 1) / 2`` whatever the ties and every mid-rank is a
    multiple of 1/2, so the weighted sums are exact and the rank variances need only the tie groups.

    Parameters
    ----------
    x, y : array_like, shape (U,) or (U, K)
        Values of ``K`` columns (e.g. emotions) on ``U`` units; NaN marks a missing one.
    weights : array_like, shape (B, U)
        Multiplicities of the units in each resample.
    min_n : int
        Weight of known units a rho needs.

    Returns
    -------
    ndarray, shape (B, K)
        Rho per resample and column, as ``scipy.stats.spearmanr`` gives on the expanded data (each
        unit repeated ``w_u`` times); NaN where the known units weigh less than ``min_n`` or a side
        is constant.

    Examples
    --------
    >>> x, y = np.array([0, 3, 5, 7, 2.0]), np.array([1, 4, 2, 7, 3.0])
    >>> w = np.array([[1, 1, 1, 1, 1], [2, 0, 1, 1, 1], [1, 1, 0, 2, 1]])
    >>> resampled_spearman(x, y, w).round(3).ravel()
    array([0.7  , 0.895, 1.   ])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w_all = np.asarray(weights, dtype=float)
    if x.ndim == 1:
        x, y = x[:, None], y[:, None]
    if x.shape != y.shape or w_all.ndim != 2 or w_all.shape[1] != x.shape[0]:
        raise ValueError(f"x {x.shape} and y {y.shape} need the same shape (U, K) and weights "
                         f"(B, U), got {w_all.shape}")
    out = np.full((w_all.shape[0], x.shape[1]), np.nan)
    units_first = np.ascontiguousarray(w_all.T)  # (U, B): gathers of units are row gathers
    for k in range(x.shape[1]):
        keep = np.flatnonzero(~(np.isnan(x[:, k]) | np.isnan(y[:, k])))
        if len(keep) < 2:
            continue
        order, starts, x_group = _rank_groups(x[keep, k])
        y_order, y_starts, y_group = _rank_groups(y[keep, k])
        x_group, y_group = x_group[order], y_group[order]  # the tie groups in x's sorted order
        for first in range(0, w_all.shape[0], _BLOCK):  # blocks of resamples stay in cache
            w = units_first[keep, first:first + _BLOCK]
            wx, rx = _group_ranks(w, order, starts)
            wy, ry = _group_ranks(w, y_order, y_starts)
            sxy = np.einsum("ub,ub,ub->b", w[order], rx[x_group], ry[y_group])
            n = w.sum(axis=0)
            centre = n * ((n + 1.0) / 2.0) ** 2
            sxx = np.einsum("gb,gb,gb->b", wx, rx, rx) - centre
            syy = np.einsum("gb,gb,gb->b", wy, ry, ry) - centre
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = (sxy - centre) / np.sqrt(sxx * syy)
            out[first:first + _BLOCK, k] = np.where((n >= min_n) & (sxx > 0) & (syy > 0), rho,
                                                    np.nan)
    return out


def basic_interval(point, samples, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Basic (reverse percentile) bootstrap interval of a statistic.

    ``(2 point - q_hi, 2 point - q_lo)`` with ``q`` the percentiles of the resamples: it reads the
    resamples' spread around the point as the estimate's spread around the truth, so a statistic
    that comes out lower on resamples than on the data (a kappa, biased low in small samples) gets
    an interval corrected for that bias, where a percentile interval would carry it over.

    Parameters
    ----------
    point : array_like, shape (...)
        The statistic on the data.
    samples : array_like, shape (B, ...)
        The statistic on ``B`` resamples (NaN resamples ignored).
    level : float
        Coverage of the interval.

    Returns
    -------
    low, high : ndarray, shape (...)
        NaN where every resample is NaN.

    Examples
    --------
    >>> low, high = basic_interval(0.5, np.array([0.4, 0.45, 0.5, 0.55, 0.3]))
    >>> round(float(low), 3), round(float(high), 3)
    (0.455, 0.69)
    """
    from emonet.stats.agreement import percentile_ci

    point = np.asarray(point, dtype=float)
    q_lo, q_hi = percentile_ci(samples, level)
    return 2.0 * point - q_hi, 2.0 * point - q_lo


def basic_p(point, samples, null: float = 0.0) -> np.ndarray:
    """Two-sided bootstrap p-value of ``null`` that matches :func:`basic_interval`.

    The interval excludes ``null`` while fewer than ``alpha / 2`` of the resamples lie beyond
    ``2 point - null``; so ``p = min(1, 2 (1 + min(#{s >= 2 point - null}, #{s <= 2 point -
    null})) / (1 + B))`` over the ``B`` resamples that are not NaN.

    Parameters
    ----------
    point : array_like, shape (...)
        The statistic on the data.
    samples : array_like, shape (B, ...)
        The statistic on ``B`` resamples.
    null : float
        The value tested (0: no difference).

    Returns
    -------
    ndarray, shape (...)
        NaN where every resample is NaN.

    Examples
    --------
    >>> float(basic_p(0.5, np.array([0.4, 0.45, 0.5, 0.55, 0.3])))
    0.3333333333333333
    """
    s = np.asarray(samples, dtype=float)
    mirror = 2.0 * np.asarray(point, dtype=float) - null
    known = ~np.isnan(s)
    count = known.sum(axis=0)
    above = (known & (s >= mirror)).sum(axis=0)
    below = (known & (s <= mirror)).sum(axis=0)
    p = np.minimum(1.0, 2.0 * (1.0 + np.minimum(above, below)) / (1.0 + count))
    return np.where(count > 0, p, np.nan)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of one family of p-values.

    The ``i``-th smallest of ``k`` becomes ``max_{j <= i} min(1, (k - j + 1) p_(j))``; reject at
    level alpha where the adjusted value is at most alpha. Equals ``statsmodels``'
    ``multipletests(p, method="holm")``.

    Parameters
    ----------
    p_values : array_like, shape (k,)
        The family; NaN entries stay NaN and do not count in it.

    Returns
    -------
    ndarray, shape (k,)
        Adjusted p-values, in the input's order.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, np.nan])
    array([0.03, 0.06, 0.06,  nan])
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    known = np.flatnonzero(~np.isnan(p))
    order = known[np.argsort(p[known], kind="stable")]
    k = len(order)
    scaled = np.minimum(1.0, (k - np.arange(k)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
