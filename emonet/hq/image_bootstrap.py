"""Inference that respects the HQ design: the suite's statistics recomputed on bootstrap resamples
of the images (row 0 of every array: the point value), with basic bootstrap intervals and
p-values (:func:`annotator_intervals`, :func:`group_intervals`, :func:`like_for_like_table`,
:func:`paired_difference`).

Why images are resampled, why basic intervals, and the matched and like-for-like comparisons:
``docs/hq-statistics.md`` (*Inference that respects the design*).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.hq.panel import Panel, group_order
from emonet.hq.paper_statistics import COULD_BE_P, expert_units, leave_one_out_medians
from emonet.stats import agreement as ag
from emonet.stats import inference

EMOTIONS = list(taxonomy.EMOTIONS)


def image_resamples(panel: Panel, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(units, weights)``: :func:`emonet.hq.paper_statistics.expert_units` (panel indices, ``(U,)``) and
    ``(1 + n_boot, U)`` multiplicities: row 0 all ones (the data), then the resamples of
    :func:`emonet.stats.agreement.bootstrap_weights` with ``seed``, the same the alpha bootstrap
    of :func:`emonet.hq.paper_statistics.alpha_table` draws."""
    units = expert_units(panel)
    boot = ag.bootstrap_weights(len(units), n_boot, seed).astype(float)
    return units, np.vstack([np.ones((1, len(units))), boot])


def resampled_agreement(
    panel: Panel, units: np.ndarray, weights: np.ndarray, method: str = "truncate"
) -> np.ndarray:
    """``(R, annotators, 40)``: per resample (``weights``: ``(R, U)`` over ``units``) each
    annotator's mean quadratic kappa with the experts per emotion (an expert: with the other
    experts), as :func:`emonet.hq.paper_statistics.agreement_table` computes it from the data."""
    levels = ag.discretize(panel.ratings[:, units], method)
    rated = panel.rated[:, units]
    experts = np.flatnonzero(panel.human)
    kappa = np.full((len(weights), panel.n_annotators, len(experts), taxonomy.N_EMOTIONS), np.nan)
    for k, e in enumerate(experts):
        mine = rated[e]
        others = np.flatnonzero(np.arange(panel.n_annotators) != e)
        x = np.moveaxis(levels[others][:, mine], 0, 1)  # (m, partners, 40)
        y = np.broadcast_to(levels[e][mine][:, None], x.shape)
        shared = np.broadcast_to(rated[others][:, mine].T[..., None], x.shape)
        kappa[:, others, k] = inference.resampled_kappa(x, y, weights[:, mine], shared)
    return ag.nanmean(kappa, axis=2)


def resampled_rho(
    panel: Panel, units: np.ndarray, weights: np.ndarray, annotators=None
) -> np.ndarray:
    """``(R, len(annotators), 40)``: Spearman's rho of each annotator (default: all, panel
    order) against the human median (its own ratings left out) on every resample."""
    idx = (
        np.arange(panel.n_annotators)
        if annotators is None
        else np.array([panel.index(a) for a in annotators], dtype=int)
    )
    x = panel.ratings[idx][:, units]
    y = leave_one_out_medians(panel)[idx][:, units]
    flat = (np.moveaxis(v, 0, 1).reshape(len(units), -1) for v in (x, y))
    rho = inference.resampled_spearman(*flat, weights)
    return rho.reshape(len(weights), len(idx), taxonomy.N_EMOTIONS)


def resampled_matched(
    panel: Panel, units: np.ndarray, weights: np.ndarray, method: str = "truncate"
) -> np.ndarray:
    """``(R, annotators)``: the matched could-be difference of every annotator on every resample:
    the mean over pairs of experts ``e, f`` (neither the annotator ``a``) and emotions of
    ``(kappa(a, e) + kappa(a, f)) / 2 - kappa(e, f)``, all three on the images ``a``, ``e`` and
    ``f`` rated (a term is left out where ``kappa(e, f)`` or both of ``a``'s are undefined)."""
    levels = ag.discretize(panel.ratings[:, units], method)
    rated = panel.rated[:, units]
    total = np.zeros((len(weights), panel.n_annotators))
    count = np.zeros_like(total)
    for e, f in combinations(np.flatnonzero(panel.human), 2):
        pair = rated[e] & rated[f]
        who = np.flatnonzero(
            (np.arange(panel.n_annotators) != e) & (np.arange(panel.n_annotators) != f)
        )
        mine = rated[who][:, pair].T[..., None]  # (m, who, 1): the images a also rated
        a_levels = np.moveaxis(levels[who][:, pair], 0, 1)  # (m, who, 40)
        e_levels = np.where(mine, levels[e][pair][:, None], np.nan)
        f_levels = np.where(mine, levels[f][pair][:, None], np.nan)
        x = np.stack([a_levels, a_levels, e_levels], axis=2)  # (m, who, 3, 40)
        y = np.stack([e_levels, f_levels, f_levels], axis=2)
        shared = np.broadcast_to(mine[:, :, None], x.shape)
        kappa = inference.resampled_kappa(x, y, weights[:, pair], shared)  # (R, who, 3, 40)
        term = ag.nanmean(kappa[:, :, :2], axis=2) - kappa[:, :, 2]
        total[:, who] += np.nansum(term, axis=-1)
        count[:, who] += (~np.isnan(term)).sum(axis=-1)
    return np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)


