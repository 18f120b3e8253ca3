"""Chance-corrected agreement: Krippendorff's alpha from coincidence matrices, vectorised over
any leading axes (emotions, bootstrap resamples), and a bootstrap over units.

Alpha is computed in three steps that each work on arrays:

1. ``value_counts``: a dense ``(raters, units)`` array with NaN = not rated becomes a
   ``(units, C)`` count matrix over the ``C`` distinct values;
2. ``unit_coincidences``: each unit's contribution to the ``(C, C)`` coincidence matrix
   (units with fewer than 2 ratings contribute nothing);
3. ``alpha_from_coincidences``: alpha from a summed coincidence matrix and a ``(C, C)`` distance
   matrix (``distance``; the level of measurement only enters here).

Because coincidences add over units, a bootstrap over units only needs resampled sums of the
per-unit contributions (``bootstrap_sums``), one matrix product for all resamples.

At the interval level (delta = squared difference) the coincidence sums reduce to four moments per
unit (``interval_moments``), so continuous ratings need no ``(C, C)`` matrix and alpha for every
emotion and resample is one matrix product too (``interval_alpha``).

The same module holds the other pairwise statistics of the HQ analysis, each vectorised over
rater pairs and emotions: quadratic-weighted Cohen's kappa on the 8 levels 0-7
(``quadratic_kappa``, with the two ways of mapping ratings onto the levels in ``discretize``),
Spearman's rho along an axis with missing values (``spearman``), and bootstrap means for
differences of two means (``bootstrap_means``).
"""

from __future__ import annotations

import warnings

import numpy as np

#: Levels of measurement that :func:`distance` knows.
LEVELS = ("nominal", "interval")


def distance(values, level: str = "nominal") -> np.ndarray:
    """Squared-difference function delta of Krippendorff's alpha as a ``(C, C)`` matrix over the
    sorted distinct ``values`` (nominal: 0 on the diagonal, 1 elsewhere; interval:
    ``(v_c - v_k) ** 2``)."""
    values = np.asarray(values)
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "interval":
        v = values.astype(float)
        return (v[:, None] - v[None, :]) ** 2
    raise ValueError(f"unknown level of measurement {level!r}; choose one of {LEVELS}")


def value_counts(ratings) -> tuple[np.ndarray, np.ndarray]:
    """Count matrix of a ``(raters, units)`` array (NaN = not rated).

    Returns ``(counts, values)``: ``counts[u, c]`` = how many raters gave unit ``u`` the value
    ``values[c]`` (shape ``(units, C)``, int), ``values`` = the sorted distinct values.
    """
    ratings = np.asarray(ratings, dtype=float)
    if ratings.ndim != 2:
        raise ValueError(f"expected a (raters, units) array, got shape {ratings.shape}")
    rated = ~np.isnan(ratings)
    values, codes = np.unique(ratings[rated], return_inverse=True)
    counts = np.zeros((ratings.shape[1], len(values)), dtype=np.int64)
    np.add.at(counts, (np.nonzero(rated)[1], codes), 1)
    return counts, values


