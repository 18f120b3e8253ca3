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
"""

from __future__ import annotations

import numpy as np

#: Levels of measurement that :func:`distance` knows.
LEVELS = ("nominal",)


def distance(values, level: str = "nominal") -> np.ndarray:
    """Squared-difference function delta of Krippendorff's alpha as a ``(C, C)`` matrix over the
    sorted distinct ``values`` (nominal: 0 on the diagonal, 1 elsewhere)."""
    values = np.asarray(values)
    if level == "nominal":
        return 1.0 - np.eye(len(values))
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


def krippendorff_alpha(ratings=None, *, counts=None, values=None,
                       level: str = "nominal") -> float:
    """Krippendorff's alpha of a ``(raters, units)`` array (NaN = not rated), or of a
    ``(units, C)`` count matrix with its ``C`` sorted ``values`` (default ``0..C-1``)."""
    if (ratings is None) == (counts is None):
        raise ValueError("give exactly one of ratings or counts")
    if ratings is not None:
        counts, values = value_counts(ratings)
    elif values is None:
        values = np.arange(np.shape(counts)[-1])
    o = unit_coincidences(counts).sum(axis=-3)
    return float(alpha_from_coincidences(o, distance(values, level)))


def bootstrap_weights(n_units: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_units)`` multiplicities of each unit in ``n_boot`` resamples with replacement.

    All draws come from one ``numpy.random.Generator(PCG64(seed))`` call, so resample ``b`` is the
    same whatever is computed from it and in whichever order.
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
    """Percentile interval of bootstrap ``samples`` along ``axis`` (NaN resamples ignored; NaN
    where every resample is NaN)."""
    samples = np.moveaxis(np.asarray(samples, dtype=float), axis, 0)
    tail = (1.0 - level) / 2.0
    some = ~np.isnan(samples).all(axis=0)
    lo, hi = np.full((2, *samples.shape[1:]), np.nan)
    lo[some], hi[some] = np.nanquantile(samples[:, some], [tail, 1.0 - tail], axis=0)
    return lo, hi