def resampled_like_for_like(
    panel: Panel, units: np.ndarray, weights: np.ndarray, annotators
) -> np.ndarray:
    """``(R, len(annotators), experts, 40)``: each annotator's rho against each expert's
    reference, the median of the other experts, on the images that expert rated (and the
    annotator did), per emotion and resample; compare with the expert's own rho
    (:func:`resampled_rho`), which has the same reference on the same images."""
    experts = np.flatnonzero(panel.human)
    medians = leave_one_out_medians(panel)[experts][:, units]  # (experts, U, 40)
    rated = panel.rated[experts][:, units]
    idx = np.array([panel.index(a) for a in annotators], dtype=int)
    x = np.where(rated[None, :, :, None], panel.ratings[idx][:, None, units], np.nan)
    y = np.broadcast_to(medians[None], x.shape)
    flat = (np.moveaxis(v, 2, 0).reshape(len(units), -1) for v in (x, y))
    rho = inference.resampled_spearman(*flat, weights)
    return rho.reshape(len(weights), len(idx), len(experts), taxonomy.N_EMOTIONS)


@dataclass(frozen=True, eq=False)
class ImageBootstrap:
    """The suite's statistics on the data (row 0) and on ``n_boot`` image resamples: ``weights``
    ``(R, U)`` over the panel images ``units``; ``agreement`` and ``rho`` ``(R, annotators,
    40)``; ``matched`` ``(R, annotators)`` (panel order, ``R = 1 + n_boot``)."""

    panel: Panel
    units: np.ndarray
    weights: np.ndarray
    agreement: np.ndarray
    rho: np.ndarray
    matched: np.ndarray

    def mean_rho(self) -> np.ndarray:
        """``(R, annotators)``: mean rho over the emotions with one."""
        return ag.nanmean(self.rho, axis=-1)


def resample(
    panel: Panel, n_boot: int = 1000, seed: int = 42, method: str = "truncate"
) -> ImageBootstrap:
    """Agreement, rho and the matched comparison of every annotator of ``panel`` on the data and
    on ``n_boot`` resamples of its images (:func:`image_resamples` with ``seed``)."""
    units, weights = image_resamples(panel, n_boot, seed)
    return ImageBootstrap(
        panel,
        units,
        weights,
        resampled_agreement(panel, units, weights, method),
        resampled_rho(panel, units, weights),
        resampled_matched(panel, units, weights, method),
    )


def _interval(samples: np.ndarray, level: float) -> dict:
    """Point value (row 0), basic bootstrap interval and p-value of 0 from the resamples (rows
    1...; :func:`emonet.stats.inference.basic_interval`)."""
    lo, hi = inference.basic_interval(samples[0], samples[1:], level)
    return {
        "value": samples[0],
        "ci_low": lo,
        "ci_high": hi,
        "p_value": inference.basic_p(samples[0], samples[1:]),
    }


def annotator_intervals(res: ImageBootstrap, level: float = 0.95) -> pd.DataFrame:
    """Per annotator (panel order): mean kappa with the experts (``mean_kappa``) and mean rho
    against the human median (``mean_rho``), each with its interval over image resamples
    (``*_low``, ``*_high``), and the matched could-be difference (``matched_difference``, its
    interval, bootstrap ``p_value`` and ``could_be``: "yes" if p > 0.05, as the authors' rule)."""
    kappa = _interval(ag.nanmean(res.agreement, axis=-1), level)
    rho = _interval(res.mean_rho(), level)
    matched = _interval(res.matched, level)
    p = res.panel
    return pd.DataFrame(
        {
            "annotator": p.annotators,
            "group": p.groups,
            "human": p.human,
            "mean_kappa": kappa["value"],
            "kappa_low": kappa["ci_low"],
            "kappa_high": kappa["ci_high"],
            "mean_rho": rho["value"],
            "rho_low": rho["ci_low"],
            "rho_high": rho["ci_high"],
            "matched_difference": matched["value"],
            "matched_low": matched["ci_low"],
            "matched_high": matched["ci_high"],
            "p_value": matched["p_value"],
            "could_be": np.where(matched["p_value"] > COULD_BE_P, "yes", "no"),
        }
    )


