"""The blind study's top-k lists: each side's k highest non-zero categories per image, their
overlap, and the overlap's chance level under random pairings of images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.hq import paper_statistics
from emonet.model_vs_experts.joined import check_wide
from emonet.stats import seeds


def _aligned(model: pd.DataFrame, human: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    check_wide(model, "model")
    check_wide(human, "human")
    if not model.index.equals(human.index):
        raise ValueError("model and human tables must have the same images in the same order")
    return model.to_numpy(dtype=float), human.to_numpy(dtype=float)


def top_k_sets(values, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The lists the blind study's compare view shows: per row of ``values`` ``(images, 40)``
    its ``k`` highest non-zero categories (fewer where fewer are non-zero), ties broken at
    random by one uniform key per value drawn from ``rng``.

    Returns ``(sets, tie_at_cut)``: ``(images, 40)`` bool, and ``(images,)`` bool, True where the
    k-th and the (k+1)-th values are equal and non-zero (the draw chose which is listed).
    """
    v = np.asarray(values, dtype=float)
    order = np.lexsort((rng.random(v.shape), -v), axis=-1)
    ranked = np.take_along_axis(v, order, axis=-1)
    sets = np.zeros(v.shape, dtype=bool)
    np.put_along_axis(sets, order, (np.arange(v.shape[-1]) < k) & (ranked != 0), axis=-1)
    return sets, (ranked[:, k - 1] == ranked[:, k]) & (ranked[:, k] != 0)


def _tie_stream(seed: int, side: str) -> np.random.Generator:
    """The seeded stream that breaks the ties of one side's lists (``side``: its name)."""
    return np.random.default_rng(seeds.keyed_seed(seed, "top-k", side))


def top_k_overlap(
    model: pd.DataFrame, human: pd.DataFrame, k: int = 5, seed: int = 42
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per image, the overlap of the model's and the human median's lists (:func:`top_k_sets`,
    each side's ties broken by its own stream of ``seed``).

    Inputs: images x 40 (same index). Returns the table (columns ``overlap``, ``n_model``,
    ``n_human`` (the lists' lengths), ``model_tie_at_cut``, ``human_tie_at_cut``) and the two
    ``(images, 40)`` sets.
    """
    a, b = _aligned(model, human)
    first, model_tie = top_k_sets(a, k, _tie_stream(seed, "model"))
    second, human_tie = top_k_sets(b, k, _tie_stream(seed, "human median"))
    table = pd.DataFrame(
        {
            "overlap": (first & second).sum(axis=1),
            "n_model": first.sum(axis=1),
            "n_human": second.sum(axis=1),
            "model_tie_at_cut": model_tie,
            "human_tie_at_cut": human_tie,
        },
        index=model.index,
    )
    return table, first, second


#: Pairings of images drawn at once by :func:`overlap_null` (bounds its memory).
_PERMUTATION_BLOCK = 500


def overlap_null(first, second, n_perm: int, seed: int) -> dict:
    """The overlap of two lists per image against a permutation null: each image's ``first``
    list paired with another image's ``second`` list.

    ``first``, ``second``: ``(images, 40)`` bool. Returns ``mean`` (observed mean overlap),
    ``chance_mean`` and ``chance_shares`` (the mean and the distribution of the overlap over all
    pairings of two images, exact: the expectation under random pairing), and ``p``: one-sided,
    ``(1 + #pairings with a mean >= observed) / (1 + n_perm)`` over ``n_perm`` random
    permutations of the images (seeded).
    """
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    pairs = first @ second.T  # (images, images): overlap of i's first with j's second list
    n = len(pairs)
    observed = float(pairs.diagonal().mean())
    rng = np.random.default_rng(seed)
    exceed = 0
    for start in range(0, n_perm, _PERMUTATION_BLOCK):
        block = min(_PERMUTATION_BLOCK, n_perm - start)
        perms = rng.permuted(np.tile(np.arange(n), (block, 1)), axis=1)
        exceed += int((pairs[np.arange(n), perms].mean(axis=1) >= observed - 1e-12).sum())
    top = int(max(first.sum(axis=1).max(initial=0), second.sum(axis=1).max(initial=0)))
    return {
        "mean": observed,
        "chance_mean": float(pairs.mean()),
        "chance_shares": np.bincount(pairs.ravel(), minlength=top + 1) / pairs.size,
        "p": (1 + exceed) / (1 + n_perm),
    }


def overlap_chance(
    overlap: pd.Series, chance_shares: np.ndarray, chance_mean: float
) -> pd.DataFrame:
    """Observed distribution of the overlaps next to their permutation chance
    (:func:`overlap_null`). Columns ``overlap, observed, observed_share, chance_share``; a last
    row ``mean`` holds the mean overlap and its chance value."""
    levels = np.arange(max(len(chance_shares), int(overlap.max()) + 1))
    counts = overlap.value_counts().reindex(levels, fill_value=0)
    chance = np.zeros(len(levels))
    chance[: len(chance_shares)] = chance_shares
    table = pd.DataFrame(
        {
            "overlap": levels.astype(str),
            "observed": counts.to_numpy(),
            "observed_share": counts.to_numpy() / len(overlap),
            "chance_share": chance,
        }
    )
    mean = {
        "overlap": "mean",
        "observed": np.nan,
        "observed_share": overlap.mean(),
        "chance_share": chance_mean,
    }
    return pd.concat([table, pd.DataFrame([mean])], ignore_index=True)


def expert_top_k_overlap(panel, k: int = 5, seed: int = 42) -> tuple[pd.Series, float]:
    """For reference to the model's :func:`top_k_overlap`: per expert and rated image, the overlap
    of the expert's list with the list of the other experts' median (:func:`top_k_sets`, ties
    broken at random, each side by its own stream). Returns the overlaps of all (expert, image)
    pairs, indexed by ``(annotator, image)``, and their chance level: each expert's exact
    permutation chance (:func:`overlap_null`), weighted by the expert's images."""
    medians = paper_statistics.leave_one_out_medians(panel)
    parts, chance = [], 0.0
    for a in np.flatnonzero(panel.human):
        name = panel.annotators[a]
        rows = panel.rated[a] & ~np.isnan(medians[a]).any(axis=1)
        own, _ = top_k_sets(panel.ratings[a, rows], k, _tie_stream(seed, name))
        others, _ = top_k_sets(medians[a, rows], k, _tie_stream(seed, f"median without {name}"))
        overlap = (own & others).sum(axis=1)
        chance += (own.sum(axis=0) @ others.sum(axis=0)) / max(rows.sum(), 1)
        images = pd.Index(np.asarray(panel.images)[rows], name="image")
        parts.append(pd.concat({name: pd.Series(overlap, index=images)}, names=["annotator"]))
    overlaps = pd.concat(parts).rename("overlap")
    return overlaps, float(chance / max(len(overlaps), 1))