def unit_coincidences(counts) -> np.ndarray:
    """Per-unit coincidence contributions ``(n_uc n_uk - [c=k] n_uc) / (m_u - 1)``.

    ``counts``: ``(..., units, C)`` counts of each value per unit. Returns ``(..., units, C, C)``
    (float); units with fewer than 2 ratings (not pairable) give zeros.
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=-1)
    outer = counts[..., :, None] * counts[..., None, :]
    outer -= counts[..., :, None] * np.eye(counts.shape[-1])
    scale = np.divide(1.0, m - 1, out=np.zeros_like(m), where=m > 1)
    return outer * scale[..., None, None]


def alpha_from_coincidences(coincidences, delta) -> np.ndarray:
    """Alpha ``1 - (n - 1) sum(o * delta) / sum(n_c n_k delta)`` from summed coincidences.

    ``coincidences``: ``(..., C, C)``; ``delta``: ``(C, C)``. Returns an array of shape ``(...)``;
    NaN where the expected disagreement is 0 (fewer than 2 pairable values, or only one value).
    """
    o = np.asarray(coincidences, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = np.einsum("...c,ck,...k->...", n_c, delta, n_c)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where(expected > 0, alpha, np.nan)


def krippendorff_alpha(ratings=None, *, counts=None, values=None, level: str = "nominal") -> float:
    """Krippendorff's alpha of one set of ratings.

    Parameters
    ----------
    ratings : array_like, shape (raters, units), optional
        Ratings, NaN where a rater did not rate a unit. Give this or ``counts``.
    counts : array_like, shape (units, C), optional
        How often each unit got each of ``C`` values (a count matrix instead of ``ratings``).
    values : array_like, shape (C,), optional
        The sorted values the columns of ``counts`` stand for (default ``0..C-1``).
    level : {"nominal", "ordinal", "interval", "ratio"}
        The level of measurement: which distance (:func:`distance`) disagreement is measured in.

    Returns
    -------
    float
        Alpha: 1 is perfect agreement, 0 what chance gives, below 0 systematic disagreement. Units
        with fewer than 2 ratings contribute nothing.

    Examples
    --------
    >>> r = np.array([[1, 2, 3, 3], [1, 2, 3, 4], [np.nan, 2, 3, 3]])
    >>> round(krippendorff_alpha(r, level="interval"), 4), round(krippendorff_alpha(r), 4)
    (0.8958, 0.7561)
    """
    if (ratings is None) == (counts is None):
        raise ValueError("give exactly one of ratings or counts")
    if ratings is not None:
        counts, values = value_counts(ratings)
    elif values is None:
        values = np.arange(np.shape(counts)[-1])
    o = unit_coincidences(counts).sum(axis=-3)
    return float(alpha_from_coincidences(o, distance(values, level)))


def bootstrap_weights(n_units: int, n_boot: int, seed) -> np.ndarray:
    """Multiplicities of each unit in bootstrap resamples with replacement.

    Parameters
    ----------
    n_units : int
        Units drawn from (e.g. images).
    n_boot : int
        Resamples.
    seed : int, sequence of int or numpy.random.Generator
        What ``numpy.random.default_rng`` accepts (an int, or a key such as
        :func:`emonet.stats.seeds.keyed_seed` gives). A ``Generator`` is drawn from where it stands
        and left where a loop of ``n_boot`` ``rng.choice(n_units, n_units)`` calls would leave it
        (the authors' order).

    Returns
    -------
    ndarray of int, shape (n_boot, n_units)
        Row ``b``: how often each unit was drawn in resample ``b`` (each row sums to ``n_units``).
        All draws come from one call, so resample ``b`` is the same whatever is computed from it.

    Examples
    --------
    >>> bootstrap_weights(4, 3, seed=0)
    array([[0, 1, 2, 1],
           [3, 1, 0, 0],
           [1, 0, 1, 2]])
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_units, size=(n_boot, n_units))
    flat = (picks + n_units * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units)


def bootstrap_sums(contributions, n_boot: int = 1000, seed: int = 42) -> np.ndarray:
    """Sums of per-unit ``contributions`` (``(units, ...)``) over bootstrap resamples of the units.

    Returns ``(n_boot, ...)``: resample ``b`` weights unit ``u`` by how often it was drawn.
    """
    contributions = np.asarray(contributions, dtype=float)
    n_units = contributions.shape[0]
    weights = bootstrap_weights(n_units, n_boot, seed).astype(float)
    sums = weights @ contributions.reshape(n_units, -1)
    return sums.reshape(n_boot, *contributions.shape[1:])