def group_intervals(
    res: ImageBootstrap, level: float = 0.95, alpha: float = COULD_BE_P
) -> pd.DataFrame:
    """Every pair of annotator groups (display order): the difference of the groups' mean
    per-emotion agreement (all values of their annotators pooled, as the authors' samples) with
    its interval over image resamples and bootstrap p-value, Holm-adjusted over the pairs.
    Columns ``group1, group2, mean1, mean2, mean_difference, ci_low, ci_high, p_value, p_holm,
    reject`` (at ``alpha`` after Holm)."""
    groups = np.array(res.panel.groups)
    names = group_order(groups)
    means = {
        g: ag.nanmean(res.agreement[:, groups == g].reshape(len(res.weights), -1), axis=1)
        for g in names
    }
    rows = []
    for i, g1 in enumerate(names):
        for g2 in names[i + 1 :]:
            diff = {k: float(v) for k, v in _interval(means[g1] - means[g2], level).items()}
            rows.append(
                {
                    "group1": g1,
                    "group2": g2,
                    "mean1": means[g1][0],
                    "mean2": means[g2][0],
                    "mean_difference": diff["value"],
                    "ci_low": diff["ci_low"],
                    "ci_high": diff["ci_high"],
                    "p_value": diff["p_value"],
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "group1",
            "group2",
            "mean1",
            "mean2",
            "mean_difference",
            "ci_low",
            "ci_high",
            "p_value",
        ],
    )
    table["p_holm"] = inference.holm(table["p_value"].to_numpy(float))
    table["reject"] = table["p_holm"] <= alpha
    return table


#: The ``expert`` of a :func:`like_for_like_table` row that averages over the experts.
MEAN_OF_EXPERTS = "mean of experts"


def like_for_like_table(res: ImageBootstrap, annotators, level: float = 0.95) -> pd.DataFrame:
    """For each annotator of ``annotators`` and each expert, both scored against the expert's
    reference (the other experts' median on the expert's images): ``expert_rho`` and
    ``model_rho`` (means over the emotions) and ``difference`` (model - expert) with its
    interval over image resamples; then one row per annotator with expert
    :data:`MEAN_OF_EXPERTS`:
    the mean over the experts of each. Columns ``annotator, expert, expert_rho, model_rho,
    difference, ci_low, ci_high``."""
    panel = res.panel
    experts = np.flatnonzero(panel.human)
    model = ag.nanmean(
        resampled_like_for_like(panel, res.units, res.weights, annotators), axis=-1
    )  # (R, J, experts)
    own = res.mean_rho()[:, experts]  # (R, experts)
    rows = []
    for j, name in enumerate(annotators):
        parts = [(panel.annotators[e], own[:, k], model[:, j, k]) for k, e in enumerate(experts)]
        parts.append((MEAN_OF_EXPERTS, ag.nanmean(own, axis=1), ag.nanmean(model[:, j], axis=1)))
        for expert, theirs, ours in parts:
            diff = {k: float(v) for k, v in _interval(ours - theirs, level).items()}
            rows.append(
                {
                    "annotator": name,
                    "expert": expert,
                    "expert_rho": theirs[0],
                    "model_rho": ours[0],
                    "difference": diff["value"],
                    "ci_low": diff["ci_low"],
                    "ci_high": diff["ci_high"],
                }
            )
    return pd.DataFrame(rows)


def like_for_like_of(like: pd.DataFrame, annotator: str) -> tuple[pd.Series, pd.DataFrame, int]:
    """``(mean row, per-expert rows, how many experts it reaches)`` of ``annotator`` in a
    :func:`like_for_like_table`: reaching an expert means a rho at or above the expert's own on
    the expert's reference."""
    mine = like[like["annotator"] == annotator]
    per_expert = mine[mine["expert"] != MEAN_OF_EXPERTS]
    return (
        mine[mine["expert"] == MEAN_OF_EXPERTS].iloc[0],
        per_expert,
        int((per_expert["difference"] >= 0).sum()),
    )


def paired_difference(res: ImageBootstrap, first: str, second: str, level: float = 0.95) -> dict:
    """Mean rho of annotator ``first`` minus that of ``second`` on the same image resamples:
    ``difference, ci_low, ci_high, p_value`` (the paired bootstrap over images)."""
    mean = res.mean_rho()
    out = _interval(mean[:, res.panel.index(first)] - mean[:, res.panel.index(second)], level)
    return {
        "difference": float(out["value"]),
        **{k: float(out[k]) for k in ("ci_low", "ci_high", "p_value")},
    }
