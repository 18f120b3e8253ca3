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
_BLOCK = 256


def _float32_exact(weights: np.ndarray, *levels: np.ndarray) -> bool:
    """Whether float32 products give the weighted sums of :func:`resampled_kappa` exactly: whole
    weights and levels, and every sum (of levels, of squares, of squared differences) an integer
    below 2 ** 24, where float32 still counts every integer."""
    whole = all(np.array_equal(v, np.round(v)) for v in (weights, *levels))
    if not whole or weights.size == 0:
        return False
    top = max((np.abs(v).max(initial=0.0) for v in levels), default=0.0)
    return float(np.abs(weights).sum(axis=1).max()) * max(1.0, 4.0 * top**2) < 2**24


def resampled_kappa(x, y, weights, shared=None, min_shared: int = MIN_SHARED) -> np.ndarray:
    """Quadratic-weighted kappa of pairs of raters on bootstrap resamples of the units.

    A resample counts unit ``u`` ``w_u`` times, so every sum of
    :func:`emonet.stats.agreement.quadratic_kappa` becomes a weighted sum:
    ``1 - N sum w (x - y) ** 2 / (N (Sxx + Syy) - 2 Sx Sy)``.

    The six sums of every pair come from one matrix product; with whole levels and weights they
    are exact integers, so the product runs in float32 (twice as fast) whenever float32 still
    holds them exactly, with the same result as in float64.

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
        raise ValueError(
            f"x {x.shape} and y {y.shape} need the same shape (m, ...) and weights "
            f"(B, m), got {w.shape}"
        )
    m, rest = x.shape[0], x.shape[1:]
    both = ~(np.isnan(x) | np.isnan(y))
    x0, y0 = np.where(both, x, 0.0).reshape(m, -1), np.where(both, y, 0.0).reshape(m, -1)
    v = both.reshape(m, -1)
    pairs = v | True if shared is None else np.broadcast_to(shared, x.shape).reshape(m, -1)
    dtype = np.float32 if _float32_exact(w, x0, y0) else np.float64
    w_c = w.astype(dtype)
    out = np.full((w.shape[0], v.shape[1]), np.nan)
    for start in range(0, v.shape[1], _CHUNK):
        cols = slice(start, start + _CHUNK)
        a, b = x0[:, cols], y0[:, cols]
        k = a.shape[1]
        # one product for the six sums; unit-major (Fortran) columns multiply fastest
        parts = np.empty((m, 6 * k), dtype=dtype, order="F")
        parts[:, :k], parts[:, k : 2 * k], parts[:, 2 * k : 3 * k] = v[:, cols], a, b
        parts[:, 3 * k : 4 * k] = a * a + b * b
        parts[:, 4 * k : 5 * k] = (a - b) ** 2
        parts[:, 5 * k :] = pairs[:, cols]
        n, sx, sy, squares, observed, units = np.split(w_c @ parts, 6, axis=1)
        # products in float64 (a float32 product of two sums could round)
        expected = np.multiply(n, squares, dtype=np.float64)
        expected -= 2.0 * np.multiply(sx, sy, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = 1.0 - np.multiply(n, observed, dtype=np.float64) / expected
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


def _mid_ranks(tied: np.ndarray) -> np.ndarray:
    """Mid-ranks ``(B, G)`` of tie groups from their weights ``(B, G)`` in value order: the
    weight of the smaller values plus ``(weight of the group + 1) / 2``."""
    below = np.cumsum(tied, axis=1)
    below -= tied
    return below + (tied + 1.0) / 2.0


class _Cells:
    """The distinct ``(x tie group, y tie group)`` pairs of one column's units, sorted by x then
    y: ``units`` (the units in that order), ``starts`` (where each cell starts in it), each
    cell's ``x`` and ``y`` group, where each x group starts among the cells (``x_starts``), and
    the cells in y order with the start of each y group (``y_order``, ``y_starts``). A
    resample's weight of a cell, of an x group or of a y group is then a sum over contiguous
    runs (``np.add.reduceat``)."""

    def __init__(self, x_group: np.ndarray, y_group: np.ndarray):
        n_y = int(y_group.max()) + 1
        order, self.starts, _ = _rank_groups(x_group * n_y + y_group)
        key = (x_group * n_y + y_group)[order[self.starts]]
        self.units, self.x, self.y = order, key // n_y, key % n_y
        self.x_starts = np.flatnonzero(np.r_[True, self.x[1:] != self.x[:-1]])
        self.y_order = np.argsort(self.y, kind="stable")
        ordered = self.y[self.y_order]
        self.y_starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])

    def weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(cells, x groups, y groups)`` weights ``(B, ...)`` from unit weights ``w``
        ``(B, units)`` in ``units`` order (a level of no ties is passed through)."""
        cells = w if len(self.starts) == w.shape[1] else np.add.reduceat(w, self.starts, axis=1)
        wx = (
            cells
            if len(self.x_starts) == len(self.x)
            else np.add.reduceat(cells, self.x_starts, axis=1)
        )
        wy = np.add.reduceat(np.take(cells, self.y_order, axis=1), self.y_starts, axis=1)
        return cells, wx, wy