def percentile_ci(samples, level: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap resamples.

    Parameters
    ----------
    samples : array_like, shape (B, ...) along ``axis``
        A statistic on ``B`` resamples; NaN resamples are ignored.
    level : float
        Coverage of the interval (0.95: the 2.5th and 97.5th percentiles).
    axis : int
        The axis of the resamples.

    Returns
    -------
    low, high : ndarray, shape (...)
        The bounds, NaN where every resample is NaN.

    Examples
    --------
    >>> low, high = percentile_ci(np.arange(101.0), level=0.5)
    >>> float(low), float(high)
    (25.0, 75.0)
    """
    samples = np.moveaxis(np.asarray(samples, dtype=float), axis, 0)
    tail = (1.0 - level) / 2.0
    flat = samples.reshape(len(samples), -1)
    some = ~np.isnan(flat).all(axis=0)
    bounds = np.full((2, flat.shape[1]), np.nan)
    bounds[:, some] = np.nanquantile(flat[:, some], [tail, 1.0 - tail], axis=0)
    lo, hi = bounds.reshape(2, *samples.shape[1:])
    return lo, hi


def interval_moments(ratings) -> np.ndarray:
    """Per-unit sufficient statistics of interval alpha.

    ``ratings``: ``(raters, units, ...)`` with NaN = not rated. Returns ``(units, ..., 4)``:
    ``[m, s1, s2, d]`` of the pairable values of each unit (units with fewer than 2 ratings give
    zeros): their number ``m``, sum ``s1``, sum of squares ``s2`` and
    ``d = sum_{i != j} (x_i - x_j) ** 2 / (m - 1) = 2 (m s2 - s1 ** 2) / (m - 1)``, the unit's
    contribution to the observed disagreement. Alpha does not change when every value moves by a
    constant, so the values are first taken relative to their smallest value per trailing index:
    equal values then give exactly zero disagreement, free of rounding.
    """
    x = np.asarray(ratings, dtype=float)
    rated = ~np.isnan(x)
    lowest = np.fmin.reduce(x.reshape(-1, *x.shape[2:]), axis=0)  # NaN only where nothing rated
    x = x - np.where(np.isnan(lowest), 0.0, lowest)
    m = rated.sum(axis=0).astype(float)
    x0 = np.where(rated, x, 0.0)
    s1, s2 = x0.sum(axis=0), (x0 * x0).sum(axis=0)
    pairable = m > 1
    d = np.divide(2.0 * (m * s2 - s1 * s1), m - 1, out=np.zeros_like(m), where=pairable)
    return np.stack(
        [np.where(pairable, m, 0.0), np.where(pairable, s1, 0.0), np.where(pairable, s2, 0.0), d],
        axis=-1,
    )


def alpha_from_moments(moments) -> np.ndarray:
    """Interval alpha ``1 - (n - 1) D / (2 n S2 - 2 S1 ** 2)`` from moments summed over units.

    ``moments``: ``(..., 4)`` sums of :func:`interval_moments` (``n, S1, S2, D``). This is
    :func:`alpha_from_coincidences` with ``delta = (c - k) ** 2`` written in moments. Returns
    ``(...)``; NaN where the expected disagreement is 0 (fewer than 2 pairable values, or all
    equal).
    """
    n, s1, s2, d = np.moveaxis(np.asarray(moments, dtype=float), -1, 0)
    expected = 2.0 * (n * s2 - s1 * s1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (n - 1.0) * d / expected
    return np.where(expected > 0, alpha, np.nan)


def interval_alpha(ratings) -> np.ndarray:
    """Krippendorff's alpha (interval) for every trailing index at once (e.g. per emotion).

    Parameters
    ----------
    ratings : array_like, shape (raters, units, ...)
        Continuous or integer ratings, NaN where a rater did not rate a unit.

    Returns
    -------
    ndarray, shape (...)
        Alpha per trailing index (NaN where there is no expected disagreement), computed from four
        moments per unit (:func:`interval_moments`) instead of a coincidence matrix; equal to
        ``krippendorff_alpha(r, level="interval")`` for each index.

    Examples
    --------
    >>> r = np.array([[1, 2, 3, 3], [1, 2, 3, 4], [np.nan, 2, 3, 3]])
    >>> interval_alpha(r[:, :, None]).round(4)
    array([0.8958])
    """
    return alpha_from_moments(interval_moments(ratings).sum(axis=0))


#: Rating levels of the HQ scale (0..7) on which the weighted kappa is defined.
KAPPA_LEVELS = 8


#: Ways of mapping ratings onto the levels (see :func:`discretize`).
DISCRETIZE = ("truncate", "round")


def discretize(ratings, method: str = "truncate") -> np.ndarray:
    """Ratings mapped onto the kappa levels 0..7.

    Parameters
    ----------
    ratings : array_like
        Ratings or scores of any shape, possibly continuous or outside 0..7.
    method : {"truncate", "round"}
        ``"truncate"`` is the authors' ``astype(int)`` (towards zero: 3.9 -> 3, -0.5 -> 0) with
        scikit-learn's ``labels=range(8)``: a value that lands outside 0..7 has no level. ``"round"``
        rounds half up to the nearest level and clips to 0..7, so every rating keeps a level.

    Returns
    -------
    ndarray of float, the shape of ``ratings``
        Levels 0..7, NaN where a rating has no level.

    Examples
    --------
    >>> discretize([3.9, -0.5, 8.4, 2.5], "truncate")
    array([ 3.,  0., nan,  2.])
    >>> discretize([3.9, -0.5, 8.4, 2.5], "round")
    array([4., 0., 7., 3.])
    """
    x = np.asarray(ratings, dtype=float)
    top = KAPPA_LEVELS - 1
    if method == "truncate":
        levels = np.trunc(x)
        with np.errstate(invalid="ignore"):
            return np.where((levels >= 0) & (levels <= top), levels + 0.0, np.nan)
    if method == "round":
        return np.clip(np.floor(x + 0.5), 0, top)
    raise ValueError(f"unknown discretization {method!r}; choose one of {DISCRETIZE}")


def quadratic_kappa(levels, rated=None, min_shared: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic-weighted Cohen's kappa for every pair of raters, per trailing index.

    With weights ``(i - j) ** 2`` kappa is ``1 - N sum (x - y) ** 2 / (N (Sxx + Syy) - 2 Sx Sy)``
    over the units where both raters have a level: the number
    ``sklearn.metrics.cohen_kappa_score(x, y, weights="quadratic", labels=range(8))`` gives.

    Parameters
    ----------
    levels : array_like, shape (raters, units, ...)
        Integer levels 0..7, NaN where a rater has no level (:func:`discretize`).
    rated : array_like of bool, shape (raters, units), optional
        What each rater rated before discretization (default: any level on the unit).
    min_shared : int
        Rated units a pair must share to get a kappa (the authors' ``len(dropna()) >= 2``).

    Returns
    -------
    kappa : ndarray, shape (raters, raters, ...)
        NaN on the diagonal, for pairs sharing too few units and where kappa is undefined (no
        pair of levels left, or no expected disagreement).
    n : ndarray, shape (raters, raters, ...)
        The units each kappa rests on.

    Examples
    --------
    >>> levels = np.array([[0, 3, 5, 7, 2], [1, 3, 4, 7, 2], [0, 2, 5, 6, np.nan]])
    >>> kappa, n = quadratic_kappa(levels)
    >>> kappa.round(3)
    array([[  nan, 0.96 , 0.96 ],
           [0.96 ,   nan, 0.906],
           [0.96 , 0.906,   nan]])
    >>> n[0, 2]
    np.float64(4.0)
    """
    v = np.asarray(levels, dtype=float)
    valid = ~np.isnan(v)
    r, u = v.shape[:2]
    rest = v.shape[2:]
    t = int(np.prod(rest))  # trailing size, explicit so that no units (u = 0) still reshapes
    if rated is None:
        rated = valid.reshape(r, u, t).any(axis=-1)
    rated = np.asarray(rated, dtype=float)
    shared = rated @ rated.T  # (raters, raters)
    # (trailing, raters, units) so that every sum over units is one batched matrix product
    mask = np.ascontiguousarray(np.moveaxis(valid.reshape(r, u, t), -1, 0), dtype=float)
    x = np.ascontiguousarray(np.moveaxis(np.where(valid, v, 0.0).reshape(r, u, t), -1, 0))
    mt = np.ascontiguousarray(np.swapaxes(mask, 1, 2))
    n = mask @ mt  # units where both have a level
    sx = x @ mt  # [a, b]: sum of a's levels over those units
    sxx = (x * x) @ mt  # [a, b]: sum of a's squared levels
    sxy = x @ np.ascontiguousarray(np.swapaxes(x, 1, 2))
    observed = sxx + np.swapaxes(sxx, 1, 2) - 2.0 * sxy
    expected = n * (sxx + np.swapaxes(sxx, 1, 2)) - 2.0 * sx * np.swapaxes(sx, 1, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = 1.0 - n * observed / expected
    ok = (expected > 0) & (shared >= min_shared)[None] & ~np.eye(r, dtype=bool)[None]
    kappa = np.where(ok, kappa, np.nan)
    back = (r, r, *rest)
    return np.moveaxis(kappa, 0, -1).reshape(back), np.moveaxis(n, 0, -1).reshape(back)


def _ranks(x, axis: int) -> np.ndarray:
    """Average ranks (1-based, ties share their mean rank) along ``axis``; NaN stays NaN."""
    from scipy.stats import rankdata

    return rankdata(x, axis=axis, nan_policy="omit")


def spearman(x, y, axis: int = 0, min_n: int = 2) -> np.ndarray:
    """Spearman's rho of ``x`` and ``y`` along an axis, over the positions where both are known.

    Parameters
    ----------
    x, y : array_like, broadcastable to one shape
        Values; NaN marks a missing one.
    axis : int
        The axis along which the pairs lie (e.g. the 40 emotions, or the images).
    min_n : int
        Known pairs needed for a rho.

    Returns
    -------
    ndarray, the broadcast shape without ``axis``
        Pearson's r of the average ranks, as ``scipy.stats.spearmanr`` gives on the known pairs;
        NaN where fewer than ``min_n`` pairs remain or either side is constant there.

    Examples
    --------
    >>> float(spearman([1, 2, 3, 4], [1, 3, 2, 4]))
    0.8
    >>> float(spearman([1, 2, np.nan, 4], [2, 1, 3, 5]))
    0.5
    """
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    both = ~(np.isnan(x) | np.isnan(y))
    rx = _ranks(np.where(both, x, np.nan), axis)
    ry = _ranks(np.where(both, y, np.nan), axis)
    n = both.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = np.where(both, rx - np.nansum(rx, axis=axis, keepdims=True) / n, 0.0)
        dy = np.where(both, ry - np.nansum(ry, axis=axis, keepdims=True) / n, 0.0)
        sxy, sxx, syy = ((a * b).sum(axis=axis) for a, b in ((dx, dy), (dx, dx), (dy, dy)))
        rho = sxy / np.sqrt(sxx * syy)
    ok = (np.squeeze(n, axis=axis) >= min_n) & (sxx > 0) & (syy > 0)
    return np.where(ok, rho, np.nan)


def nanmean(x, axis=None) -> np.ndarray:
    """Mean over the known values along ``axis`` (NaN where none is known), without warnings."""
    x = np.asarray(x, dtype=float)
    known = ~np.isnan(x)
    count = known.sum(axis=axis)
    total = np.where(known, x, 0.0).sum(axis=axis)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def nanstd(x, axis: int, ddof: int = 1) -> np.ndarray:
    """Standard deviation (``ddof``: n - ddof in the divisor) over the known values along
    ``axis`` (NaN where at most ``ddof`` are known), without warnings."""
    x = np.asarray(x, dtype=float)
    known = ~np.isnan(x)
    count = known.sum(axis=axis)
    dev = np.where(known, x - np.expand_dims(nanmean(x, axis=axis), axis), 0.0)
    return np.sqrt(
        np.divide(
            (dev * dev).sum(axis=axis),
            count - ddof,
            out=np.full(count.shape, np.nan),
            where=count > ddof,
        )
    )


def nanmedian(x, axis=None) -> np.ndarray:
    """Median over the known values along ``axis`` (NaN where none is known), without
    warnings."""
    x = np.asarray(x, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: NaN, as documented
        return np.nanmedian(x, axis=axis)


def bootstrap_means(values, n_boot: int = 1000, seed=42) -> np.ndarray:
    """``(n_boot,)`` means of ``values`` over bootstrap resamples drawn with ``seed``.

    The values are sorted first, so the result depends only on the multiset of values, not on
    the order in which they were collected. The difference of two such arrays drawn with their
    own seeds is the bootstrap distribution of a difference of means of independent samples.
    """
    values = np.sort(np.asarray(values, dtype=float))
    return bootstrap_weights(len(values), n_boot, seed) @ values / len(values)
