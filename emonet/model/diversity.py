"""How diverse the images are in the encoder's eyes, as the authors measure it in their
``statistics/descriptive.ipynb``: the cosine similarity of every pair of image embeddings within
a group (an emotion, a family, a gender, an ethnicity string, an age, an age and gender), its
mean and SD; the mean similarity between and within the ethnicities of one (age, gender, emotion)
cell; and images whose embeddings are identical.

The authors compute each group's full similarity matrix and take its upper triangle, which holds
``n (n - 1) / 2`` values per group (about 22 million for a gender of the 20k Binary images). The
mean and SD need only two sums over the pairs, and both follow from the group's embeddings
without forming a pair: with unit rows ``u_i`` and ``s = sum_i u_i``,

* ``sum_{i<j} u_i . u_j = (|s|^2 - sum_i |u_i|^2) / 2``;
* ``sum_{i<j} (u_i . u_j)^2 = (|U^T U|_F^2 - sum_i |u_i|^4) / 2``, with the Frobenius norm taken
  of whichever of ``U^T U`` (``d x d``) and ``U U^T`` (``n x n``) is smaller (they are equal).

So a group costs ``O(n d min(n, d))`` time and ``O(min(n, d)^2)`` memory instead of ``O(n^2 d)``
and ``O(n^2)``; ``benchmarks/bench_diversity.py`` times it against a loop over the pairs. Sums run
in float64, about the group's mean embedding (:func:`pair_stats`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.data import taxonomy

#: The groupings of the authors' analysis: name -> the label columns that define a group.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "emotion": ("emotion",),
    "family": ("family",),
    "gender": ("gender",),
    "ethnicity": ("ethnicity",),
    "age": ("age",),
    "age x gender": ("age", "gender"),
}

#: The label columns an image needs (``family`` is derived from ``emotion``).
LABEL_COLUMNS = ("emotion", "ethnicity", "age", "gender")


class DiversityError(ValueError):
    """Embeddings or labels that the diversity analysis cannot use."""


def unit_rows(x: np.ndarray, ids) -> np.ndarray:
    """``(n, d)`` embeddings scaled to unit length, float64. A zero (or non-finite) embedding has
    no cosine: :class:`DiversityError` naming the first such image of ``ids`` and the count."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    bad = ~(np.isfinite(norms) & (norms > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DiversityError(
            f"image {ids[first]!r}: its embedding has no direction (norm "
            f"{norms[first]}); {int(bad.sum())} such image(s)"
        )
    return x / norms[:, None]


def pair_stats(u: np.ndarray) -> tuple[int, float, float]:
    """``(pairs, mean, sd)`` of ``u_i . u_j`` over the pairs ``i < j`` of the rows of ``u``
    ``(n, d)`` (SD over the pairs, ddof 1; NaN below 1 and 2 pairs), without forming the pairs.

    The sums of the module docstring, taken about the mean row ``m``: with ``v_i = u_i - m`` and
    ``a_i = m . v_i``, ``u_i . u_j = |m|^2 + t_ij`` where ``t_ij = a_i + a_j + v_i . v_j``, and
    the sum and sum of squares of ``t`` over the pairs are sums over the rows and the Frobenius
    norm of the Gram matrix of ``v``. Centring keeps the SD exact to rounding when the images are
    nearly alike (similarities near 1), where the raw sums would cancel.
    """
    n = len(u)
    if n < 2:
        return 0, np.nan, np.nan
    m = u.mean(axis=0)
    v = u - m
    a = v @ m
    vv = np.einsum("ij,ij->i", v, v)
    sv = v.sum(axis=0)  # 0 up to rounding
    gram = v.T @ v if v.shape[1] < n else v @ v.T
    pairs = n * (n - 1) // 2
    total = (n - 1) * a.sum() + (sv @ sv - vv.sum()) / 2.0
    squares = (
        (n - 2) * (a @ a)
        + a.sum() ** 2
        + 2.0 * (a @ (v @ sv) - a @ vv)
        + (np.einsum("ij,ij->", gram, gram) - vv @ vv) / 2.0
    )
    mean_t = total / pairs
    sd = np.sqrt(max(squares - pairs * mean_t**2, 0.0) / (pairs - 1)) if pairs > 1 else np.nan
    return pairs, float(m @ m + mean_t), float(sd)