def resampled_spearman(x, y, weights, min_n: int = 2) -> np.ndarray:
    """Spearman's rho of each column of ``x`` and ``y`` on bootstrap resamples of the units, over the
    units where both are known.

    The mean rank of ``n`` values is ``(n + 1) / 2`` whatever the ties and every mid-rank is a
    multiple of 1/2, so the weighted sums are exact and the rank variances need only the tie groups.

    A resample's ranks come from the weights of each side's tie groups, and the cross sum from the
    weights of the cells (the distinct pairs of an x and a y group: a panel's integer ratings
    against a median have a few dozen, where a loop over the units has hundreds).

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
        raise ValueError(
            f"x {x.shape} and y {y.shape} need the same shape (U, K) and weights "
            f"(B, U), got {w_all.shape}"
        )
    out = np.full((w_all.shape[0], x.shape[1]), np.nan)
    # Whole multiplicities are summed as integers: numpy's running and segment sums of int64
    # are several times faster than of floats, and give the same (exact) values.
    if np.array_equal(w_all, np.round(w_all)) and np.abs(w_all).max(initial=0) < 2**53:
        w_all = w_all.astype(np.int64)
    for k in range(x.shape[1]):
        keep = np.flatnonzero(~(np.isnan(x[:, k]) | np.isnan(y[:, k])))
        if len(keep) < 2:
            continue
        cells = _Cells(_rank_groups(x[keep, k])[2], _rank_groups(y[keep, k])[2])
        units = keep[cells.units]
        for first in range(0, w_all.shape[0], _BLOCK):  # blocks of resamples stay in cache
            # np.take keeps the gathered rows C-contiguous (an index on axis 1 does not), which
            # the running and segment sums along them need to be fast
            w, wx, wy = cells.weights(np.take(w_all[first : first + _BLOCK], units, axis=1))
            rx, ry = _mid_ranks(wx), _mid_ranks(wy)
            sxy = np.einsum(
                "bc,bc,bc->b",
                w,
                rx if wx is w else np.take(rx, cells.x, axis=1),
                np.take(ry, cells.y, axis=1),
            )
            out[first : first + _BLOCK, k] = rho_of_rank_sums(
                wx.sum(axis=1),
                sxy,
                np.einsum("bg,bg,bg->b", wx, rx, rx),
                np.einsum("bg,bg,bg->b", wy, ry, ry),
                min_n,
            )
    return out


def rho_of_rank_sums(n, sxy, sxx, syy, min_n: int = 2) -> np.ndarray:
    """Spearman's rho from the weighted sums of mid-ranks: ``n`` the weight, ``sxy``, ``sxx``,
    ``syy`` the sums of products and squares (uncentred; the mean rank is ``(n + 1) / 2``
    whatever the ties). NaN where ``n < min_n`` or a side is constant."""
    centre = n * ((n + 1.0) / 2.0) ** 2
    sxx, syy = sxx - centre, syy - centre
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (sxy - centre) / np.sqrt(sxx * syy)
    return np.where((n >= min_n) & (sxx > 0) & (syy > 0), rho, np.nan)


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


def holm_reject(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down rejections at level ``alpha`` (NaN entries are not rejected and do not
    count in the family): going up from the smallest of ``k`` p-values, the ``i``-th is rejected
    while every one so far is at most ``alpha / (k - i + 1)``; the same comparisons as
    statsmodels' ``multipletests(method="holm")``, which also runs a full garbage collection on
    every call (a quarter of a second in a process that has imported torch)."""
    p = np.asarray(p_values, dtype=float)
    out = np.zeros(p.shape, dtype=bool)
    known = np.flatnonzero(~np.isnan(p))
    order = known[np.argsort(p[known], kind="stable")]
    k = len(order)
    passed = p[order] <= alpha / np.arange(k, 0, -1)
    out[order] = np.logical_and.accumulate(passed)
    return out