def labels_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s :data:`LABEL_COLUMNS` with the emotion ``family`` added, one row per image;
    a missing column or an unknown emotion raises :class:`DiversityError`."""
    missing = [c for c in LABEL_COLUMNS if c not in frame]
    if missing:
        raise DiversityError(f"the image labels lack column(s) {missing}")
    out = frame[list(LABEL_COLUMNS)].reset_index(drop=True)
    out["family"] = out["emotion"].map(taxonomy.FAMILY_OF)
    if out["family"].isna().any():
        row = int(np.flatnonzero(out["family"].isna())[0])
        raise DiversityError(f"image label row {row}: unknown emotion {out['emotion'][row]!r}")
    return out


def group_similarity(
    u: np.ndarray, labels: pd.DataFrame, groupings: dict[str, tuple[str, ...]] = GROUPINGS
) -> pd.DataFrame:
    """Mean and SD of the cosine similarity of the image pairs within each group.

    ``u``: ``(n, d)`` unit rows (:func:`unit_rows`); ``labels``: :func:`labels_table` of the
    same images. Rows: first ``grouping`` "all" (every pair of images), then per grouping its
    groups in sorted order. Columns: ``grouping``, ``group`` (the labels joined by " / "),
    ``images``, ``pairs``, ``mean``, ``sd`` (over the pairs, ddof 1; NaN below 2 pairs).
    """
    rows = [{"grouping": "all", "group": "all images", "images": len(u), **_summary(pair_stats(u))}]
    for name, columns in groupings.items():
        for key, index in labels.groupby(list(columns), sort=True).indices.items():
            key = key if isinstance(key, tuple) else (key,)
            rows.append(
                {
                    "grouping": name,
                    "group": " / ".join(map(str, key)),
                    "images": len(index),
                    **_summary(pair_stats(u[index])),
                }
            )
    return pd.DataFrame(rows)


def _summary(stats: tuple[int, float, float]) -> dict:
    return dict(zip(("pairs", "mean", "sd"), stats))


def grouping_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per grouping of :func:`group_similarity`'s ``table`` (in its order): ``groups``, the
    ``pairs`` within them, ``mean`` (the mean similarity over all those pairs) and the lowest
    and highest group mean (``min_group_mean``, ``max_group_mean``)."""
    weighted = table.assign(total=table["mean"] * table["pairs"])
    out = weighted.groupby("grouping", sort=False).agg(
        groups=("group", "size"),
        pairs=("pairs", "sum"),
        total=("total", "sum"),
        min_group_mean=("mean", "min"),
        max_group_mean=("mean", "max"),
    )
    out.insert(2, "mean", out.pop("total") / out["pairs"])
    return out.reset_index()


def cross_similarity(u: np.ndarray, groups) -> pd.DataFrame:
    """Mean cosine similarity between the images of every two groups (``k x k``, groups sorted):
    off the diagonal over every pair with one image in each group, on the diagonal over the
    pairs of distinct images within the group (NaN for a group of one image: an image's
    similarity with itself, 1, is never counted)."""
    codes, names = pd.factorize(pd.Series(groups), sort=True)
    onehot = np.zeros((len(names), len(u)))
    onehot[codes, np.arange(len(u))] = 1.0
    sums = onehot @ u  # (k, d)
    counts = onehot.sum(axis=1)
    dots = sums @ sums.T
    self_dots = onehot @ np.einsum("ij,ij->i", u, u)
    pairs = np.outer(counts, counts)
    np.fill_diagonal(pairs, counts * (counts - 1))
    np.fill_diagonal(dots, np.diag(dots) - self_dots)
    means = np.divide(dots, pairs, out=np.full(dots.shape, np.nan), where=pairs > 0)
    return pd.DataFrame(
        means, index=pd.Index(names, name="ethnicity"), columns=pd.Index(names, name="ethnicity")
    )


def pick_cell(labels: pd.DataFrame, cell=None) -> tuple[int, str, str]:
    """The (age, gender, emotion) cell of the ethnicity heat map: ``cell`` if given (it must hold
    images), else the cell with the most ethnicity strings, then the most images, then first in
    sorted order."""
    keys = ["age", "gender", "emotion"]
    if cell is not None:
        age, gender, emotion = cell
        inside = (
            (labels["age"] == int(age))
            & (labels["gender"] == gender)
            & (labels["emotion"] == taxonomy.canonical(emotion))
        )
        if not inside.any():
            raise DiversityError(f"diversity_cell {list(cell)} holds no image")
        return int(age), gender, taxonomy.canonical(emotion)
    sizes = labels.groupby(keys, sort=True)["ethnicity"].agg(["nunique", "size"])
    best = sizes.sort_values(["nunique", "size"], ascending=False, kind="stable").index[0]
    return int(best[0]), str(best[1]), str(best[2])


def in_cell(labels: pd.DataFrame, cell: tuple[int, str, str]) -> np.ndarray:
    """Boolean mask of the images in the (age, gender, emotion) ``cell``."""
    age, gender, emotion = cell
    return (
        (labels["age"] == age) & (labels["gender"] == gender) & (labels["emotion"] == emotion)
    ).to_numpy()


def duplicates(x: np.ndarray, ids, roles) -> pd.DataFrame:
    """Images whose embeddings are identical (bit for bit), one row per set of such images:
    ``images`` (how many), ``ids`` and ``roles`` (joined by ", " in input order) and
    ``across_roles`` (the set spans more than one role). Empty when every embedding is unique.
    ``x``: ``(n, d)``; ``ids``, ``roles``: ``n`` labels."""
    x = np.ascontiguousarray(x)
    keys = x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    ids, roles = np.asarray(ids).astype(str), np.asarray(roles).astype(str)
    order = np.argsort(inverse.ravel(), kind="stable")  # the images of each embedding together
    starts = np.cumsum(counts) - counts
    rows = []
    for group in np.flatnonzero(counts > 1):
        members = np.sort(order[starts[group] : starts[group] + counts[group]])
        rows.append(
            {
                "images": len(members),
                "ids": ", ".join(ids[members]),
                "roles": ", ".join(roles[members]),
                "across_roles": len(set(roles[members])) > 1,
            }
        )
    rows.sort(key=lambda r: r["ids"])
    return pd.DataFrame(rows, columns=["images", "ids", "roles", "across_roles"])
